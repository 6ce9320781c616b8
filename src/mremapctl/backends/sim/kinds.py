"""What each mapping kind becomes in the model: its backing object, VmFlags and maps name.

The simulator's makers, one per kind (as the live backend and the C program have theirs):
each returns the object a new region maps. Taken from what the kernel shows in smaps for
each kind, checked against real kernels by the differential and vm tests.
"""

from __future__ import annotations

import os
from typing import Callable, Dict, FrozenSet, Optional, Tuple

from mremapctl import flags as F
from mremapctl.backends.sim.facts import Facts
from mremapctl.backends.sim.space import Obj
from mremapctl.errors import BadInput
from mremapctl.kinds import KINDS
from mremapctl.primitives import MapRequest

# VmFlags of kinds whose flags the kernel sets itself (the protection's are added to these).
SPECIAL_FLAGS = {
    "perf": frozenset(["sh", "mr", "mw", "me", "ms", "dc", "de", "dd"]),
    "vdso": frozenset(["mr", "mw", "me", "de"]),
    "aio": frozenset(["sh", "mr", "mw", "ms", "de"]),
    "secretmem": frozenset(["sh", "mr", "mw", "ms", "dd"]),
}
# Flags a rule adds and removes where it holds: kind -> ((rule, added, removed), ...).
RULED_FLAGS: Dict[str, Tuple[Tuple[str, FrozenSet[str], FrozenSet[str]], ...]] = {
    "perf": (
        ("perf-ring-pfnmap", frozenset({"pf", "io"}), frozenset()),
        ("anon-inode-no-exec", frozenset(), frozenset({"me"})),
    ),
    "secretmem": (("secretmem-locked", frozenset({"lo"}), frozenset()),),
    "aio": (("aio-ring-dontcopy", frozenset({"dc"}), frozenset()),),
}
CHUNK_PAGES = 256  # a user's file is read this many pages at a time
SIM_PID = 4242  # the pid in simulated temporary file names


def prot_flags(prot: int) -> FrozenSet[str]:
    return frozenset(f for bit, f in ((F.PROT_READ, "rd"), (F.PROT_WRITE, "wr"), (F.PROT_EXEC, "ex")) if prot & bit)


Maker = Callable[[MapRequest, int, int], Optional[Obj]]  # (request, region size, page size) -> object


def _anon(req: MapRequest, size: int, page: int) -> Optional[Obj]:
    return None


def _shmem(req: MapRequest, size: int, page: int) -> Obj:
    if req.hugetlb:
        return Obj("shmem", "/anon_hugepage (deleted)", size)
    return Obj("shmem", "/dev/zero (deleted)", size)


def _hugetlb(req: MapRequest, size: int, page: int) -> Obj:
    return Obj("shmem", "/anon_hugepage (deleted)", size)


def _devzero(req: MapRequest, size: int, page: int) -> Obj:
    if req.shared:
        return Obj("shmem", "/dev/zero (deleted)", size)
    return Obj("anonfile", "/dev/zero", 0, dev="00:05", sigbus_beyond_size=False, own_placement=True)


def _memfd(req: MapRequest, size: int, page: int) -> Obj:
    return Obj("shmem", f"/memfd:{req.name} (deleted)", _file_size(req, size))


def _file(req: MapRequest, size: int, page: int) -> Obj:
    if req.path:
        return user_file(req.path, page)
    directory = (req.dir or "/tmp").rstrip("/")
    return Obj("file", f"{directory}/mremapctl.{SIM_PID}.{req.name} (deleted)", _file_size(req, size))


def _sysvshm(req: MapRequest, size: int, page: int) -> Obj:
    return Obj("shmem", "/SYSV00000000 (deleted)", size, own_placement=True)


def _secretmem(req: MapRequest, size: int, page: int) -> Obj:
    return Obj("shmem", "/secretmem (deleted)", _file_size(req, size))


def _special(path: str, first_byte: Optional[int] = None) -> Maker:
    """Kernel-owned pages: the vDSO starts with its ELF header (0x7f); its code is not modelled."""

    def make(req: MapRequest, size: int, page: int) -> Obj:
        obj = Obj("special", path, size)
        if first_byte is not None:
            obj.pages.set(0, 1, first_byte)
            obj.unknown_contents = True
        return obj

    return make


MAKERS: Dict[str, Maker] = {
    "anon": _anon,
    "shmem": _shmem,
    "memfd": _memfd,
    "file": _file,
    "devzero": _devzero,
    "hugetlb": _hugetlb,
    "perf": _special("anon_inode:[perf_event]"),
    "vdso": _special("[vdso]", 0x7F),
    "secretmem": _secretmem,
    "sysvshm": _sysvshm,
    "aio": _special("/[aio] (deleted)"),
}


def _file_size(req: MapRequest, size: int) -> int:
    return req.file_size if req.file_size is not None else size


def user_file(path: str, page: int) -> Obj:
    """A user's own file as the kernel would see it: its real size (pages beyond EOF give
    SIGBUS) and the first byte of each page, read from the file (never written)."""
    obj = Obj("file", path, 0)
    try:
        with open(path, "rb") as f:
            obj.size = os.fstat(f.fileno()).st_size
            index = 0
            while chunk := f.read(CHUNK_PAGES * page):
                for i, byte in enumerate(chunk[::page]):  # the first byte of each page, a chunk at a time
                    obj.pages.set(index + i, index + i + 1, byte)
                index += CHUNK_PAGES
    except OSError as err:
        raise BadInput(f"bad path {path!r}: {err.strerror}") from None
    return obj


def object_for(req: MapRequest, size: int, page: int, objects: Dict[str, Obj]) -> Optional[Obj]:
    """The backing object a new region maps (None: private anonymous memory)."""
    if req.same_as:
        return objects[req.same_as]
    return MAKERS[req.kind](req, size, page)


def vm_flags(req: MapRequest, prot: int, obj: Optional[Obj], holds: Callable[[str], bool]) -> FrozenSet[str]:
    """VmFlags the kernel gives a new mapping of this kind with this protection."""
    kind = KINDS[req.kind]
    base = prot_flags(kind.kernel_prot if kind.kernel_prot is not None else prot)
    if req.kind in SPECIAL_FLAGS:
        flags = base | SPECIAL_FLAGS[req.kind]
        for rule, added, removed in RULED_FLAGS.get(req.kind, ()):
            if holds(rule):
                flags = (flags | added) - removed
        return frozenset(flags)
    flags = base | {"mr", "me"}
    if not (obj is not None and obj.backing == "file" and req.path and not req.writable and req.shared):
        flags |= {"mw"}  # a shared mapping of a read-only file may never be made writable
    if req.shared:
        flags |= {"sh", "ms"}
    elif prot & F.PROT_WRITE and not kind.huge(req.hugetlb):
        flags |= {"ac"}  # private writable memory is charged against overcommit; huge pages are reserved instead
    if kind.huge(req.hugetlb):
        flags |= {"de", "ht"}
    if req.locked:
        flags |= {"lo"}
    return frozenset(flags)


def region_size(req: MapRequest, facts: Facts) -> int:
    """The size the kernel gives the region: its own for the vDSO and an aio ring (one page), else
    the size asked for, rounded up to pages (huge pages for hugetlb)."""
    kind = KINDS[req.kind]
    if kind.kernel_size == "code":
        return -(-facts.vdso_bytes // facts.page) * facts.page
    if kind.kernel_size == "page":
        return facts.page
    size = req.size or 0
    unit = facts.huge if kind.huge(req.hugetlb) else facts.page
    return -(-size // unit) * unit
