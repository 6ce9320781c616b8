"""The C boundary: the committed cffi module is what ffi_build generates, and cffi and ctypes
give the same answers."""

from __future__ import annotations

import contextlib
import io
import os

from mremapctl.backends.live.ffi_build import OUTPUT, generated_source
from mremapctl.backends.live.libc import Syscalls


def test_committed_abi_module_is_current() -> None:
    with contextlib.redirect_stdout(io.StringIO()):  # cffi announces what it generates
        assert OUTPUT.read_text() == generated_source(), "regenerate: python -m mremapctl.backends.live.ffi_build"


def test_cffi_and_ctypes_agree() -> None:
    cffi_sys, ctypes_sys = Syscalls(prefer_cffi=True), Syscalls(prefer_cffi=False)
    assert (cffi_sys.flavour, ctypes_sys.flavour) == ("cffi", "ctypes")
    for sys_ in (cffi_sys, ctypes_sys):
        assert sys_.call("mremap", 0x100000001, 4096, 4096, 0, 0) == (-1, 22)  # unaligned: EINVAL
        assert sys_.call("mremap", 0x1000, 2**64 - 1, 4096, 1, 0)[1] in (14, 22)  # arguments pass as 64 bits
        ppid = os.getppid()
        assert sys_.call("write", -1, 0, 0) == (-1, 9)  # EBADF
        buf = bytearray(b"abc")
        assert sys_.address(buf) != 0 and ppid > 0


def test_timed_calls_answer_as_plain_calls_do() -> None:
    for sys_ in (Syscalls(prefer_cffi=True), Syscalls(prefer_cffi=False)):
        ret, err, ns = sys_.timed(sys_.prepare("write", -1, 0, 0))
        assert (ret, err) == (-1, 9) and ns > 0
        assert sys_.timed(sys_.prepare("getppid", 0, 0, 0, 0, 0))[:2] == (os.getppid(), 0)
