"""The live :class:`~mremapctl.engine.Machine`: each primitive is the real syscall."""

from __future__ import annotations

import os
from typing import Dict, List, Optional, Sequence, Tuple

from mremapctl import flags as F
from mremapctl.backends.live import structs
from mremapctl.backends.live.libc import Syscalls
from mremapctl.backends.live.makers import Makers, meminfo
from mremapctl.backends.live.memory import Memory
from mremapctl.backends.live.userfaultfd import open_userfaultfd
from mremapctl.errors import BadInput
from mremapctl.kernel import parse_version, running_release
from mremapctl.kinds import KINDS
from mremapctl.lab import align_up
from mremapctl.limits import POPULATE_FLOOR, POPULATE_SHARE
from mremapctl.maps import parse_maps, parse_smaps
from mremapctl.primitives import MapRequest, Outcome
from mremapctl.results import MapEntry, PageRuns, fill_note
from mremapctl.units import approx_size, format_size

UFFD_FEATURES_WANTED = 1 << 9 | 1 << 10 | 1 << 12  # MINOR_HUGETLBFS | MINOR_SHMEM | WP_HUGETLBFS_SHMEM
USER_MODE_ONLY_NOTE = (
    "unprivileged here (vm.unprivileged_userfaultfd = 0): the userfaultfd is UFFD_USER_MODE_ONLY, which hears of "
    "user-space faults only; the tool reads through the kernel, so a read that a user-space access would "
    "leave waiting for the handler is reported uffd from the range's VmFlags (um, ui)"
)
RLIMITS = {"memlock": 8, "address_space": 9, "data": 2}  # RLIMIT_* on x86_64 and aarch64 alike


def _outcome(ret: int, err: int) -> Outcome:
    return Outcome(errno=err) if ret == -1 else Outcome(value=ret)


