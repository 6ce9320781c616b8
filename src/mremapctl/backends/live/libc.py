"""The one C entry point the live backend needs: ``syscall(2)``, through cffi or ctypes.

cffi (out-of-line ABI mode, see ffi_build.py) is preferred; ctypes is the fallback for
target machines where cffi is not installed (Termux, minimal images). Everything else is
done with raw syscall numbers and byte buffers, so both paths are this small.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Tuple

from mremapctl.backends.live.syscalls import host_table


class Syscalls:
    """``call("mremap", a, b, …) -> (return value, errno)``; errno is 0 on success."""

    flavour: str

    def __init__(self, prefer_cffi: bool = True) -> None:
        self.numbers: Dict[str, int] = host_table()
        self._call: Callable[..., Tuple[int, int]]
        self._address: Callable[[bytearray], int]
        if prefer_cffi:
            try:
                self._use_cffi()
                return
            except ImportError:
                pass
        self._use_ctypes()

    def _use_cffi(self) -> None:
        from mremapctl.backends.live._abi import ffi

        lib: Any = ffi.dlopen(None)
        cast = ffi.cast

        def call(nr: int, *args: int) -> Tuple[int, int]:
            ret = lib.syscall(nr, *[cast("long", a) for a in args])
            return (ret, ffi.errno) if ret == -1 else (ret, 0)

        def address(buf: bytearray) -> int:
            return int(cast("long", ffi.from_buffer(buf)))

        self._call, self._address, self.flavour = call, address, "cffi"

    def _use_ctypes(self) -> None:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        syscall = libc.syscall
        syscall.restype = ctypes.c_long

        def call(nr: int, *args: int) -> Tuple[int, int]:
            ctypes.set_errno(0)
            ret = syscall(ctypes.c_long(nr), *[ctypes.c_long(a & 0xFFFFFFFFFFFFFFFF) for a in args])
            return (ret, ctypes.get_errno()) if ret == -1 else (ret, 0)

        def address(buf: bytearray) -> int:
            return ctypes.addressof((ctypes.c_char * len(buf)).from_buffer(buf))

        self._call, self._address, self.flavour = call, address, "ctypes"

    def call(self, name: str, *args: int) -> Tuple[int, int]:
        return self._call(self.numbers[name], *args)

    def address(self, buf: bytearray) -> int:
        """The address of a bytearray's storage (valid while it lives and is not resized)."""
        return self._address(buf)
