"""The simulated :class:`~mremapctl.engine.Machine`: every primitive acts on the model."""

from __future__ import annotations

import errno
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from mremapctl import flags as F
from mremapctl.backends.sim import contents, kinds, residency
from mremapctl.backends.sim.call import Refused
from mremapctl.backends.sim.facts import Facts
from mremapctl.backends.sim.remap import simulate
from mremapctl.backends.sim.space import SOFT_DIRTY, SPECIAL, MergeRules, Obj, Pte, Space, Vma, new_anon_vma
from mremapctl.errors import BadInput, Unavailable
from mremapctl.kernel import Version, show
from mremapctl.kinds import KINDS
from mremapctl.primitives import MapRequest, Outcome
from mremapctl.results import MapEntry, PageRuns, fill_note
from mremapctl.rules import active_rules, get

MMAP_MIN_ADDR = 0x10000  # vm.mmap_min_addr: nothing is placed below it
UFFD_MODE_FLAGS = {1: "um", 2: "uw", 4: "ui"}
UFFD_MODE_NAMES = {1: "missing", 2: "wp", 4: "minor"}
MODELLED_ADVICE = frozenset(
    {
        "normal",
        "random",
        "sequential",
        "willneed",
        "dontneed",
        "free",
        "hugepage",
        "nohugepage",
        "dontfork",
        "dofork",
        "wipeonfork",
        "keeponfork",
        "dontdump",
        "dodump",
        "guard_install",
        "guard_remove",
    }
)
ADVICE_FLAGS = {
    "hugepage": ("hg", "nh"),
    "nohugepage": ("nh", "hg"),
    "dontfork": ("dc", None),
    "dofork": (None, "dc"),
    "wipeonfork": ("wf", None),
    "keeponfork": (None, "wf"),
    "dontdump": ("dd", None),
    "dodump": (None, "dd"),
}


def _never_locked(vma: Vma) -> bool:
    """mlock leaves VM_SPECIAL, hugetlb and secretmem VMAs as they are (mlock_fixup())."""
    return bool(vma.flags & SPECIAL) or "ht" in vma.flags or _secret(vma)


def _secret(vma: Vma) -> bool:
    """Memory removed from the kernel's direct map: nothing can pin or populate it."""
    return vma.kind is not None and KINDS[vma.kind].secret


def _err(name: str) -> Outcome:
    return Outcome(errno=getattr(errno, name))


