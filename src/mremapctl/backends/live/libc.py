"""The one C entry point the live backend needs: ``syscall(2)``, through cffi or ctypes.

cffi (out-of-line ABI mode, see ffi_build.py) is preferred; ctypes is the fallback for
target machines where cffi is not installed (Termux, minimal images). Everything else is
done with raw syscall numbers and byte buffers, so both paths are this small.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Tuple

from mremapctl.backends.live.syscalls import host_table

Prepared = Tuple[Any, ...]  # a call's number and arguments, already C longs


class Syscalls:
    """``call("mremap", a, b, …) -> (return value, errno)``; errno is 0 on success.

    ``prepare`` and ``timed`` split a call in two for timing (bench, demo gc): the arguments
    are converted before the clock starts, so a sample holds the libffi call, the kernel
    entry and exit, and the kernel's work.
    """

    flavour: str

    def __init__(self, prefer_cffi: bool = True) -> None:
        numbers = host_table()
        self._long: Callable[[int], Any]  # a Python int as a C long, for the variadic syscall()
        self._syscall: Callable[..., int]
        self._errno: Callable[[], int]
        self._address: Callable[[bytearray], int]
        if prefer_cffi:
            try:
                self._use_cffi()
            except ImportError:
                self._use_ctypes()
        else:
            self._use_ctypes()
        self._numbers: Dict[str, Any] = {name: self._long(nr) for name, nr in numbers.items()}  # once, not per call

    def _use_cffi(self) -> None:
        from mremapctl.backends.live._abi import ffi

        lib: Any = ffi.dlopen(None)
        cast = ffi.cast
        self._long = lambda value: cast("long", value)
        self._syscall = lib.syscall
        self._errno = lambda: int(ffi.errno)
        self._address = lambda buf: int(cast("long", ffi.from_buffer(buf)))
        self.flavour = "cffi"

    def _use_ctypes(self) -> None:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        syscall = libc.syscall
        syscall.restype = ctypes.c_long
        self._long = lambda value: ctypes.c_long(value & 0xFFFFFFFFFFFFFFFF)
        self._syscall = syscall
        self._errno = ctypes.get_errno
        self._address = lambda buf: ctypes.addressof((ctypes.c_char * len(buf)).from_buffer(buf))
        self.flavour = "ctypes"

    def call(self, name: str, *args: int) -> Tuple[int, int]:
        long = self._long
        ret = self._syscall(self._numbers[name], *[long(a) for a in args])
        return (ret, self._errno()) if ret == -1 else (ret, 0)

    def prepare(self, name: str, *args: int) -> Prepared:
        long = self._long
        return (self._numbers[name], *[long(a) for a in args])

    def timed(self, prepared: Prepared) -> Tuple[int, int, int]:
        """One prepared call: (return value, errno or 0, elapsed ns of the call alone)."""
        syscall, clock = self._syscall, time.perf_counter_ns
        start = clock()
        ret = syscall(*prepared)
        elapsed = clock() - start
        return ret, (self._errno() if ret == -1 else 0), elapsed

    def address(self, buf: bytearray) -> int:
        """The address of a bytearray's storage (valid while it lives and is not resized)."""
        return self._address(buf)
