"""The simulated machine's fixed facts: sizes and limits the rules compare against.

Defaults describe an x86-64 machine like the reference one; on Linux the live values are
read so that a simulation of this machine's kernel can match it exactly.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from typing import Dict, Set

from mremapctl.units import U64_MAX


@dataclass
class Facts:
    page: int = 4096
    huge: int = 2 << 20
    task_size: int = (1 << 47) - 4096  # 4-level paging; 5-level machines raise it
    max_map_count: int = 65530
    baseline_map_count: int = 0  # mappings of the process outside the lab (not modelled)
    total_ram: int = 24 << 30
    mmap_base: int = 0x7F0000000000  # top of the kernel's top-down placement (out of the lab)
    vdso_pages: int = 2
    soft_dirty: bool = False  # CONFIG_MEM_SOFT_DIRTY: new VMAs carry "sd" (Debian kernels have it)
    limits: Dict[str, int] = field(
        default_factory=lambda: {"memlock": U64_MAX, "address_space": U64_MAX, "data": U64_MAX}
    )
    caps: Set[str] = field(default_factory=lambda: {"IPC_LOCK", "SYS_RESOURCE"})  # as root


def host_facts() -> Facts:
    """This machine's values where Linux tells them (the defaults elsewhere)."""
    facts = Facts()
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
    try:
        with gzip.open("/proc/config.gz", "rt") as f:
            return f.read()
    except OSError:
        return ""
