"""The one data model every backend returns and every renderer reads.

A :class:`Run` is a list of :class:`StepResult` plus the lab's maps before the first
mremap and at the end. Renderers never ask which backend produced it; that is what lets
live and simulated runs be compared field by field.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import List, Optional, Tuple

# What a read of one page returns, besides "data:<c>" / "data:0xNN".
ZERO, SIGSEGV, SIGBUS, UFFD = "zero", "SIGSEGV", "SIGBUS", "uffd"

# Step statuses. "skipped": the step names a region whose creating step failed.
OK, FAILED, SKIPPED, CRASHED = "ok", "failed", "skipped", "crashed"


@dataclass(frozen=True)
class MapEntry:
    """One line of /proc/self/maps, with its smaps VmFlags when they were read."""

    start: int
    end: int
    perms: str
    offset: int
    dev: str
    inode: int
    path: str
    vm_flags: Optional[Tuple[str, ...]] = None
    label: Optional[str] = None

    @property
    def size(self) -> int:
        return self.end - self.start

    def same_mapping(self, other: MapEntry) -> bool:
        """Equal in everything the kernel reports (the label is ours, not the kernel's)."""
        return replace(self, label=None) == replace(other, label=None)


@dataclass(frozen=True)
class DiffRow:
    """One row of a maps diff: ``before`` and/or ``after`` with what happened between."""

    status: str  # added | removed | changed | unchanged
    before: Optional[MapEntry]
    after: Optional[MapEntry]


@dataclass
class StepResult:
    """What one scenario step did. Fields that do not apply to the op stay None."""

    index: int
    op: str
    call: str
    status: str = OK
    errno: Optional[str] = None
    errno_value: Optional[int] = None
    address: Optional[int] = None  # what mmap/mremap returned
    at: Optional[int] = None  # where a read/write/… acted
    pages: Optional[List[str]] = None  # read: one result per page
    name: Optional[str] = None  # region the step created
    rule: Optional[str] = None
    explain: Optional[str] = None
    expect: Optional[str] = None
    note: Optional[str] = None
    maps_after: Optional[List[MapEntry]] = None  # the window after a step that can change it

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def outcome(self) -> str:
        """ "ok", the errno name, or the status ("skipped", "crashed"): what `expect` compares with."""
        if self.status == OK:
            return "ok"
        return self.errno or self.status

    @property
    def expect_met(self) -> Optional[bool]:
        if self.expect is None or self.status == SKIPPED:
            return None
        expected = self.expect
        if self.op == "read" and self.pages is not None:
            return expected == (self.pages[0] if self.pages else "") or expected == self.outcome
        return expected.lower() == self.outcome.lower()


@dataclass
class Run:
    """A whole scenario's results, from any backend."""

    backend: str
    kernel: str
    page_size: int
    lab_start: int
    lab_end: int
    steps: List[StepResult] = field(default_factory=list)
    maps_before: List[MapEntry] = field(default_factory=list)
    maps_after: List[MapEntry] = field(default_factory=list)
    other_mappings: int = 0  # process mappings outside the window, summarised in one line
    notes: List[str] = field(default_factory=list)
    failure: Optional[str] = None  # why the run stopped early (child died, time-out)

    @property
    def expectations_met(self) -> bool:
        return all(s.expect_met is not False for s in self.steps) and self.failure is None


def diff_maps(before: List[MapEntry], after: List[MapEntry]) -> List[DiffRow]:
    """Pair entries by exact range, then by overlap with the same label, then by overlap.

    A grown or shrunk VMA therefore shows as one "changed" row; a moved one as "removed"
    at its old place and "added" at the new.
    """
    rows: List[DiffRow] = []
    left = list(before)
    right = list(after)
    pairs: List[Tuple[MapEntry, MapEntry]] = []

    def take(match) -> None:  # type: ignore[no-untyped-def]
        for b in list(left):
            for a in right:
                if match(b, a):
                    pairs.append((b, a))
                    left.remove(b)
                    right.remove(a)
                    break

    take(lambda b, a: (b.start, b.end) == (a.start, a.end))
    take(lambda b, a: b.label == a.label and b.start < a.end and a.start < b.end)
    take(lambda b, a: b.start < a.end and a.start < b.end)
    for b, a in pairs:
        rows.append(DiffRow("unchanged" if b.same_mapping(a) else "changed", b, a))
    rows += [DiffRow("removed", b, None) for b in left]
    rows += [DiffRow("added", None, a) for a in right]
    rows.sort(key=lambda r: ((r.after or r.before).start, r.status))  # type: ignore[union-attr]
    return rows