class LiveMachine:
    backend = "live"

    def __init__(self, sys: Syscalls, force: bool = False) -> None:
        self.sys = sys
        self.page_size = os.sysconf("SC_PAGE_SIZE")
        self.version = parse_version(running_release(os.uname().release, os.uname().version))
        self.force = force
        self.memory = Memory(sys, self.page_size)
        self.makers = Makers(sys)
        self.uffd = -1

    # -- regions -------------------------------------------------------------------------

    def check_populate(self, size: int, why: str) -> None:
        if size <= POPULATE_FLOOR:
            return  # not worth reading /proc/meminfo for (every matrix cell populates a few pages)
        available = meminfo("MemAvailable")
        if size > available * POPULATE_SHARE and not self.force:
            raise BadInput(
                f"refusing to populate {format_size(size)} ({why}): more than half of MemAvailable "
                f"({approx_size(available)}); pass --force to insist"
            )

    def map_region(self, req: MapRequest) -> Outcome:
        size = req.size or 0
        if req.fill is not None:
            self.check_populate(size, "fill")
        if req.locked:
            self.check_populate(size, "MAP_LOCKED")
        # Filling needs write access; the requested protection is applied afterwards.
        prot = req.prot | (F.PROT_READ | F.PROT_WRITE if req.fill is not None else 0)
        try:
            addr, size = self.makers.make(req, prot)
        except OSError as err:
            return Outcome(errno=err.errno)
        # The region is what the kernel mapped: whole pages, or whole huge pages for hugetlb.
        size = align_up(size, meminfo("Hugepagesize") if KINDS[req.kind].huge(req.hugetlb) else self.page_size)
        note = None
        if req.fill is not None:
            note = fill_note(self.write(addr, size, req.fill))
            if prot != req.prot:
                self.sys.call("mprotect", addr, size, req.prot)
        return Outcome(value=addr, size=size, note=note)

    # -- syscalls ------------------------------------------------------------------------

    def mremap(self, old: int, old_size: int, new_size: int, flags: int, new_addr: int) -> Outcome:
        return _outcome(*self.sys.call("mremap", old, old_size, new_size, flags, new_addr))

    def munmap(self, addr: int, size: int) -> Outcome:
        return _outcome(*self.sys.call("munmap", addr, size))

    def mprotect(self, addr: int, size: int, prot: int) -> Outcome:
        return _outcome(*self.sys.call("mprotect", addr, size, prot))

    def mlock(self, addr: int, size: int, onfault: bool) -> Outcome:
        self.check_populate(size, "mlock")
        if onfault:
            return _outcome(*self.sys.call("mlock2", addr, size, 1))
        return _outcome(*self.sys.call("mlock", addr, size))

    def munlock(self, addr: int, size: int) -> Outcome:
        return _outcome(*self.sys.call("munlock", addr, size))

    def mseal(self, addr: int, size: int) -> Outcome:
        return _outcome(*self.sys.call("mseal", addr, size, 0))

    def madvise(self, addr: int, size: int, advice: int) -> Outcome:
        return _outcome(*self.sys.call("madvise", addr, size, advice))

    def uffd_register(self, addr: int, size: int, mode: int) -> Outcome:
        first = self.uffd < 0
        if first:
            refused = self._open_uffd()
            if refused:
                return refused
        reg = structs.uffdio_register(addr, size, mode)
        ret, err = self.sys.call("ioctl", self.uffd, structs.UFFDIO_REGISTER, self.sys.address(reg))
        if ret != 0:
            return _outcome(ret, err)
        self.memory.uffd_armed = True
        return Outcome(value=0, note=USER_MODE_ONLY_NOTE if first and self.memory.uffd_user_mode_only else None)

    def _open_uffd(self) -> Optional[Outcome]:
        """Open the process's userfaultfd (at its first registration); an Outcome saying what was
        refused, with the refused call, or None."""
        flags = os.O_CLOEXEC | os.O_NONBLOCK
        for features in (UFFD_FEATURES_WANTED, 0):  # older kernels refuse features they lack
            opened = open_userfaultfd(self.sys, flags, user_mode_only=True, needs="uffd_register")
            if opened.fd < 0:
                return Outcome(errno=opened.errno, note=opened.refusal, call="userfaultfd(O_CLOEXEC|O_NONBLOCK)")
            api = structs.uffdio_api(features)
            ret, err = self.sys.call("ioctl", opened.fd, structs.UFFDIO_API, self.sys.address(api))
            if ret == 0:
                self.uffd = opened.fd
                self.memory.uffd_user_mode_only = opened.user_mode_only
                return None
            os.close(opened.fd)
        return Outcome(
            errno=err, call="ioctl(uffd, UFFDIO_API, {UFFD_API, 0})", note="the userfaultfd handshake failed"
        )

    def setrlimit(self, limits: Dict[str, int]) -> Outcome:
        """prlimit64(2) itself: Python's resource module turns the kernel's EPERM into ValueError."""
        for name, value in limits.items():
            new = structs.rlimit64(value, value)
            ret, err = self.sys.call("prlimit64", 0, RLIMITS[name], self.sys.address(new), 0)
            if ret == -1:
                return Outcome(errno=err)
        return Outcome(value=0)

    def drop_cap(self, cap: int) -> Outcome:
        header = structs.cap_header()
        data = bytearray(24)  # two {effective, permitted, inheritable} u32 triples
        ret, err = self.sys.call("capget", self.sys.address(header), self.sys.address(data))
        if ret == -1:
            return Outcome(errno=err)
        data = structs.cap_data_without(data, cap)
        return _outcome(*self.sys.call("capset", self.sys.address(header), self.sys.address(data)))

    # -- observation ---------------------------------------------------------------------

    def read_runs(self, addr: int, size: int) -> PageRuns:
        return self.memory.read_runs(addr, size)

    def write(self, addr: int, size: int, byte: int) -> PageRuns:
        return self.memory.write(addr, size, byte)

    def snapshot(self, window: Optional[Sequence[Tuple[int, int]]], vm_flags: bool) -> Tuple[List[MapEntry], int]:
        path = "/proc/self/smaps" if vm_flags else "/proc/self/maps"
        with open(path) as f:
            text = f.read()
        return (parse_smaps if vm_flags else parse_maps)(text, window)
