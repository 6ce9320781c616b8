"""Run a scenario on a machine: resolve expressions, track regions, collect results.

The engine is the same for every backend. A backend supplies a :class:`Machine` with one
method per primitive (map a region of a kind, mremap, read pages, snapshot the maps …).
The live backend runs the engine inside a forked child against real syscalls; the
simulator runs it in-process against its address-space model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Tuple

from mremapctl import flags as F
from mremapctl.backends.base import RunOptions
from mremapctl.calls import errno_name, mmap_call, mremap_call
from mremapctl.errors import BadInput
from mremapctl.expr import AddrExpr, SizeExpr
from mremapctl.kinds import KINDS
from mremapctl.lab import Lab, Placer
from mremapctl.machine import Machine, MapRequest, Outcome
from mremapctl.results import CRASHED, FAILED, OK, SKIPPED, MapEntry, StepResult
from mremapctl.scenario import steps as S
from mremapctl.scenario import values as V
from mremapctl.scenario.load import Scenario
from mremapctl.units import format_size

# Ops after which the maps can have changed.
MAPPING_OPS = frozenset(
    {"mmap", "mremap", "munmap", "mprotect", "mlock", "munlock", "mseal", "madvise", "uffd_register"}
)


@dataclass
class Region:
    name: str
    start: int
    size: int

    @property
    def end(self) -> int:
        return self.start + self.size


def default_shared(step: S.Mmap) -> bool:
    """A user's own file is mapped private unless they allowed writes: it is never written."""
    kind = KINDS[step.kind or "anon"]
    if kind.name == "file" and step.path:
        return step.writable
    return kind.default_shared


