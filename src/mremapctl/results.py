"""The one data model every backend returns and every renderer reads.

A :class:`Run` is a list of :class:`StepResult` plus the lab's maps before the first
mremap and at the end. Renderers never ask which backend produced it; that is what lets
live and simulated runs be compared field by field.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import List, Optional, Tuple

from mremapctl.frozen import frozen

# What a read of one page returns, besides "data:<c>" / "data:0xNN".
ZERO, SIGSEGV, SIGBUS, UFFD = "zero", "SIGSEGV", "SIGBUS", "uffd"
NOT_MODELLED = "kernel code (not modelled)"  # the model knows a vDSO is there, not its bytes

# Step statuses. "skipped": the step names a region whose creating step failed.
OK, FAILED, SKIPPED, CRASHED = "ok", "failed", "skipped", "crashed"

# What the pages of a read (or a write) met, in order, as (result, number of pages): a 1 GiB
# region reads as one run, not 262,144 entries.
PageRuns = List[Tuple[str, int]]


def add_run(runs: PageRuns, value: str, count: int) -> None:
    """Append `count` pages of `value`, joining the last run when it is the same."""
    if count <= 0:
        return
    if runs and runs[-1][0] == value:
        runs[-1] = (value, runs[-1][1] + count)
    else:
        runs.append((value, count))


def fill_note(runs: PageRuns) -> Optional[str]:
    """What a map step says when its fill did not reach every page."""
    bad = sum(count for value, count in runs if value != OK)
    if not bad:
        return None
    total = sum(count for _, count in runs)
    return f"{bad} of {total} pages could not be filled ({runs[-1][0]} on access)"


def runs_of(pages: List[str]) -> PageRuns:
    """Page results as runs.

    >>> runs_of(["data:A", "data:A", "zero"])
    [('data:A', 2), ('zero', 1)]
    """
    runs: PageRuns = []
    for page in pages:
        add_run(runs, page, 1)
    return runs


# The smaps counters pmap -X shows, by smaps key: what they are called here and in the JSON.
SMAPS_COUNTERS = {"Rss": "rss", "Pss": "pss", "Swap": "swap", "Locked": "locked", "AnonHugePages": "anon_huge_pages"}


@frozen
class MemoryUse:
    """How much of a mapping is in memory, as smaps counts it, in bytes; None where it is not known
    (the model has no THP, for instance). After a DONTUNMAP move the old range's Rss drops to 0
    while the new range holds the pages: the maps lines alone do not show that."""

    rss: Optional[int] = None
    pss: Optional[int] = None
    swap: Optional[int] = None
    locked: Optional[int] = None
    anon_huge_pages: Optional[int] = None


@frozen
class MapEntry:
    """One line of /proc/self/maps, with its smaps VmFlags and memory counters when they were read."""

    start: int
    end: int
    perms: str
    offset: int
    dev: str
    inode: int
    path: str
    vm_flags: Optional[Tuple[str, ...]] = None
    label: Optional[str] = None
    memory: Optional[MemoryUse] = None

    @property
    def size(self) -> int:
        return self.end - self.start

    def same_mapping(self, other: MapEntry) -> bool:
        """Equal in everything the maps line and VmFlags report: the label is ours, and the memory
        counters describe the pages, not the mapping (a read changes them)."""
        return replace(self, label=None, memory=None) == replace(other, label=None, memory=None)


@frozen
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
    runs: Optional[PageRuns] = None  # read or write: what each page touched met, as runs
    name: Optional[str] = None  # region the step created
    rule: Optional[str] = None
    explain: Optional[str] = None
    expect: Optional[str] = None
    note: Optional[str] = None
    maps_after: Optional[List[MapEntry]] = None  # the window after a step that can change it
    answer: Optional[str] = None  # what a question step (vmas) found

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def page_count(self) -> int:
        return sum(count for _, count in self.runs or ())

    @property
    def pages(self) -> Optional[List[str]]:
        """One result per page (small reads: a large one is best read as runs)."""
        return None if self.runs is None else [value for value, count in self.runs for _ in range(count)]

    @property
    def outcome(self) -> str:
        """ "ok", the errno name, or the status ("skipped", "crashed"): what `expect` compares with."""
        if self.answer is not None:
            return self.answer
        if self.status == OK:
            return "ok"
        return self.errno or self.status

    @property
    def expect_met(self) -> Optional[bool]:
        if self.expect is None or self.status == SKIPPED:
            return None
        expected = self.expect
        if self.op == "read" and self.runs is not None:
            return expected == (self.runs[0][0] if self.runs else "") or expected == self.outcome
        return expected.lower() == self.outcome.lower()


@frozen
class ModelInfo:
    """The model that answered a simulation, or annotated a live or vm run."""

    version: str  # the exact release its rules were taken at: "6.18.44"
    span: str  # the releases that behave alike: "6.18.37+"
    newer_than_models: bool  # the kernel is newer than any release the rules know


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
    kernel_version: Optional[str] = None  # the point release, where ``kernel`` (a Debian ABI name) hides it
    arch: Optional[str] = None  # Debian's name of the machine's architecture (amd64, arm64)
    model: Optional[ModelInfo] = None

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
