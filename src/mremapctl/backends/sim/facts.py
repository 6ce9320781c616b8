"""The simulated machine's fixed facts: sizes and limits the rules compare against.

Defaults describe an x86-64 machine like the reference one; on Linux the live values are
read so that a simulation of this machine's kernel can match it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Dict, Set

from mremapctl.platforms import Platform, host_platform
from mremapctl.units import U64_MAX


@dataclass
class Facts:
    arch: str = "amd64"
    page: int = 4096
    huge: int = 2 << 20  # PMD size: THP and the default hugetlb page
    task_size: int = (1 << 47) - 4096  # 4-level paging; 5-level machines raise it
    max_map_count: int = 65530
    baseline_map_count: int = 0  # mappings of the process outside the lab (not modelled)
    total_ram: int = 24 << 30
    mmap_base: int = 0x7F0000000000  # top of the kernel's top-down placement (out of the lab)
    vdso_bytes: int = 8192  # the vDSO's code, rounded up to pages when mapped
    soft_dirty: bool = False  # CONFIG_MEM_SOFT_DIRTY: new VMAs carry "sd" (Debian kernels have it)
    limits: Dict[str, int] = field(
        default_factory=lambda: {"memlock": U64_MAX, "address_space": U64_MAX, "data": U64_MAX}
    )
    caps: Set[str] = field(default_factory=lambda: {"IPC_LOCK", "SYS_RESOURCE"})  # as root

    def copy(self) -> Facts:
        """A copy one machine may change, limits and capabilities included (setrlimit, drop_cap)."""
        return Facts(**{**self.__dict__, "limits": dict(self.limits), "caps": set(self.caps)})


def facts_for(shape: Platform) -> Facts:
    """A machine of another architecture or page size: its sizes, the defaults for the rest."""
    facts = Facts(arch=shape.arch, page=shape.page, huge=shape.pmd, task_size=shape.task_size)
    if shape.arch != "amd64":  # top-down placement starts under the top of the address space
        facts.mmap_base = shape.task_size - (1 << 30)
    return facts


def host_facts() -> Facts:
    """This machine's values where Linux tells them (the defaults elsewhere); a copy to change."""
    return _read_host_facts().copy()


@cache
def _read_host_facts() -> Facts:
    """Read once a process: a survey opens a model per kernel, and the config alone is 100 KiB of gzip."""
    facts = facts_for(host_platform())
    try:
        with open("/proc/sys/vm/max_map_count") as f:
            facts.max_map_count = int(f.read())
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    facts.total_ram = int(line.split()[1]) * 1024
        with open("/proc/cpuinfo") as f:
            if " la57" in f.read():
                facts.task_size = (1 << 56) - 4096
    except OSError:
        pass
    facts.soft_dirty = "CONFIG_MEM_SOFT_DIRTY=y" in _kernel_config()
    return facts


def _kernel_config() -> str:
    import zlib  # not gzip: its module costs a millisecond of every live run's start-up

    try:
        with open("/proc/config.gz", "rb") as f:
            return zlib.decompress(f.read(), wbits=zlib.MAX_WBITS | 16).decode("utf-8", "replace")
    except (OSError, zlib.error):
        return ""
