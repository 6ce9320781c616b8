"""The guest architectures the vm backend boots, and the Debian flavour of each page size.

amd64 guests share the host's root and Python; arm64 guests cannot run the host's
binaries, so they boot Debian's own arm64 userland packed into the initramfs (userland.py).
Names are Debian's (amd64, arm64); `uname -m` names (x86_64, aarch64) are accepted too.
"""

from __future__ import annotations

import platform
import re
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from mremapctl.errors import BadInput


@dataclass(frozen=True)
class Arch:
    """What differs per guest architecture: the emulator, its machine, console and flavours."""

    name: str  # Debian's architecture name
    machine: str  # uname -m in the guest
    qemu: str  # the emulator binary
    qemu_package: str  # the Debian package that ships it
    machine_args: Tuple[str, ...]  # -M / -cpu for qemu
    append: str  # the kernel command line: console, panic on oops, /init from the initramfs
    flavours: Dict[int, str]  # page size -> the plain Debian flavour with that page size
    host_userland: bool  # True: the guest runs the host's root and Python (same architecture)

    def flavour(self, page_size: Optional[int]) -> str:
        """The plain flavour for a page size (None: the smallest), or one line naming what exists."""
        size = page_size or min(self.flavours)
        if size not in self.flavours:
            have = " and ".join(format_page(p) for p in sorted(self.flavours))
            raise BadInput(f"--page-size {format_page(size)}: Debian's {self.name} kernels have {have} pages only")
        return self.flavours[size]


AMD64 = Arch(
    "amd64",
    "x86_64",
    "qemu-system-x86_64",
    "qemu-system-x86",
    ("-cpu", "max"),
    "console=ttyS0 panic=-1 oops=panic edd=off loglevel=4 rdinit=/init",
    {4096: "amd64"},
    True,
)
# pauth=off: TCG's pointer authentication (QARMA) costs 2-3x on a Debian userland built with
# branch protection, and mremap does not depend on it
ARM64 = Arch(
    "arm64",
    "aarch64",
    "qemu-system-aarch64",
    "qemu-system-arm",
    ("-M", "virt", "-cpu", "max,pauth=off"),
    "console=ttyAMA0 panic=-1 oops=panic loglevel=4 rdinit=/init",  # the PL011 UART; no BIOS EDD
    {4096: "arm64", 16384: "arm64-16k"},
    False,
)
ARCHES = {"amd64": AMD64, "arm64": ARM64}
ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64"}


def host_arch() -> str:
    """The Debian name of this machine's architecture: the default guest."""
    machine = platform.machine().lower()
    return ALIASES.get(machine, machine)


def get_arch(name: Optional[str]) -> Arch:
    """An architecture by Debian or uname name (None: the host's), or one line naming the known ones."""
    key = (name or host_arch()).strip().lower()
    key = ALIASES.get(key, key)
    if key not in ARCHES:
        what = f"--arch {name}" if name else f"this machine is {key}"
        raise BadInput(f"{what}: the vm backend boots amd64 (x86_64) and arm64 (aarch64) guests; give --arch")
    return ARCHES[key]


def parse_page_size(text: Optional[str]) -> Optional[int]:
    """'16K', '16k', '16384' -> 16384; None stays None (the architecture's smallest)."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*([kK]i?[bB]?)?\s*", text)
    if not m:
        raise BadInput(f"--page-size {text!r}: expected a size such as 4K or 16K")
    value = int(m.group(1)) * (1024 if m.group(2) else 1)
    if value <= 0 or value & (value - 1):
        raise BadInput(f"--page-size {text}: a page size is a power of two, such as 4K or 16K")
    return value


def format_page(size: int) -> str:
    """16384 -> '16K'."""
    return f"{size // 1024}K" if size % 1024 == 0 else str(size)


def of_flavour(flavour: str) -> Tuple[Arch, int]:
    """(architecture, page size) of a Debian flavour: cloud-arm64 -> (ARM64, 4096), arm64-16k -> 16384."""
    arch = ARM64 if "arm64" in flavour else AMD64
    return arch, 16384 if flavour.endswith("-16k") else 4096
