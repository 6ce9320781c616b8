"""How each mapping kind is made for real, at an exact lab address.

Each maker returns (address, size) or raises OSError with the errno of the call that
failed; kinds that need something this machine lacks raise Unavailable with the reason.
"""

from __future__ import annotations

import errno
import os
from typing import Callable, Dict, Tuple

from mremapctl import flags as F
from mremapctl.backends.live.libc import Syscalls
from mremapctl.backends.live.structs import perf_attr
from mremapctl.errors import BadInput, Unavailable
from mremapctl.maps import parse_maps
from mremapctl.primitives import MapRequest

MFD_CLOEXEC, MFD_HUGETLB = 0x1, 0x4
IPC_PRIVATE, IPC_CREAT, IPC_RMID, SHM_RDONLY, SHM_REMAP = 0, 0o1000, 0, 0o10000, 0o40000
PERF_FLAG_FD_CLOEXEC = 8


def meminfo(key: str) -> int:
    """A /proc/meminfo value in bytes (or a count, for HugePages_*)."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                parts = line.split()
                return int(parts[1]) * (1024 if parts[-1] == "kB" else 1)
    raise KeyError(key)


class Makers:
    """Creates regions; remembers each region's backing object so ``same_as`` can reuse it."""

    def __init__(self, sys: Syscalls) -> None:
        self.sys = sys
        self.fds: Dict[str, int] = {}

    def make(self, req: MapRequest, prot: int) -> Tuple[int, int]:
        maker: Callable[[MapRequest, int], Tuple[int, int]] = getattr(self, "make_" + req.kind)
        return maker(req, prot)

    # -- helpers -------------------------------------------------------------------------

    def check(self, result: Tuple[int, int]) -> int:
        ret, err = result
        if ret == -1:
            raise OSError(err, os.strerror(err))
        return ret

    def mmap(self, req: MapRequest, prot: int, fd: int = -1) -> Tuple[int, int]:
        flags = req.map_flags()
        size = req.size or 0
        addr = self.check(self.sys.call("mmap", req.addr, size, prot, flags, fd, 0))
        if addr != req.addr:  # a kernel before 4.17 treats FIXED_NOREPLACE as a hint
            self.sys.call("munmap", addr, size)
            raise OSError(errno.EEXIST, "the lab address is taken")
        return addr, size

    def object_fd(self, req: MapRequest, create: Callable[[], int]) -> int:
        if req.same_as:
            if req.same_as not in self.fds:
                raise BadInput(f"same_as = {req.same_as!r}: that region has no object to share")
            return self.fds[req.same_as]
        fd = create()
        self.fds[req.name] = fd
        return fd

    def sized(self, fd: int, req: MapRequest) -> int:
        if not req.same_as:
            os.ftruncate(fd, req.file_size if req.file_size is not None else req.size or 0)
        return fd

    def check_huge_pages(self, size: int) -> None:
        free = meminfo("HugePages_Free")
        page = meminfo("Hugepagesize")
        needed = max(1, -(-size // page))
        if free < needed:
            with open("/proc/sys/vm/nr_hugepages") as f:
                total = f.read().strip()
            if free == 0:
                raise Unavailable(f"hugetlb unavailable: no huge pages reserved (vm.nr_hugepages = {total})")
            raise Unavailable(
                f"hugetlb unavailable: {free} free huge pages, {needed} needed (vm.nr_hugepages = {total})"
            )

    def relocate(self, req: MapRequest, path: str) -> Tuple[int, int]:
        """Move a kernel-placed mapping (found by its maps path) to the lab address."""
        with open("/proc/self/maps") as f:
            entries, _ = parse_maps(f.read())
        found = [e for e in entries if e.path == path or e.path.startswith(path)]
        if not found:
            raise Unavailable(f"{req.kind} unavailable: no {path} mapping in this process")
        entry = found[-1]
        size = entry.size
        if any(e.start < req.addr + size and req.addr < e.end for e in entries) and not req.replace:
            raise OSError(errno.EEXIST, "the lab address is taken")
        flags = F.MREMAP_MAYMOVE | F.MREMAP_FIXED
        self.check(self.sys.call("mremap", entry.start, size, size, flags, req.addr))
        return req.addr, size

    # -- kinds ---------------------------------------------------------------------------

    def make_anon(self, req: MapRequest, prot: int) -> Tuple[int, int]:
        return self.mmap(req, prot)

    def make_shmem(self, req: MapRequest, prot: int) -> Tuple[int, int]:
        if req.hugetlb:
            self.check_huge_pages(req.size or 0)
        return self.mmap(req, prot)

    def make_hugetlb(self, req: MapRequest, prot: int) -> Tuple[int, int]:
        self.check_huge_pages(req.size or 0)
        return self.mmap(req, prot)

    def make_memfd(self, req: MapRequest, prot: int) -> Tuple[int, int]:
        if req.hugetlb:
            self.check_huge_pages(req.file_size or req.size or 0)
        fd = self.object_fd(req, lambda: os.memfd_create(req.name, MFD_CLOEXEC | (MFD_HUGETLB if req.hugetlb else 0)))
        return self.mmap(req, prot, self.sized(fd, req))

    def make_secretmem(self, req: MapRequest, prot: int) -> Tuple[int, int]:
        def create() -> int:
            fd, err = self.sys.call("memfd_secret", os.O_CLOEXEC)
            if fd == -1:
                why = (
                    "kernel without CONFIG_SECRETMEM, or booted without secretmem.enable"
                    if err == errno.ENOSYS
                    else os.strerror(err)
                )
                raise Unavailable(f"secretmem unavailable: memfd_secret() failed: {why}")
            return fd

        return self.mmap(req, prot, self.sized(self.object_fd(req, create), req))

    def make_file(self, req: MapRequest, prot: int) -> Tuple[int, int]:
        if req.path:

            def open_existing() -> int:
                try:
                    return os.open(req.path, (os.O_RDWR if req.writable else os.O_RDONLY) | os.O_CLOEXEC)  # type: ignore[arg-type]
                except OSError as err:
                    raise BadInput(f"path = {req.path!r}: {err.strerror}") from None

            return self.mmap(req, prot, self.object_fd(req, open_existing))

        def create() -> int:
            directory = req.dir or _temp_dir()
            name = os.path.join(directory, f"mremapctl.{os.getpid()}.{req.name}")
            try:
                fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            except OSError as err:
                raise BadInput(f"dir = {directory!r}: cannot create a file there: {err.strerror}") from None
            os.unlink(name)  # nothing left behind, whatever happens to the child; maps say "(deleted)"
            return fd

        return self.mmap(req, prot, self.sized(self.object_fd(req, create), req))

    def make_devzero(self, req: MapRequest, prot: int) -> Tuple[int, int]:
        fd = os.open("/dev/zero", os.O_RDWR | os.O_CLOEXEC)
        try:
            return self.mmap(req, prot, fd)
        finally:
            os.close(fd)

    def make_perf(self, req: MapRequest, prot: int) -> Tuple[int, int]:
        def create() -> int:
            attr = perf_attr()
            fd, err = self.sys.call("perf_event_open", self.sys.address(attr), 0, -1, -1, PERF_FLAG_FD_CLOEXEC)
            if fd == -1:
                raise Unavailable(
                    f"perf unavailable: perf_event_open() failed: {os.strerror(err)}"
                    + (" (kernel.perf_event_paranoid too high?)" if err in (errno.EACCES, errno.EPERM) else "")
                )
            return fd

        return self.mmap(req, prot, self.object_fd(req, create))

    def make_sysvshm(self, req: MapRequest, prot: int) -> Tuple[int, int]:
        shmid = self.check(self.sys.call("shmget", IPC_PRIVATE, req.size or 0, IPC_CREAT | 0o600))
        try:
            flags = (0 if prot & F.PROT_WRITE else SHM_RDONLY) | (SHM_REMAP if req.replace else 0)
            addr = self.check(self.sys.call("shmat", shmid, req.addr, flags))
        finally:
            self.sys.call("shmctl", shmid, IPC_RMID, 0)  # freed when the child detaches or exits
        return addr, req.size or 0

    def make_vdso(self, req: MapRequest, prot: int) -> Tuple[int, int]:
        with open("/proc/self/maps") as f:
            entries, _ = parse_maps(f.read())
        found = [e for e in entries if e.path == "[vdso]"]
        if not found:
            raise Unavailable("vdso unavailable: this process has no [vdso] mapping")
        vdso = found[0]
        with open("/proc/self/mem", "rb", buffering=0) as mem:
            mem.seek(vdso.start)
            text = mem.read(vdso.size)
        addr, size = self.relocate(req, "[vdso]")
        self.leave_copy(vdso.start, text)
        return addr, size

    def leave_copy(self, start: int, text: bytes) -> None:
        """Put a copy of the vDSO's code where it was.

        The C library keeps pointers to vDSO functions (clock_gettime …) found at start-up, and
        Python calls them; once the vDSO has moved they would jump into nothing. The copy still
        reaches the unmoved [vvar] page at its old distance, so those calls keep working.
        """
        flags = F.MAP_PRIVATE | F.MAP_ANONYMOUS | F.MAP_FIXED_NOREPLACE
        self.check(self.sys.call("mmap", start, len(text), F.PROT_READ | F.PROT_WRITE, flags, -1, 0))
        with open("/proc/self/mem", "r+b", buffering=0) as mem:
            mem.seek(start)
            mem.write(text)
        self.check(self.sys.call("mprotect", start, len(text), F.PROT_READ | F.PROT_EXEC))

    def make_aio(self, req: MapRequest, prot: int) -> Tuple[int, int]:
        ctx = bytearray(8)
        self.check(self.sys.call("io_setup", 1, self.sys.address(ctx)))
        ring = int.from_bytes(ctx, "little")
        with open("/proc/self/maps") as f:
            entries, _ = parse_maps(f.read(), [(ring, ring + 1)])
        path = entries[0].path if entries else "[aio]"
        return self.relocate(req, path)


def _temp_dir() -> str:
    import tempfile  # with shutil and random behind it: only when a file is made

    return tempfile.gettempdir()
