"""The timed syscall path: ``perf_counter_ns`` around one cffi ``syscall()``, and its own cost.

Arguments are converted to C longs before the clock starts, so a sample holds the libffi
call, the kernel entry and exit, and the kernel's work. Everything but the kernel's work
is the same for every syscall with the same arguments, so it is measured once with a
no-op syscall (getppid, which ignores the five extra arguments) through the same path,
and subtracted.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from typing import Any, Callable, List, Sequence, Tuple

from mremapctl.backends.live.syscalls import ALIASES

# Not in the live backend's table (it never needs them): getppid is the no-op we time.
GETPPID = {"x86_64": 110, "aarch64": 173}
OVERHEAD_SAMPLES = 4000


@dataclass(frozen=True)
class Overhead:
    """The per-call cost of the timed path itself, in ns (what a no-op syscall measures)."""

    min_ns: int
    median_ns: int
    p90_ns: int


class TimedCall:
    """``prepare(*args)`` once, then ``timed(nr, prepared) -> (ret, errno, ns)`` per sample."""

    flavour: str

    def __init__(self) -> None:
        self._convert: Callable[[int], Any]
        self._syscall: Callable[..., int]
        self._errno: Callable[[], int]
        try:
            self._use_cffi()
        except ImportError:  # pragma: no cover - machines without cffi
            self._use_ctypes()
        arch = ALIASES.get(platform.machine(), platform.machine())
        self.getppid = GETPPID.get(arch, 110)

    def _use_cffi(self) -> None:
        from mremapctl.backends.live._abi import ffi

        lib: Any = ffi.dlopen(None)
        self._convert = lambda value: ffi.cast("long", value)
        self._syscall = lib.syscall
        self._errno = lambda: int(ffi.errno)
        self.flavour = "cffi"

    def _use_ctypes(self) -> None:  # pragma: no cover - machines without cffi
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        syscall = libc.syscall
        syscall.restype = ctypes.c_long
        self._convert = lambda value: ctypes.c_long(value & 0xFFFFFFFFFFFFFFFF)
        self._syscall = syscall
        self._errno = ctypes.get_errno
        self.flavour = "ctypes"

    def prepare(self, nr: int, *args: int) -> Tuple[Any, ...]:
        return (self._convert(nr), *(self._convert(a) for a in args))

    def timed(self, prepared: Sequence[Any]) -> Tuple[int, int, int]:
        """One call: (return value, errno or 0, elapsed ns)."""
        syscall, clock = self._syscall, time.perf_counter_ns
        start = clock()
        ret = syscall(*prepared)
        elapsed = clock() - start
        return ret, (self._errno() if ret == -1 else 0), elapsed

    def overhead(self, samples: int = OVERHEAD_SAMPLES) -> Overhead:
        """Time getppid with five arguments, as many as mremap passes, through this same path."""
        prepared = self.prepare(self.getppid, 0, 0, 0, 0, 0)
        for _ in range(samples // 4):  # warm up: a fresh fork pays copy-on-write faults at first
            self.timed(prepared)
        times: List[int] = sorted(self.timed(prepared)[2] for _ in range(samples))
        return Overhead(times[0], times[len(times) // 2], times[min(len(times) - 1, len(times) * 9 // 10)])