class SimMachine:
    backend = "sim"

    def __init__(self, version: Version, facts: Optional[Facts] = None) -> None:
        self.version = version
        self.facts = facts or Facts()
        self.page_size = self.facts.page
        self.objects: Dict[str, Obj] = {}
        self.rules = active_rules(version)
        if self.facts.arch == "arm64" and not self.holds("arm64-vdso-grew"):
            self.facts.vdso_bytes = 4096
        merges = MergeRules(self.holds("sticky-flags"), self.holds("faulted-merges-unfaulted"))
        self.space = Space(merges, self.page_size)
        self.unaccounts_unfaulted = self.holds("mprotect-unaccounts-unfaulted")

    @property
    def name(self) -> str:
        """The modelled version as people write it, for messages (not made for every run)."""
        return show(self.version)

    # -- accounting the rules need ----------------------------------------------------------

    def locked_bytes(self) -> int:
        return sum(v.size for v in self.space if "lo" in v.flags)

    def total_bytes(self) -> int:
        return sum(v.size for v in self.space)

    def holds(self, rule_id: str) -> bool:
        """Whether a rule holds on this model's kernel: the simulator's one question about versions."""
        return rule_id in self.rules

    def _page_end(self, addr: int, size: int) -> int:
        """The end of [addr, addr+size) rounded up to a page, as the memory calls round lengths."""
        return addr + -(-size // self.page_size) * self.page_size

    def split_refusal(self, vma: Vma, start: int, end: int) -> Optional[str]:
        """The rule that refuses cutting [start, end) out of this VMA, if one holds (the perf ring
        buffer always refuses, other special mappings from 5.11, hugetlb where a cut is not on a
        huge page boundary)."""
        if start <= vma.start and vma.end <= end:
            return None
        if "ht" in vma.flags and any(vma.start < cut < vma.end and cut % self.facts.huge for cut in (start, end)):
            return "hugetlb-split-unaligned"
        rule = KINDS[vma.special].split_rule if vma.special else None
        return rule if rule is not None and self.holds(rule) else None

    def refused_unmap(self, start: int, end: int) -> None:
        """What a refused unmap leaves behind: a hugetlb VMA cut at the start (allowed there) stays cut
        when the cut at the end is the one refused, as munmap makes the first cut first."""
        first = self.space.find(start)
        if first is not None and "ht" in first.flags and first.start < start and start % self.facts.huge == 0:
            self.space.split(start)

    def free_range(self, length: int, hint: int = 0) -> int:
        """get_unmapped_area(): a free hint is honoured, else the highest gap below mmap_base."""
        if hint and hint % self.page_size == 0 and self.space.is_free(hint, hint + length):
            return hint
        top = self.facts.mmap_base
        while True:
            start = top - length
            if start < MMAP_MIN_ADDR:
                raise Refused("no-room")
            blocking = self.space.overlapping(start - self.page_size, top)
            if not blocking:
                # One free page below: in a real process the neighbour there is unknowable, so
                # the model never lets kernel-placed copies merge with each other either.
                return start
            top = min(v.start for v in blocking) - self.page_size

    def munmap_rule(self, start: int, end: int) -> Optional[str]:
        """Why munmap of [start, end) would fail (a rule id), or None."""
        hit = self.space.overlapping(start, end)
        if self.holds("sealed-vma-refuses") and any("sl" in v.flags for v in hit):
            return "sealed"
        return next((rule for rule in (self.split_refusal(v, start, end) for v in hit) if rule), None)

    def unmap(self, start: int, end: int) -> None:
        self.space.unmap(start, end)

    # -- regions ----------------------------------------------------------------------------

    def map_region(self, req: MapRequest) -> Outcome:
        size = kinds.region_size(req, self.facts)
        needs = KINDS[req.kind].needs_rule
        if needs is not None and not self.holds(needs):
            raise Unavailable(f"{req.kind} is off in the {self.name} model: {get(needs).text}")
        if size == 0:
            return _err("EINVAL")  # mmap refuses a zero length before anything else
        end = req.addr + size
        if not req.replace and not self.space.is_free(req.addr, end):
            return _err("EEXIST")
        if req.replace and self.munmap_rule(req.addr, end):
            return _err("EPERM")
        prot = req.prot | (F.PROT_READ | F.PROT_WRITE if req.fill is not None else 0)
        obj = kinds.object_for(req, size, self.page_size, self.objects)
        flags = kinds.vm_flags(req, prot, obj, self.holds)
        if "ac" in flags and size > self.facts.total_ram:
            return _err("ENOMEM")  # heuristic overcommit refuses one charge larger than RAM (swap: not modelled)
        if obj is not None and KINDS[req.kind].has_object and not req.same_as:
            self.objects[req.name] = obj
        if req.replace:
            self.unmap(req.addr, end)
        pgoff = req.addr // self.page_size if obj is None else 0
        vma = Vma(
            req.addr,
            end,
            flags | (SOFT_DIRTY if self.facts.soft_dirty else frozenset()),
            obj,
            pgoff,
            kind=req.kind,
            special=req.kind if KINDS[req.kind].special else None,
            page=self.page_size,
        )
        vma = self.space.merge_around(self.space.insert(vma))
        note = None
        if req.fill is not None:
            note = fill_note(self.write(req.addr, size, req.fill))
            if prot != req.prot:
                self.mprotect(req.addr, size, req.prot)
        return Outcome(value=req.addr, size=size, note=note)

    # -- syscalls -----------------------------------------------------------------------------

    def mremap(self, old: int, old_size: int, new_size: int, flags: int, new_addr: int) -> Outcome:
        value, rule_id = simulate(self, old, old_size, new_size, flags, new_addr)
        rule = get(rule_id)
        if value is None:
            return Outcome(errno=getattr(errno, rule.errno or "EINVAL"), rule=rule_id, explain=rule.text)
        return Outcome(value=value, rule=rule_id, explain=rule.text)

    def _range_ok(self, addr: int, size: int) -> Optional[Outcome]:
        if addr % self.page_size or size == 0:
            return _err("EINVAL")
        return None

    def _covered(self, start: int, end: int) -> bool:
        covered = start
        for vma in self.space.overlapping(start, end):
            if vma.start > covered:
                return False
            covered = vma.end
        return covered >= end

    def _set_flags(
        self,
        start: int,
        end: int,
        add: Sequence[str] = (),
        drop: Sequence[str] = (),
        skip: Callable[[Vma], bool] = lambda v: False,
    ) -> Optional[Outcome]:
        """Change flags on [start, end): VMAs are split only where the flags really change.

        Returns EINVAL when that needs splitting a special mapping that refuses to be split.
        """
        for vma in self.space.overlapping(start, end):
            changes = (vma.flags | set(add)) - set(drop) != vma.flags
            if changes and not skip(vma) and self.split_refusal(vma, start, end):
                return _err("EINVAL")
        for vma in self.space.overlapping(start, end):
            flags = (vma.flags | set(add)) - set(drop)
            if flags == vma.flags or skip(vma):
                continue
            for piece in self.space.isolate(max(start, vma.start), min(end, vma.end)):
                self.space.merge_around(self.space.replace_flags(piece, flags))
        return None

    def munmap(self, addr: int, size: int) -> Outcome:
        bad = self._range_ok(addr, size)
        if bad:
            return bad
        end = self._page_end(addr, size)
        rule = self.munmap_rule(addr, end)
        if rule:
            if rule == "hugetlb-split-unaligned":
                self.refused_unmap(addr, end)
            return _err("EPERM" if rule == "sealed" else "EINVAL")
        self.unmap(addr, end)
        return Outcome(value=0)

    def mprotect(self, addr: int, size: int, prot: int) -> Outcome:
        end = self._page_end(addr, size)
        if addr % self.page_size:
            return _err("EINVAL")
        if not self._covered(addr, end):
            return _err("ENOMEM")
        hit = self.space.overlapping(addr, end)
        if self.holds("sealed-vma-refuses") and any("sl" in v.flags for v in hit):
            return _err("EPERM")
        if prot & F.PROT_WRITE and any("mw" not in v.flags for v in hit):
            return _err("EACCES")
        if any(self.split_refusal(v, addr, end) for v in hit):
            return _err("EINVAL")
        for vma in self.space.isolate(addr, end):
            flags = (vma.flags - {"rd", "wr", "ex"}) | kinds.prot_flags(prot)
            if prot & F.PROT_WRITE:
                if not vma.flags & {"ac", "wr", "ht", "sh", "nr"} and vma.special is None:
                    flags |= {"ac"}  # a private mapping made writable is charged from now on
            elif "ac" in vma.flags and vma.anonymous and vma.anon_vma is None and self.unaccounts_unfaulted:
                flags -= {"ac"}
            self.space.merge_around(self.space.replace_flags(vma, frozenset(flags)))
        return Outcome(value=0)

    def mlock(self, addr: int, size: int, onfault: bool) -> Outcome:
        end = self._page_end(addr, size)
        if not self._covered(addr, end):
            return _err("ENOMEM")
        # Pages already locked are not counted again (the kernel subtracts them before comparing).
        already = sum(
            min(end, v.end) - max(addr, v.start) for v in self.space.overlapping(addr, end) if "lo" in v.flags
        )
        wanted = self.locked_bytes() + (end - addr) - already
        if "IPC_LOCK" not in self.facts.caps and wanted > self.facts.limits["memlock"]:
            return _err("ENOMEM" if self.facts.limits["memlock"] else "EPERM")
        refused = self._set_flags(addr, end, add=("lo", "lf") if onfault else ("lo",), skip=_never_locked)
        if refused:
            return refused
        if not onfault and any(
            not {"rd", "wr", "ex"} & v.flags or _secret(v) for v in self.space.overlapping(addr, end)
        ):
            return _err("ENOMEM")  # locked, but populating failed: PROT_NONE, or secretmem (no GUP)
        return Outcome(value=0)

    def munlock(self, addr: int, size: int) -> Outcome:
        end = self._page_end(addr, size)
        if not self._covered(addr, end):
            return _err("ENOMEM")
        return self._set_flags(addr, end, drop=("lo", "lf"), skip=_never_locked) or Outcome(value=0)

    def mseal(self, addr: int, size: int) -> Outcome:
        if self.holds("mseal-missing"):
            return _err("ENOSYS")
        bad = self._range_ok(addr, size)
        if bad:
            return bad
        end = self._page_end(addr, size)
        if not self._covered(addr, end):
            return _err("ENOMEM")
        if self.holds("mseal-merge-skipped"):
            self._seal_skipping_merges(addr, end)
            return Outcome(value=0)
        return self._set_flags(addr, end, add=("sl",)) or Outcome(value=0)

    def _seal_skipping_merges(self, start: int, end: int) -> None:
        """6.17 to 7.0 (6.19.11, 6.18.21): after a piece merged into the sealed VMA after it, the
        kernel went on from the piece's end, below the next VMA's start, and so did not merge that
        VMA with what precedes it."""
        behind: Optional[Vma] = None  # the VMA the next piece must not be merged with
        for vma in self.space.overlapping(start, end):
            if vma not in self.space.vmas or "sl" in vma.flags:
                continue  # merged into an earlier piece, or sealed already
            piece = self.space.isolate(max(start, vma.start), min(end, vma.end))[0]
            after = next((v for v in self.space.vmas if v.start == piece.end), None)
            merged = self.space.merge_around(self.space.replace_flags(piece, piece.flags | {"sl"}), exclude=behind)
            behind = merged if after is not None and "sl" in after.flags and merged.end > piece.end else None

    def madvise(self, addr: int, size: int, advice: int) -> Outcome:
        name = next(k for k, v in F.MADVISE.items() if v == advice)
        if name not in MODELLED_ADVICE:
            raise BadInput(
                f"madvise {name!r} is not modelled by the simulator (model {self.name}); "
                f"modelled: {', '.join(sorted(MODELLED_ADVICE))} — run it live"
            )
        if name.startswith("guard_") and self.holds("guard-advice-missing"):
            return _err("EINVAL")
        end = self._page_end(addr, size)
        if addr % self.page_size:
            return _err("EINVAL")
        if not self._covered(addr, end):
            return _err("ENOMEM")
        if name in ADVICE_FLAGS:
            add, drop = ADVICE_FLAGS[name]
            refused = self._set_flags(addr, end, add=[add] if add else [], drop=[drop] if drop else [])
            if refused:
                return refused
        elif name in ("dontneed", "free"):
            self.space.drop_ptes(addr, end)
        elif name == "guard_install":
            self.space.ptes.set(addr // self.page_size, end // self.page_size, Pte(guard=True))
            visible = self.holds("guard-flag-visible")
            for vma in self.space.overlapping(addr, end):
                if visible:  # the whole VMA, no split, no merge
                    self.space.replace_flags(vma, vma.flags | {"gu"})
                # the markers live in page tables an anon_vma stands for; with gu, file VMAs need none
                if vma.anon_vma is None and (vma.anonymous or not visible):
                    vma.anon_vma = new_anon_vma()
        elif name == "guard_remove":
            for lo, hi, pte in self.space.ptes.runs(addr // self.page_size, end // self.page_size):
                if pte.guard:
                    self.space.ptes.delete(lo, hi)
        return Outcome(value=0)

    def uffd_register(self, addr: int, size: int, mode: int) -> Outcome:
        for bit, rule_id in ((2, "uffd-wp-mode"), (4, "uffd-minor-mode")):
            if mode & bit and not self.holds(rule_id):
                since = get(rule_id).since
                raise BadInput(
                    f"userfaultfd {UFFD_MODE_NAMES[bit]} mode is not modelled before {since[0]}.{since[1]} "
                    f"(model {self.name})"
                )
        end = addr + size
        if addr % self.page_size or size % self.page_size or not self._covered(addr, end):
            return _err("EINVAL")
        if mode & 4 and any(v.obj is None or v.obj.backing != "shmem" for v in self.space.overlapping(addr, end)):
            return _err("EINVAL")  # minor faults exist only for shmem and hugetlbfs
        added = [f for bit, f in UFFD_MODE_FLAGS.items() if mode & bit]
        return self._set_flags(addr, end, add=added) or Outcome(value=0)

    def setrlimit(self, limits: Dict[str, int]) -> Outcome:
        self.facts.limits.update(limits)
        return Outcome(value=0)

    def drop_cap(self, cap: int) -> Outcome:
        from mremapctl.scenario.values import CAPABILITIES

        name = next(k for k, v in CAPABILITIES.items() if v == cap)
        self.facts.caps.discard(name)
        return Outcome(value=0)

    # -- contents -------------------------------------------------------------------------------

    def read_runs(self, addr: int, size: int) -> PageRuns:
        return contents.read_runs(self.space, addr, size)

    def write(self, addr: int, size: int, byte: int) -> PageRuns:
        return contents.write_runs(self.space, addr, size, byte)

    def snapshot(self, window: Optional[Sequence[Tuple[int, int]]], vm_flags: bool) -> Tuple[List[MapEntry], int]:
        entries = []
        counters = residency.Residency(self.space) if vm_flags else None
        for vma in self.space:
            if window is not None and not any(vma.start < e and s < vma.end for s, e in window):
                continue
            obj = vma.obj
            dev, inode = (obj.dev, obj.inode) if obj is not None and obj.backing != "special" else ("00:00", 0)
            entries.append(
                MapEntry(
                    vma.start,
                    vma.end,
                    vma.perms(),
                    vma.offset(),
                    dev,
                    inode,
                    vma.path,
                    vma.ordered_flags() if vm_flags else None,
                    memory=counters.memory_of(vma) if counters else None,
                )
            )
        return entries, 0
