"""Run a scenario on a machine: resolve expressions, track regions, collect results.

The engine is the same for every backend. A backend supplies a :class:`Machine` with one
method per primitive (map a region of a kind, mremap, read pages, snapshot the maps …).
The live backend runs the engine inside a forked child against real syscalls; the
simulator runs it in-process against its address-space model.
"""

from __future__ import annotations

from typing import Iterator, List, Optional, Tuple

from mremapctl import flags as F
from mremapctl.calls import errno_name, mmap_call, mremap_call
from mremapctl.lab import Lab
from mremapctl.primitives import Machine, MapRequest, Outcome, RunOptions
from mremapctl.resolve import Addr, Resolver, Size
from mremapctl.results import CRASHED, FAILED, OK, SKIPPED, MapEntry, StepResult
from mremapctl.scenario import steps as S
from mremapctl.scenario import values as V
from mremapctl.scenario.load import Scenario

# Ops after which the maps can have changed.
MAPPING_OPS = frozenset(
    {"mmap", "mremap", "munmap", "mprotect", "mlock", "munlock", "mseal", "madvise", "uffd_register"}
)


class Engine:
    """Runs one scenario on one machine, yielding each step's result as it completes."""

    def __init__(self, machine: Machine, scenario: Scenario, lab: Lab, options: Optional[RunOptions] = None) -> None:
        self.machine = machine
        self.scenario = scenario
        self.lab = lab
        self.options = options or RunOptions()
        self.page = machine.page_size
        self.resolver = Resolver(self.page, lab)
        self.failed: set[str] = set()  # regions whose creating step did not succeed
        self.maps_before: Optional[List[MapEntry]] = None
        self.fresh: Optional[List[MapEntry]] = None  # the last snapshot, while it is still true
        self.other_mappings = 0

    # -- running -----------------------------------------------------------------------

    def window(self) -> Optional[List[Tuple[int, int]]]:
        return None if self.options.full_maps else self.spans()

    def spans(self) -> List[Tuple[int, int]]:
        """The lab, and each region the kernel moved out of it: everything this run may have mapped."""
        lab = self.lab
        spans = [(lab.start, lab.end)]
        for region in self.resolver.regions.values():
            start = region.addr.offset
            end = start + region.size.value
            if not lab.contains(start, end):
                spans.append((start, end))
        return spans

    def snapshot(self) -> List[MapEntry]:
        """The window's maps now; reused until a step that can change them runs."""
        if self.fresh is not None:
            return self.fresh
        entries, others = self.machine.snapshot(self.window(), self.options.vm_flags)
        self.other_mappings = others
        self.fresh = [  # the constructor, not dataclasses.replace: a matrix takes thousands of snapshots
            MapEntry(e.start, e.end, e.perms, e.offset, e.dev, e.inode, e.path, e.vm_flags, self.label_for(e), e.memory)
            for e in entries
        ]
        return self.fresh

    def label_for(self, entry: MapEntry) -> Optional[str]:
        """The most recently created region that covers the entry's start."""
        start = entry.start
        for region in reversed(self.resolver.regions.values()):
            addr = region.addr
            if addr.var is None and addr.offset <= start < addr.offset + region.size.value:
                return region.name
        return None

    def run(self) -> Iterator[StepResult]:
        for index, step in enumerate(self.scenario.steps, 1):
            if step.op == "mremap" and self.maps_before is None and self.options.snapshots:
                self.maps_before = self.snapshot()
            result = self.run_step(index, step)
            if step.op in MAPPING_OPS or step.defines:
                self.fresh = None  # the maps, or the labels and window, may have changed
            # Failed calls can change the maps too (a FIXED target unmapped, a VMA split).
            if step.op in MAPPING_OPS and result.status != SKIPPED and self.options.per_step_maps:
                result.maps_after = self.snapshot()
            elif step.op == "mremap" and self.options.snapshots:
                self.snapshot()  # `try`'s "after" is its mremap's: the reads that follow fault pages in (Rss)
            yield result

    def final_maps(self) -> Tuple[List[MapEntry], List[MapEntry]]:
        if not self.options.snapshots:
            return [], []
        after = self.snapshot()
        return (self.maps_before if self.maps_before is not None else []), after

    def run_step(self, index: int, step: S.Step) -> StepResult:
        missing = [r for r in step.region_refs() if r in self.failed] if self.failed else None
        if missing:
            self.failed.update(n for n in [step.defines] if n)
            return StepResult(
                index,
                step.op,
                f"{step.op} (needs region {missing[0]})",
                status=SKIPPED,
                expect=S.expected_for(step.expect, self.machine.version, self.page),
                note=f"skipped: region {missing[0]!r} was not created",
            )
        handler = getattr(self, "do_" + step.op)
        result: StepResult = handler(index, step)
        if step.expect is not None:
            result.expect = S.expected_for(step.expect, self.machine.version, self.page)
        if not result.ok and step.defines:
            self.failed.add(step.defines)
        return result

    def finish(self, index: int, op: str, call: str, outcome: Outcome, name: Optional[str] = None) -> StepResult:
        call = outcome.call or call
        result = StepResult(index, op, call, rule=outcome.rule, explain=outcome.explain, note=outcome.note, name=name)
        if outcome.ok:
            if op in ("mmap", "mremap"):
                result.address = outcome.value
        else:
            result.status = FAILED
            result.errno = errno_name(outcome.errno)  # type: ignore[arg-type]
            result.errno_value = outcome.errno
        return result

    # -- ops -----------------------------------------------------------------------------

    def do_mmap(self, index: int, step: S.Mmap) -> StepResult:
        plan = self.resolver.mmap(index, step)
        req = MapRequest(
            name=step.name,
            kind=plan.kind,
            shared=plan.shared,
            size=plan.size,
            prot=F.parse_prot(step.prot),
            addr=plan.addr.offset,
            fill=V.byte_value(step.fill) if step.fill is not None else None,
            replace=step.replace,
            same_as=step.same_as,
            file_size=step.file_size.resolve(self.page) if step.file_size else None,
            locked=step.locked,
            hugetlb=step.hugetlb,
            dir=step.dir,
            path=step.path,
            writable=step.writable,
        )
        outcome = self.machine.map_region(req)
        result = self.finish(index, "mmap", mmap_call(req), outcome, name=step.name)
        if outcome.ok:
            size = outcome.size or plan.size or 0
            self.resolver.created(step, plan, Addr(None, outcome.value or 0), Size(None, size))
        return result

    def do_mremap(self, index: int, step: S.Mremap) -> StepResult:
        plan = self.resolver.mremap(index, step)
        old, old_size, new_size = plan.old.offset, plan.old_size.value, plan.new_size.value
        outcome = self.machine.mremap(old, old_size, new_size, plan.flags, plan.new_address.offset)
        call = mremap_call(old, old_size, new_size, plan.flags, plan.new_address.offset)
        result = self.finish(index, "mremap", call, outcome, name=step.name)
        if outcome.ok and step.name:
            self.resolver.moved(step.name, Addr(None, outcome.value or 0), plan.new_size, plan.old)
        return result

    def range_of(self, index: int, step: S.RangeStep) -> Tuple[int, int]:
        addr, size = self.resolver.range(index, step)
        return addr.offset, size.value

    def do_read(self, index: int, step: S.Read) -> StepResult:
        addr, size = self.range_of(index, step)
        runs = self.machine.read_runs(addr, size)
        return StepResult(index, "read", f"read({addr:#x}, {size})", at=addr, runs=runs)

    def do_write(self, index: int, step: S.Write) -> StepResult:
        addr, size = self.range_of(index, step)
        runs = self.machine.write(addr, size, V.byte_value(step.byte))
        faults = [value for value, _ in runs if value != OK]
        result = StepResult(index, "write", f"write({addr:#x}, {size}, {step.byte!r})", at=addr, runs=runs)
        if faults:
            result.status = FAILED
            result.errno = faults[0]
        return result

    def _simple(self, index: int, step: S.RangeStep, call: str, outcome: Outcome) -> StepResult:
        result = self.finish(index, step.op, call, outcome)
        result.at = self.resolver.addr(step.at).offset
        return result

    def do_munmap(self, index: int, step: S.Munmap) -> StepResult:
        a, n = self.range_of(index, step)
        return self._simple(index, step, f"munmap({a:#x}, {n})", self.machine.munmap(a, n))

    def do_mprotect(self, index: int, step: S.Mprotect) -> StepResult:
        a, n = self.range_of(index, step)
        prot = F.parse_prot(step.prot)
        call = f"mprotect({a:#x}, {n}, {F.prot_text(prot)})"
        return self._simple(index, step, call, self.machine.mprotect(a, n, prot))

    def do_mlock(self, index: int, step: S.Mlock) -> StepResult:
        a, n = self.range_of(index, step)
        call = f"mlock2({a:#x}, {n}, MLOCK_ONFAULT)" if step.onfault else f"mlock({a:#x}, {n})"
        return self._simple(index, step, call, self.machine.mlock(a, n, step.onfault))

    def do_munlock(self, index: int, step: S.Munlock) -> StepResult:
        a, n = self.range_of(index, step)
        return self._simple(index, step, f"munlock({a:#x}, {n})", self.machine.munlock(a, n))

    def do_mseal(self, index: int, step: S.Mseal) -> StepResult:
        a, n = self.range_of(index, step)
        return self._simple(index, step, f"mseal({a:#x}, {n}, 0)", self.machine.mseal(a, n))

    def do_madvise(self, index: int, step: S.Madvise) -> StepResult:
        a, n = self.range_of(index, step)
        call = f"madvise({a:#x}, {n}, MADV_{step.advice.upper()})"
        return self._simple(index, step, call, self.machine.madvise(a, n, F.MADVISE[step.advice]))

    def do_uffd_register(self, index: int, step: S.UffdRegister) -> StepResult:
        a, n = self.range_of(index, step)
        call = f"ioctl(uffd, UFFDIO_REGISTER, {{{a:#x}, {n}, MODE_{step.mode.upper()}}})"
        return self._simple(index, step, call, self.machine.uffd_register(a, n, V.UFFD_MODES[step.mode]))

    def do_vmas(self, index: int, step: S.Vmas) -> StepResult:
        addr, size = self.range_of(index, step)
        entries, _ = self.machine.snapshot([(addr, addr + size)], step.flag is not None)
        found = [e for e in entries if e.start < addr + size and addr < e.end]
        call = f"vmas({addr:#x}, {size}" + (f", {step.flag})" if step.flag else ")")
        return StepResult(index, "vmas", call, at=addr, answer=vmas_answer(found, step.flag))

    def do_setrlimit(self, index: int, step: S.Setrlimit) -> StepResult:
        limits = step.limits(self.page)
        call = "setrlimit(" + ", ".join(f"{k}={v}" for k, v in limits.items()) + ")"
        return self.finish(index, "setrlimit", call, self.machine.setrlimit(limits))

    def do_drop_cap(self, index: int, step: S.DropCap) -> StepResult:
        call = f"capset(drop CAP_{step.cap})"
        return self.finish(index, "drop_cap", call, self.machine.drop_cap(V.CAPABILITIES[step.cap]))


def vmas_answer(found: List[MapEntry], flag: Optional[str]) -> str:
    """How many VMAs; with a flag, whether all ("yes"), none ("no") or some of them carry it."""
    if flag is None:
        return str(len(found))
    having = sum(flag in (e.vm_flags or ()) for e in found)
    return "yes" if found and having == len(found) else "no" if having == 0 else "some"


def crashed_step(index: int, op: str, reason: str) -> StepResult:
    """The step during which the child died or hung."""
    return StepResult(index, op, op, status=CRASHED, note=reason)
