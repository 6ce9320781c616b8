"""The mapping kinds a scenario can create: one record of facts per kind.

Everything that depends on which kind a region is reads a field here: the CLI (one flag per
kind), the loader (what a step may say), the resolver (sizes, sharing, objects), the call text,
the picture, the survey grid and each backend's rules. Only the makers (live, simulated, C)
are per kind, and a test checks each kind has all three. Adding a kind is one record, its
makers, and tests.
"""

from __future__ import annotations

from typing import Dict, Optional

from mremapctl import flags as F
from mremapctl.frozen import frozen


@frozen
class Kind:
    name: str
    summary: str
    default_shared: bool
    sharing_choosable: bool = False  # --private / --shared apply
    default_size: Optional[str] = "4p"  # None: the kernel decides the size
    has_object: bool = False  # a backing object another region can map (same_as)
    huge_option: bool = False  # `hugetlb = true` applies (MFD_HUGETLB / MAP_HUGETLB)
    relocated: bool = False  # made by the kernel elsewhere, then moved into the lab
    kernel_size: Optional[str] = None  # the kernel's choice of size: "code" (the vDSO's, in pages) or "page"
    fillable: bool = True  # False: the kernel owns the contents (code, ring headers)
    anonymous: bool = False  # mapped with MAP_ANONYMOUS (no file descriptor)
    always_huge: bool = False  # hugetlb memory whatever the step says
    takes_path: bool = False  # `path`, `dir` and `writable` apply (a file of the user's, or a temporary one)
    call_source: Optional[str] = None  # what the call text shows as its fd ("-1", "/dev/zero"); None: the object
    special: bool = False  # a special mapping (VM_SPECIAL-like): no merging, its own move and split rules
    split_rule: Optional[str] = None  # the rule that refuses a partial move, shrink or mprotect of it
    whole_moves_only: bool = False  # its mremap hook refuses to move part of it (the vDSO)
    kernel_prot: Optional[int] = None  # the protection the kernel gives it, whatever was asked
    writable_pages: Optional[int] = None  # only its first pages take writes (the perf ring's header)
    secret: bool = False  # removed from the kernel's direct map: mlock skips it, nothing can populate it
    needs_rule: Optional[str] = None  # a rule that must hold on a kernel for this kind to exist there
    maps_name: Optional[str] = None  # how /proc/self/maps names it (a prefix; "" no name); None: any file
    band: str = "file"  # its colour class in the address-space picture
    grid_pages: int = 2  # its size in the survey grid
    outlives_unmap: bool = False  # making it changes the process beyond the lab (an aio context, a moved vDSO)

    def map_flags(self, *, shared: bool, replace: bool, locked: bool, hugetlb: bool) -> int:
        """The mmap flags of a region of this kind: sharing, FIXED or FIXED_NOREPLACE, and the kind's own."""
        flags = F.MAP_SHARED if shared else F.MAP_PRIVATE
        flags |= F.MAP_FIXED if replace else F.MAP_FIXED_NOREPLACE
        if self.anonymous:
            flags |= F.MAP_ANONYMOUS
        if self.always_huge or (hugetlb and self.anonymous):
            flags |= F.MAP_HUGETLB  # a hugetlb memfd gets MFD_HUGETLB instead
        if locked:
            flags |= F.MAP_LOCKED
        return flags

    def shared_by_default(self, path: Optional[str] = None, writable: bool = False) -> bool:
        """Sharing when a step does not say: a user's own file is private unless they allowed
        writes, so it is never written."""
        if self.takes_path and path:
            return writable
        return self.default_shared

    def huge(self, hugetlb: bool) -> bool:
        """Whether a region of this kind is hugetlb memory."""
        return self.always_huge or (hugetlb and self.huge_option)


KINDS: Dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "anon",
            "private anonymous memory (MAP_PRIVATE|MAP_ANONYMOUS)",
            False,
            maps_name="",
            anonymous=True,
            call_source="-1",
            band="anon",
        ),
        Kind(
            "shmem",
            "shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS, a shmem object)",
            True,
            maps_name="/dev/zero (deleted)",
            huge_option=True,
            anonymous=True,
            call_source="-1",
            band="shmem",
        ),
        Kind(
            "memfd",
            "a memfd_create() file, shared by default",
            True,
            maps_name="/memfd:",
            sharing_choosable=True,
            has_object=True,
            huge_option=True,
            band="memfd",
        ),
        Kind(
            "file",
            "a regular file (a temporary one unless `path` names one)",
            True,
            sharing_choosable=True,
            has_object=True,
            takes_path=True,
        ),
        Kind(
            "devzero",
            "/dev/zero (private: anonymous memory; shared: a shmem object)",
            False,
            maps_name="/dev/zero",
            sharing_choosable=True,
            call_source="/dev/zero",
            band="shmem",
        ),
        Kind(
            "hugetlb",
            "anonymous hugetlb memory (MAP_HUGETLB), needs vm.nr_hugepages",
            False,
            maps_name="/anon_hugepage",
            default_size="4M",
            anonymous=True,
            always_huge=True,
            call_source="-1",
            band="huge",
            grid_pages=1024,
        ),
        Kind(
            "perf",
            "a perf_event ring buffer (VM_PFNMAP|VM_DONTEXPAND)",
            True,
            maps_name="anon_inode:[perf_event]",
            default_size="3p",
            has_object=True,
            fillable=False,
            special=True,
            split_rule="perf-split-refused",
            writable_pages=1,
            band="special",
            grid_pages=3,
        ),
        Kind(
            "vdso",
            "the process's own vDSO, moved into the lab (VM_DONTEXPAND)",
            False,
            maps_name="[vdso]",
            default_size=None,
            relocated=True,
            kernel_size="code",
            fillable=False,
            special=True,
            split_rule="split-refused",
            whole_moves_only=True,
            kernel_prot=F.PROT_READ | F.PROT_EXEC,
            band="special",
            outlives_unmap=True,
        ),
        Kind(
            "secretmem",
            "a memfd_secret() area, removed from the kernel's direct map",
            True,
            maps_name="/secretmem",
            has_object=True,
            secret=True,
            needs_rule="secretmem-default-on",
            band="secret",
        ),
        Kind(
            "sysvshm",
            "a System V shared memory segment (shmget/shmat)",
            True,
            maps_name="/SYSV",
            call_source="shmid",
            band="shmem",
        ),
        Kind(
            "aio",
            "an io_setup() completion ring, moved into the lab (VM_DONTEXPAND)",
            True,
            maps_name="/[aio]",
            default_size=None,
            relocated=True,
            kernel_size="page",
            fillable=False,
            special=True,
            kernel_prot=F.PROT_READ | F.PROT_WRITE,
            band="special",
            grid_pages=1,
            outlives_unmap=True,
        ),
    )
}


def kind_names() -> str:
    return ", ".join(KINDS)


def kind_of_mapping(path: str) -> Optional[Kind]:
    """The kind a maps line's name shows (the longest matching prefix); None: a file, or unknown.

    >>> kind_of_mapping("/memfd:old (deleted)").name, kind_of_mapping("").name
    ('memfd', 'anon')
    """
    if not path:
        return next((k for k in KINDS.values() if k.maps_name == ""), None)
    named = [k for k in KINDS.values() if k.maps_name and path.startswith(k.maps_name)]
    return max(named, key=lambda k: len(k.maps_name or ""), default=None)
