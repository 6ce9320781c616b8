"""Getting a userfaultfd, and saying why not: shared by a scenario's uffd_register and `demo gc`.

Three ways, in order: the userfaultfd(2) system call; /dev/userfaultfd (6.1+), whose file mode is
the permission check; and, where only unprivileged users' kernel-mode faults are forbidden
(vm.unprivileged_userfaultfd = 0, 5.11+), userfaultfd(UFFD_USER_MODE_ONLY), which hears of faults
of user-space accesses only. The tool reads memory from the kernel (write(2) into a pipe, so a bad
address is EFAULT, never a signal): such a fd cannot make those reads wait, and the caller must
know it got one.
"""

from __future__ import annotations

import errno
import os
from typing import Callable, Optional, Sequence, Tuple

from mremapctl.backends.live.libc import Syscalls
from mremapctl.backends.live.structs import ioc
from mremapctl.frozen import frozen

DEV = "/dev/userfaultfd"
USERFAULTFD_IOC_NEW = ioc(0, 0x00, 0)  # on /dev/userfaultfd; the argument is the open flags
UFFD_USER_MODE_ONLY = 1  # userfaultfd(2) flag (5.11+): user-space faults only


@frozen
class Opened:
    """A userfaultfd (fd >= 0), or why there is none (errno and one line saying what was refused)."""

    fd: int = -1
    user_mode_only: bool = False
    errno: int = 0
    refusal: Optional[str] = None


def open_userfaultfd(sys: Syscalls, flags: int, user_mode_only: bool, needs: str) -> Opened:
    """A userfaultfd by the first way that works; ``user_mode_only``: whether a fd that hears of
    user-space faults only will do; ``needs``: who needs it, for the refusal ("the demo")."""
    fd, err = sys.call("userfaultfd", flags)
    if fd >= 0:
        return Opened(fd)
    if err == errno.ENOSYS:
        return Opened(errno=err, refusal="userfaultfd unavailable: this kernel is built without CONFIG_USERFAULTFD")
    if err not in (errno.EPERM, errno.EACCES):
        return Opened(errno=err, refusal=f"userfaultfd(2) failed: {os.strerror(err)}")
    dev_fd, dev_err = open_dev(sys, flags)
    if dev_fd >= 0:
        return Opened(dev_fd)
    if user_mode_only:
        fd, _ = sys.call("userfaultfd", flags | UFFD_USER_MODE_ONLY)
        if fd >= 0:
            return Opened(fd, user_mode_only=True)
    return Opened(errno=err, refusal=permission_message(err, dev_err, read_sysctl(), os.geteuid(), needs))


def open_dev(sys: Syscalls, flags: int) -> Tuple[int, int]:
    """A userfaultfd from /dev/userfaultfd (its file mode is the permission check): (fd, 0) or (-1, errno)."""
    try:
        dev = os.open(DEV, os.O_RDWR | os.O_CLOEXEC)
    except OSError as failure:
        return -1, failure.errno or errno.EACCES
    try:
        fd, err = sys.call("ioctl", dev, USERFAULTFD_IOC_NEW, flags)
    finally:
        os.close(dev)
    return (fd, 0) if fd >= 0 else (-1, err)


def read_sysctl() -> Optional[int]:
    try:
        with open("/proc/sys/vm/unprivileged_userfaultfd") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def permission_message(
    syscall_err: int, dev_err: int, sysctl: Optional[int], euid: int, needs: str = "the demo"
) -> str:
    """One line: why neither way to a userfaultfd worked here, and the three ways to fix it."""
    why_syscall = f"userfaultfd(2) gave {errno.errorcode.get(syscall_err, syscall_err)}"
    if sysctl == 0 and euid != 0:
        why_syscall += " (vm.unprivileged_userfaultfd = 0 and this process lacks CAP_SYS_PTRACE)"
    elif euid == 0:
        why_syscall += " even as root (a seccomp filter or an LSM forbids it)"
    if dev_err == errno.ENOENT:
        why_dev = f"{DEV} does not exist (Linux 6.1+)"
    else:
        why_dev = f"{DEV} is not accessible ({errno.errorcode.get(dev_err, dev_err)}{_dev_mode()})"
    return (
        f"userfaultfd not permitted: {why_syscall}, and {why_dev}; {needs} needs one of: run as root "
        "(or with CAP_SYS_PTRACE), `sysctl -w vm.unprivileged_userfaultfd=1`, or read-write access to "
        f"{DEV} for this user (e.g. a group that owns it, mode 0660)"
    )


def _dev_mode() -> str:
    """ ": crw------- root:root" for the message, or nothing when it cannot be told."""
    import grp
    import pwd
    import stat

    try:
        st = os.stat(DEV)
    except OSError:
        return ""
    return f": {stat.filemode(st.st_mode)} {_name(pwd.getpwuid, st.st_uid)}:{_name(grp.getgrgid, st.st_gid)}"


def _name(lookup: Callable[[int], Sequence[object]], ident: int) -> str:
    try:
        return str(lookup(ident)[0])
    except KeyError:
        return str(ident)
