"""The guest architectures the vm backend boots, and the Debian flavour of each page size.

amd64 guests share the host's root and Python; arm64 guests cannot run the host's
binaries, so they boot Debian's own arm64 userland packed into the initramfs (userland.py).
Names are Debian's (amd64, arm64); `uname -m` names (x86_64, aarch64) are accepted too.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

from mremapctl.errors import BadInput
from mremapctl.frozen import frozen
from mremapctl.platforms import arch_name, format_page


@frozen
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


def get_arch(name: Optional[str]) -> Arch:
    """An architecture by Debian or uname name (None: the host's), or one line naming the known ones."""
    return ARCHES[arch_name(name)]


def of_flavour(flavour: str) -> Tuple[Arch, int]:
    """(architecture, page size) of a Debian flavour: cloud-arm64 -> (ARM64, 4096), arm64-16k -> 16384."""
    arch = ARM64 if "arm64" in flavour else AMD64
    return arch, 16384 if flavour.endswith("-16k") else 4096
