"""The machines a kernel runs on, as far as mremap can tell them apart: the architecture and the
page size, and what follows from them (huge page and page-table sizes, the user address space).

The simulation takes them as input (`--arch`, `--page-size`); the vm backend boots the Debian
flavour with that page size. Names are Debian's (amd64, arm64); uname's are accepted too.
"""

from __future__ import annotations

import os
import re
from typing import Dict, Optional, Tuple

from mremapctl.errors import BadInput
from mremapctl.frozen import frozen

ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64"}
# the page sizes each architecture's kernels can be built with
PAGE_SIZES: Dict[str, Tuple[int, ...]] = {"amd64": (4096,), "arm64": (4096, 16384, 65536)}
# bits of user virtual address space: x86-64 with 4-level paging; arm64 as Debian and Android
# build it (48 bits; a 52-bit kernel still maps below 2^48 unless asked for more)
VA_BITS = {"amd64": 47, "arm64": 48}


def host_arch() -> str:
    """The Debian name of this machine's architecture."""
    machine = os.uname().machine.lower()
    return ALIASES.get(machine, machine)


def arch_name(text: Optional[str]) -> str:
    """An architecture by Debian or uname name (None: this machine's), or one line naming the known ones."""
    key = (text or host_arch()).strip().lower()
    key = ALIASES.get(key, key)
    if key not in PAGE_SIZES:
        what = f"--arch {text}" if text else f"this machine is {key}"
        raise BadInput(f"{what}: known architectures are amd64 (x86_64) and arm64 (aarch64); give --arch")
    return key


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


@frozen
class Platform:
    """An architecture with one page size."""

    arch: str  # Debian's name
    page: int

    @property
    def pmd(self) -> int:
        """What one page-table page maps: the huge page (THP, default hugetlb) size, 2M with 4K pages,
        32M with 16K, 512M with 64K."""
        return self.page * (self.page // 8)

    @property
    def pud(self) -> int:
        """The next level up: 1G with 4K pages, 64G with 16K."""
        return self.pmd * (self.page // 8)

    @property
    def task_size(self) -> int:
        """The end of the user address space (x86-64 keeps its top page back)."""
        top = 1 << VA_BITS[self.arch]
        return top - self.page if self.arch == "amd64" else top

    @property
    def label(self) -> str:
        return f"{self.arch}, {format_page(self.page)} pages"


def platform(arch: Optional[str] = None, page_size: Optional[str] = None) -> Platform:
    """The platform asked for (default: this machine's architecture, its smallest page size), or
    one line naming what that architecture has."""
    name = arch_name(arch)
    page = parse_page_size(page_size) or PAGE_SIZES[name][0]
    if page not in PAGE_SIZES[name]:
        have = ", ".join(format_page(p) for p in PAGE_SIZES[name])
        raise BadInput(f"--page-size {format_page(page)}: {name} kernels have {have} pages")
    return Platform(name, page)


def host_platform() -> Platform:
    return Platform(host_arch() if host_arch() in PAGE_SIZES else "amd64", os.sysconf("SC_PAGE_SIZE"))
