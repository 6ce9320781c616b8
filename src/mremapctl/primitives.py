"""What a backend implements for the engine: one method per primitive, and the values they pass.

The live machine makes the real syscalls (backends/live/machine.py); the simulated one acts
on an address-space model (backends/sim/machine.py). Both run the same engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Protocol, Sequence, Tuple

from mremapctl.frozen import frozen
from mremapctl.kinds import KINDS
from mremapctl.results import MapEntry, PageRuns


@frozen
class MapRequest:
    """A resolved ``mmap`` step: everything a machine needs to create the region."""

    name: str
    kind: str
    shared: bool
    size: Optional[int]  # None: the kernel decides (vdso, aio)
    prot: int
    addr: int
    fill: Optional[int] = None
    replace: bool = False
    same_as: Optional[str] = None
    file_size: Optional[int] = None
    locked: bool = False
    hugetlb: bool = False
    dir: Optional[str] = None
    path: Optional[str] = None
    writable: bool = False

    def map_flags(self) -> int:
        """The mmap flags this request maps with (the kind decides, see Kind.map_flags)."""
        return KINDS[self.kind].map_flags(
            shared=self.shared, replace=self.replace, locked=self.locked, hugetlb=self.hugetlb
        )


@frozen
class Outcome:
    """A primitive's answer: a value (address, 0) or an errno, and what decided it."""

    value: Optional[int] = None
    errno: Optional[int] = None
    size: Optional[int] = None  # map_region: the size the kernel gave the region
    rule: Optional[str] = None
    explain: Optional[str] = None
    note: Optional[str] = None
    call: Optional[str] = None  # the call that failed, when it is not the step's own (userfaultfd() before a register)

    @property
    def ok(self) -> bool:
        return self.errno is None


@dataclass
class RunOptions:
    timeout: float = 10.0  # live: kill a child that runs longer
    vm_flags: bool = True  # read smaps VmFlags (costs a smaps read per snapshot)
    force: bool = False  # populate beyond the safe share of MemAvailable
    per_step_maps: bool = True  # a maps snapshot after every step that can change them
    full_maps: bool = False  # the whole process, not only the lab and the experiment's ranges
    snapshots: bool = True  # False: no maps at all (a matrix needs only each call's result)


class Machine(Protocol):
    """What a backend implements. Every method acts on the current (possibly forked) process."""

    page_size: int
    version: Tuple[int, int, int]  # the kernel's release, point included: which per-kernel `expect` applies

    def map_region(self, req: MapRequest) -> Outcome: ...
    def mremap(self, old: int, old_size: int, new_size: int, flags: int, new_addr: int) -> Outcome: ...
    def munmap(self, addr: int, size: int) -> Outcome: ...
    def mprotect(self, addr: int, size: int, prot: int) -> Outcome: ...
    def mlock(self, addr: int, size: int, onfault: bool) -> Outcome: ...
    def munlock(self, addr: int, size: int) -> Outcome: ...
    def mseal(self, addr: int, size: int) -> Outcome: ...
    def madvise(self, addr: int, size: int, advice: int) -> Outcome: ...
    def uffd_register(self, addr: int, size: int, mode: int) -> Outcome: ...
    def setrlimit(self, limits: Dict[str, int]) -> Outcome: ...
    def drop_cap(self, cap: int) -> Outcome: ...
    def read_runs(self, addr: int, size: int) -> PageRuns: ...
    def write(self, addr: int, size: int, byte: int) -> PageRuns: ...
    def snapshot(self, window: Optional[Sequence[Tuple[int, int]]], vm_flags: bool) -> Tuple[List[MapEntry], int]: ...
