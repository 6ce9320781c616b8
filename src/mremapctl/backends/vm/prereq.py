"""Check the host tools the vm backend shells out to, before any slow work starts.

A missing tool deep inside a fetch or a boot gives a confusing error; checking
first lets us say, in one line, which Debian packages to install.
"""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

from mremapctl.backends.vm.errors import PrerequisiteError

BUSYBOX_ENV = "MREMAPCTL_VM_BUSYBOX"

ALL_TOOLS = ("qemu-system-x86_64", "busybox", "zstd", "xz", "apt-get")
# arm64 guests boot Debian's arm64 busybox and Python (unpacked with dpkg-deb), not the host's
ARM64_TOOLS = ("qemu-system-aarch64", "xz", "apt-get", "dpkg-deb")
# the line we always suggest; xz-utils is added only when xz itself is missing
BASE_INSTALL = ("qemu-system-x86", "busybox-static", "zstd")
ARM64_INSTALL = ("qemu-system-arm",)

Which = Callable[[str], Optional[str]]


def is_static_elf(path: Path) -> bool:
    """True when the ELF file has no PT_INTERP header, i.e. needs no dynamic loader.

    The initramfs has no libc, so only a static busybox can run as its /init.
    """
    try:
        with open(path, "rb") as f:
            ident = f.read(64)
            if len(ident) < 64 or ident[:4] != b"\x7fELF" or ident[4] != 2:
                return False
            end = "<" if ident[5] == 1 else ">"
            (phoff,) = struct.unpack_from(end + "Q", ident, 32)
            phentsize, phnum = struct.unpack_from(end + "HH", ident, 54)
            f.seek(phoff)
            table = f.read(phentsize * phnum)
    except OSError:
        return False
    for i in range(phnum):
        (p_type,) = struct.unpack_from(end + "I", table, i * phentsize)
        if p_type == 3:  # PT_INTERP
            return False
    return True


def find_busybox(which: Which = shutil.which) -> Optional[Path]:
    """The busybox to put in the initramfs: $MREMAPCTL_VM_BUSYBOX, else the first static one found."""
    explicit = os.environ.get(BUSYBOX_ENV)
    candidates: List[str] = []
    if explicit:
        candidates.append(explicit)
    else:
        found = which("busybox")
        candidates += [found] if found else []
        candidates += ["/bin/busybox", "/usr/bin/busybox"]
    for cand in candidates:
        path = Path(cand)
        if path.is_file() and is_static_elf(path):
            return path
    return None


def missing_tools(
    tools: Sequence[str] = ALL_TOOLS, which: Which = shutil.which, busybox: Callable[[], Optional[Path]] = find_busybox
) -> List[str]:
    """The subset of `tools` this host lacks (busybox counts only when static)."""
    missing = []
    for tool in tools:
        ok = busybox() is not None if tool == "busybox" else which(tool) is not None
        if not ok:
            missing.append(tool)
    return missing


def tools_for(arch: str) -> Tuple[str, ...]:
    """The host tools a guest of Debian architecture `arch` needs."""
    return ARM64_TOOLS if arch == "arm64" else ALL_TOOLS


def install_hint(missing: Sequence[str], arch: str = "amd64") -> str:
    """One line saying what is missing and which apt packages bring it."""
    if "apt-get" in missing or "dpkg-deb" in missing:
        return "vm backend needs apt-get (a Debian-like host) to download Debian kernels; missing: " + ", ".join(
            missing
        )
    names = [("static busybox" if t == "busybox" else t) for t in missing]
    pkgs = list(ARM64_INSTALL if arch == "arm64" else BASE_INSTALL) + (["xz-utils"] if "xz" in missing else [])
    return f"vm backend needs {', '.join(names)}: apt-get install {' '.join(pkgs)}"


def check_prerequisites(
    tools: Sequence[str] = ALL_TOOLS, which: Which = shutil.which, busybox: Callable[[], Optional[Path]] = find_busybox
) -> None:
    """Raise PrerequisiteError (one line) unless every tool in `tools` is present."""
    missing = missing_tools(tools, which, busybox)
    if missing:
        raise PrerequisiteError(install_hint(missing))


def check_arch(arch: str) -> None:
    """check_prerequisites for a guest of Debian architecture `arch`."""
    missing = missing_tools(tools_for(arch))
    if missing:
        raise PrerequisiteError(install_hint(missing, arch))
