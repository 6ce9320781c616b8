"""The mapping kinds a scenario can create: what each is and what it takes.

This is data shared by the CLI (one flag per kind), the scenario loader (validation),
the live backend (how to make one) and the simulator (what VMA it becomes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional


@dataclass(frozen=True)
class Kind:
    name: str
    summary: str
    default_shared: bool
    sharing_choosable: bool = False  # --private / --shared apply
    default_size: Optional[str] = "4p"  # None: the kernel decides the size
    has_object: bool = False  # a backing object another region can map (same_as)
    huge_option: bool = False  # `hugetlb = true` applies (MFD_HUGETLB / MAP_HUGETLB)
    relocated: bool = False  # made by the kernel elsewhere, then moved into the lab
    fillable: bool = True  # False: the kernel owns the contents (code, ring headers)


KINDS: Dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("anon", "private anonymous memory (MAP_PRIVATE|MAP_ANONYMOUS)", False),
        Kind("shmem", "shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS, a shmem object)", True, huge_option=True),
        Kind(
            "memfd",
            "a memfd_create() file, shared by default",
            True,
            sharing_choosable=True,
            has_object=True,
            huge_option=True,
        ),
        Kind(
            "file",
            "a regular file (a temporary one unless `path` names one)",
            True,
            sharing_choosable=True,
            has_object=True,
        ),
        Kind("devzero", "/dev/zero (private: anonymous memory; shared: a shmem object)", False, sharing_choosable=True),
        Kind("hugetlb", "anonymous hugetlb memory (MAP_HUGETLB), needs vm.nr_hugepages", False, default_size="4M"),
        Kind(
            "perf",
            "a perf_event ring buffer (VM_PFNMAP|VM_DONTEXPAND)",
            True,
            default_size="3p",
            has_object=True,
            fillable=False,
        ),
        Kind(
            "vdso",
            "the process's own vDSO, moved into the lab (VM_DONTEXPAND)",
            False,
            default_size=None,
            relocated=True,
            fillable=False,
        ),
        Kind("secretmem", "a memfd_secret() area, removed from the kernel's direct map", True, has_object=True),
        Kind("sysvshm", "a System V shared memory segment (shmget/shmat)", True),
        Kind(
            "aio",
            "an io_setup() completion ring, moved into the lab (VM_DONTEXPAND)",
            True,
            default_size=None,
            relocated=True,
            fillable=False,
        ),
    )
}


def kind_names() -> str:
    return ", ".join(KINDS)


def default_shared(kind: Kind, path: Optional[str] = None, writable: bool = False) -> bool:
    """A kind's sharing when a step does not say; a user's own file is mapped private unless they
    allowed writes, so it is never written."""
    if kind.name == "file" and path:
        return writable
    return kind.default_shared
