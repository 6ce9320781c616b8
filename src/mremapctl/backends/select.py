"""Pick the backend a command asked for, importing only that one.

``auto`` is live on Linux when the lab can be reserved, the simulation otherwise; the
reason is recorded for the header.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Callable, Optional, Tuple

from mremapctl.backends.base import Backend
from mremapctl.errors import BadInput, Unavailable
from mremapctl.lab import LAB_SIZE, Lab
from mremapctl.platforms import Platform, host_platform, platform

if TYPE_CHECKING:
    from mremapctl.backends.live.runner import LiveBackend
    from mremapctl.backends.sim.backend import SimBackend

BACKENDS = ("auto", "live", "sim", "vm")


def open_backend(
    name: str = "auto",
    kernel: Optional[str] = None,
    progress: Optional[Callable[[str], None]] = None,
    lab_size: int = LAB_SIZE,
    arch: Optional[str] = None,
    page_size: Optional[str] = None,
) -> Tuple[Backend, Optional[str]]:
    """The backend, and why it was chosen when ``auto`` chose; ``progress`` hears of the vm
    backend's downloads and boots (the library never prints); ``arch`` and ``page_size`` choose
    the vm's guest kernel (default: this machine's architecture, 4K pages)."""
    if name not in BACKENDS:
        raise BadInput(f"unknown backend {name!r} (known: {', '.join(BACKENDS)})")
    shape = None if arch is None and page_size is None else platform(arch, page_size)
    if name == "sim":
        return open_sim(kernel, lab_size, shape), None
    if name == "vm":
        if lab_size != LAB_SIZE:
            raise BadInput("--lab-size applies to the live and sim backends (a vm guest has the default lab)")
        if kernel is None:
            raise BadInput("--backend vm needs --kernel VERSION (e.g. 5.10; `mremapctl vm list` shows them)")
        from mremapctl.backends.vm.backend import VmBackend

        return VmBackend(kernel, progress=progress, arch=arch, page_size=page_size), None
    if shape is not None and (not sys.platform.startswith("linux") or shape != host_platform()):
        if name == "live":
            raise BadInput(f"--backend live runs on this machine ({host_platform().label}), not on {shape.label}")
        return open_sim(kernel, lab_size, shape), f"{shape.label} is not this machine: simulated"
    if kernel is not None and name == "auto":
        live_version = running_kernel()
        if live_version is None or not _same_series(kernel, live_version):
            return open_sim(kernel, lab_size), f"--kernel {kernel} is not this machine's kernel: simulated"
    try:
        backend = open_live(lab_size)
    except Unavailable as err:
        if name == "live":
            raise
        return open_sim(kernel, lab_size), f"live unavailable ({err}): simulated"
    if kernel is not None and not _same_series(kernel, running_kernel() or backend.kernel):
        raise BadInput(f"--backend live runs this machine's kernel ({backend.kernel}), not {kernel}; use --backend sim")
    return backend, "auto: live, real syscalls on this machine" if name == "auto" else None


def _same_series(requested: str, release: str) -> bool:
    """Whether the running kernel is the one asked for: its series, or its point release if one is given."""
    from mremapctl.kernel import has_point, parse_version

    asked, running = parse_version(requested), parse_version(release)
    return asked == running if has_point(requested) else asked[:2] == running[:2]


def open_live(lab_size: int = LAB_SIZE) -> LiveBackend:
    if not sys.platform.startswith("linux"):
        raise Unavailable(f"live backend unavailable: this is {sys.platform}, not Linux")
    from mremapctl.backends.live.runner import LiveBackend

    return LiveBackend(lab_size=lab_size)


def open_sim(kernel: Optional[str], lab_size: int = LAB_SIZE, shape: Optional[Platform] = None) -> SimBackend:
    """A model of ``kernel`` (default: this machine's) on ``shape`` (default: this machine's)."""
    from mremapctl.backends.sim.backend import SimBackend
    from mremapctl.kernel import resolve

    return SimBackend(resolve(kernel, running_kernel()), Lab(size=lab_size), shape)


def running_kernel() -> Optional[str]:
    """The running kernel's release to model it by (None off Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    from mremapctl.kernel import running_release

    return running_release(os.uname().release, os.uname().version)
