"""What each mapping kind becomes in the model: its backing object, VmFlags and maps name.

Taken from what the kernel shows in smaps for each kind (checked against the live backend
on 6.18 by the differential tests).
"""

from __future__ import annotations

import os
from typing import Dict, FrozenSet, Optional, Tuple

from mremapctl import flags as F
from mremapctl.backends.sim.space import PAGE, Obj
from mremapctl.errors import BadInput
from mremapctl.machine import MapRequest

# Fixed VmFlags of kinds whose flags the kernel sets itself (prot bits are added to these).
SPECIAL_FLAGS = {
    "perf": frozenset(["sh", "mr", "mw", "me", "ms", "dc", "de", "dd"]),
    "vdso": frozenset(["mr", "mw", "me", "de"]),
    "aio": frozenset(["sh", "mr", "mw", "ms", "de"]),
    "secretmem": frozenset(["sh", "mr", "mw", "ms", "dd"]),
}
# Seen on 6.18.44 but not on Debian's 6.12.118 (the release in between is not pinned down; the
# models place it at 6.16): the perf ring buffer is mapped as PFNs (pf io, and no longer me), and
# secretmem is VM_LOCKED (lo).
RECENT_FLAGS = {
    "perf": (frozenset({"pf", "io"}), frozenset({"me"})),
    "secretmem": (frozenset({"lo"}), frozenset()),
}
RECENT = (6, 16)
SPECIAL_PATHS = {
    "perf": "anon_inode:[perf_event]",
    "vdso": "[vdso]",
    "aio": "/[aio] (deleted)",
    "secretmem": "/secretmem (deleted)",
}


def prot_flags(prot: int) -> FrozenSet[str]:
    return frozenset(f for bit, f in ((F.PROT_READ, "rd"), (F.PROT_WRITE, "wr"), (F.PROT_EXEC, "ex")) if prot & bit)


def object_for(req: MapRequest, size: int, pid: int, objects: Dict[str, Obj]) -> Optional[Obj]:
    """The backing object a new region maps (None: private anonymous memory)."""
    if req.same_as:
        return objects[req.same_as]
    kind = req.kind
    file_size = req.file_size if req.file_size is not None else size
    if kind == "anon":
        return None
    if kind == "hugetlb" or (kind == "shmem" and req.hugetlb):
        return Obj("shmem", "/anon_hugepage (deleted)", size)
    if kind == "shmem" or (kind == "devzero" and req.shared):
        return Obj("shmem", "/dev/zero (deleted)", size)
    if kind == "devzero":
        return Obj("anonfile", "/dev/zero", 0, dev="00:05", sigbus_beyond_size=False, own_placement=True)
    if kind == "memfd":
        return Obj("shmem", f"/memfd:{req.name} (deleted)", file_size)
    if kind == "file":
        if req.path:
            return user_file(req.path)
        directory = (req.dir or "/tmp").rstrip("/")
        return Obj("file", f"{directory}/mremapctl.{pid}.{req.name} (deleted)", file_size)
    if kind == "sysvshm":
        return Obj("shmem", "/SYSV00000000 (deleted)", size, own_placement=True)
    if kind == "secretmem":
        return Obj("shmem", SPECIAL_PATHS[kind], file_size)
    return Obj("special", SPECIAL_PATHS[kind], size, pages=special_contents(kind))


def user_file(path: str) -> Obj:
    """A user's own file as the kernel would see it: its real size (pages beyond EOF give
    SIGBUS) and the first byte of each page, read from the file (never written)."""
    pages: Dict[int, int] = {}
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            for index in range(-(-size // PAGE)):
                f.seek(index * PAGE)
                pages[index] = f.read(1)[0]
    except OSError as err:
        raise BadInput(f"bad path {path!r}: {err.strerror}") from None
    return Obj("file", path, size, pages=pages)


def special_contents(kind: str) -> Dict[int, int]:
    """First bytes of kernel-owned pages: the vDSO starts with its ELF header (0x7f)."""
    return {0: 0x7F} if kind == "vdso" else {}


# Kinds the kernel creates itself come with their own protection, whatever was asked.
KERNEL_PROT = {"vdso": F.PROT_READ | F.PROT_EXEC, "aio": F.PROT_READ | F.PROT_WRITE}


def vm_flags(req: MapRequest, prot: int, obj: Optional[Obj], version: Tuple[int, int]) -> FrozenSet[str]:
    """VmFlags the kernel gives a new mapping of this kind with this protection."""
    base = prot_flags(KERNEL_PROT.get(req.kind, prot))
    if req.kind in SPECIAL_FLAGS:
        flags = base | SPECIAL_FLAGS[req.kind]
        if req.kind in RECENT_FLAGS and version >= RECENT:
            added, removed = RECENT_FLAGS[req.kind]
            flags = (flags | added) - removed
        return frozenset(flags)
    shared = req.shared and req.kind not in ("anon", "hugetlb")
    flags = base | {"mr", "me"}
    if not (obj is not None and obj.kind == "file" and req.path and not req.writable and shared):
        flags |= {"mw"}  # a shared mapping of a read-only file may never be made writable
    if shared:
        flags |= {"sh", "ms"}
    elif prot & F.PROT_WRITE and req.kind != "hugetlb":
        flags |= {"ac"}  # private writable memory is charged against the overcommit limit
    if req.kind == "hugetlb" or req.hugetlb:
        flags |= {"de", "ht"}
    if req.locked:
        flags |= {"lo"}
    return frozenset(flags)


def region_size(req: MapRequest, huge: int) -> int:
    """The size the kernel gives the region: its own for the vDSO and an aio ring, else rounded up."""
    if req.kind == "vdso":
        return 2 * PAGE
    if req.kind == "aio":
        return PAGE
    size = req.size or 0
    if req.kind == "hugetlb" or req.hugetlb:
        return -(-size // huge) * huge
    return -(-size // PAGE) * PAGE
