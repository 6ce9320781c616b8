"""The vm backend: run a command inside a real Debian kernel booted under qemu.

Typical use::

    from mremapctl.backends import vm
    result = vm.run_in_kernel("5.10", ["/path/to/python", "probe.py"], cwd=".")

Kernels come from Debian's mirrors through a private apt configuration and are
cached (see `cache_dir()`); `available()`, `fetch()` and `clean()` manage them.
"""

from __future__ import annotations

from mremapctl.backends.vm.cache import cache_dir
from mremapctl.backends.vm.errors import (
    GuestCrashed,
    GuestTimeout,
    KernelNotFound,
    MirrorUnavailable,
    PrerequisiteError,
    UnsupportedKernel,
    VMError,
)
from mremapctl.backends.vm.kernels import Kernel, available, cached_kernels, clean, fetch, get, resolve
from mremapctl.backends.vm.packages import KernelPackage
from mremapctl.backends.vm.prereq import check_arch, check_prerequisites
from mremapctl.backends.vm.qemu import GuestResult, run_in_kernel

__all__ = [
    "GuestCrashed",
    "GuestResult",
    "GuestTimeout",
    "Kernel",
    "KernelNotFound",
    "KernelPackage",
    "MirrorUnavailable",
    "PrerequisiteError",
    "UnsupportedKernel",
    "VMError",
    "available",
    "cache_dir",
    "cached_kernels",
    "check_arch",
    "check_prerequisites",
    "clean",
    "fetch",
    "get",
    "resolve",
    "run_in_kernel",
]