class Engine:
    """Runs one scenario on one machine, yielding each step's result as it completes."""

    def __init__(self, machine: Machine, scenario: Scenario, lab: Lab, options: Optional[RunOptions] = None) -> None:
        self.machine = machine
        self.scenario = scenario
        self.lab = lab
        self.options = options or RunOptions()
        self.page = machine.page_size
        self.placer = Placer(lab)
        self.regions: Dict[str, Region] = {}
        self.kinds_by_region: Dict[str, str] = {}
        self.failed: set[str] = set()  # regions whose creating step did not succeed
        self.maps_before: Optional[List[MapEntry]] = None
        self.fresh: Optional[List[MapEntry]] = None  # the last snapshot, while it is still true
        self.other_mappings = 0

    # -- expressions -------------------------------------------------------------------

    def lookup(self, name: str) -> int:
        if name == "lab":
            return self.lab.start
        return self.regions[name].start

    def addr(self, expr: AddrExpr) -> int:
        value: int = expr.resolve(self.lookup, self.page)
        return value

    def size(self, expr: Optional[SizeExpr], at: Optional[AddrExpr], what: str) -> int:
        if expr is not None:
            value: int = expr.resolve(self.page)
            return value
        name = at.base_name if at is not None and at.is_bare_name else None
        if name is not None and name in self.regions:
            return self.regions[name].size
        raise BadInput(
            f"{what}: give a size (it defaults to a region's size only when the address is a bare region name)"
        )

    def check_inside(self, start: int, size: int, what: str) -> None:
        """Refuse any range outside the lab and the experiment's own regions: nothing else is touched."""
        end = start + size
        if self.lab.contains(start, end):
            return
        if any(r.start <= start and end <= r.end for r in self.regions.values()):
            return
        raise BadInput(
            f"{what}: the range {start:#x}-{end:#x} reaches outside the lab "
            f"({self.lab.start:#x}-{self.lab.end:#x}) and the experiment's regions"
        )

    # -- running -----------------------------------------------------------------------

    def window(self) -> Optional[List[Tuple[int, int]]]:
        if self.options.full_maps:
            return None
        outside = [(r.start, r.end) for r in self.regions.values() if not self.lab.contains(r.start, r.end)]
        return [(self.lab.start, self.lab.end), *outside]

    def snapshot(self) -> List[MapEntry]:
        """The window's maps now; reused until a step that can change them runs."""
        if self.fresh is not None:
            return self.fresh
        entries, others = self.machine.snapshot(self.window(), self.options.vm_flags)
        self.other_mappings = others
        self.fresh = [
            MapEntry(e.start, e.end, e.perms, e.offset, e.dev, e.inode, e.path, e.vm_flags, self.label_for(e))
            for e in entries
        ]
        return self.fresh

    def label_for(self, entry: MapEntry) -> Optional[str]:
        """The most recently created region that covers the entry's start."""
        for region in reversed(list(self.regions.values())):
            if region.start <= entry.start < region.end:
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
            yield result

    def final_maps(self) -> Tuple[List[MapEntry], List[MapEntry]]:
        if not self.options.snapshots:
            return [], []
        after = self.snapshot()
        return (self.maps_before if self.maps_before is not None else []), after

    def run_step(self, index: int, step: S.Step) -> StepResult:
        missing = [r for r in step.region_refs() if r in self.failed]
        if missing:
            self.failed.update(n for n in [step.defines] if n)
            return StepResult(
                index,
                step.op,
                f"{step.op} (needs region {missing[0]})",
                status=SKIPPED,
                expect=S.expected_for(step.expect, self.machine.version),
                note=f"skipped: region {missing[0]!r} was not created",
            )
        handler = getattr(self, "do_" + step.op)
        result: StepResult = handler(index, step)
        result.expect = S.expected_for(step.expect, self.machine.version)
        if not result.ok and step.defines:
            self.failed.add(step.defines)
        return result

    def finish(self, index: int, op: str, call: str, outcome: Outcome, name: Optional[str] = None) -> StepResult:
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
        kind_name = step.kind or "anon"
        if step.same_as:
            kind_name = step.kind or self.kinds_by_region[step.same_as]
        kind = KINDS[kind_name]
        size_expr = step.size or (SizeExpr(kind.default_size) if kind.default_size else None)
        size = size_expr.resolve(self.page) if size_expr else None
        if kind.relocated and step.size is not None:
            raise BadInput(f"step {index}: kind {kind_name!r} has the size the kernel gives it; drop `size`")
        addr = self.addr(step.at) if step.at else self.placer.place(size or self.page)
        self.check_inside(addr, size or self.page, f"step {index}: mmap of {format_size(size or 0)} at {addr:#x}")
        req = MapRequest(
            name=step.name,
            kind=kind_name,
            shared=step.shared if step.shared is not None else default_shared(step),
            size=size,
            prot=F.parse_prot(step.prot),
            addr=addr,
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
            self.regions[step.name] = Region(step.name, outcome.value, outcome.size or size or 0)  # type: ignore[arg-type]
            self.kinds_by_region[step.name] = kind_name
        return result

    def do_mremap(self, index: int, step: S.Mremap) -> StepResult:
        old = self.addr(step.old)
        old_size = self.size(step.old_size, step.old, f"step {index}: mremap old_size")
        new_size = step.new_size.resolve(self.page) if step.new_size is not None else old_size
        bits = step.flag_bits
        new_addr = self.addr(step.new_address) if step.new_address is not None else 0
        self.check_inside(old, old_size, f"step {index}: mremap old range")
        if bits & F.MREMAP_FIXED:
            self.check_inside(new_addr, new_size, f"step {index}: mremap new range")
        elif new_addr:
            self.check_inside(new_addr, 0, f"step {index}: mremap new_address")
        outcome = self.machine.mremap(old, old_size, new_size, bits, new_addr)
        result = self.finish(
            index, "mremap", mremap_call(old, old_size, new_size, bits, new_addr), outcome, name=step.name
        )
        if outcome.ok and step.name:
            self.regions[step.name] = Region(step.name, outcome.value, new_size)  # type: ignore[arg-type]
            self.kinds_by_region[step.name] = self.kind_at(old)
        return result

    def kind_at(self, addr: int) -> str:
        for region in reversed(list(self.regions.values())):
            if region.start <= addr < region.end:
                return self.kinds_by_region.get(region.name, "anon")
        return "anon"

    def range_of(self, index: int, step: S.RangeStep) -> Tuple[int, int]:
        addr = self.addr(step.at)
        size = self.size(step.size, step.at, f"step {index}: {step.op} size")
        self.check_inside(addr, size, f"step {index}: {step.op}")
        return addr, size

    def do_read(self, index: int, step: S.Read) -> StepResult:
        addr, size = self.range_of(index, step)
        pages = self.machine.read_pages(addr, size)
        return StepResult(index, "read", f"read({addr:#x}, {size})", at=addr, pages=pages)

    def do_write(self, index: int, step: S.Write) -> StepResult:
        addr, size = self.range_of(index, step)
        pages = self.machine.write(addr, size, V.byte_value(step.byte))
        faults = [p for p in pages if p != OK]
        result = StepResult(index, "write", f"write({addr:#x}, {size}, {step.byte!r})", at=addr, pages=pages)
        if faults:
            result.status = FAILED
            result.errno = faults[0]
        return result

    def _simple(self, index: int, step: S.RangeStep, call: str, outcome: Outcome) -> StepResult:
        result = self.finish(index, step.op, call, outcome)
        result.at = self.addr(step.at)
        return result

    def do_munmap(self, index: int, step: S.Munmap) -> StepResult:
        a, n = self.range_of(index, step)
        return self._simple(index, step, f"munmap({a:#x}, {n})", self.machine.munmap(a, n))

    def do_mprotect(self, index: int, step: S.Mprotect) -> StepResult:
        a, n = self.range_of(index, step)
        prot = F.parse_prot(step.prot)
        text = F.decode_flags(prot, F.PROT_NAMES) if prot else "PROT_NONE"
        return self._simple(index, step, f"mprotect({a:#x}, {n}, {text})", self.machine.mprotect(a, n, prot))

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

    def do_setrlimit(self, index: int, step: S.Setrlimit) -> StepResult:
        limits = step.limits(self.page)
        call = "setrlimit(" + ", ".join(f"{k}={v}" for k, v in limits.items()) + ")"
        return self.finish(index, "setrlimit", call, self.machine.setrlimit(limits))

    def do_drop_cap(self, index: int, step: S.DropCap) -> StepResult:
        call = f"capset(drop CAP_{step.cap})"
        return self.finish(index, "drop_cap", call, self.machine.drop_cap(V.CAPABILITIES[step.cap]))


def crashed_step(index: int, op: str, reason: str) -> StepResult:
    """The step during which the child died or hung."""
    return StepResult(index, op, op, status=CRASHED, note=reason)
