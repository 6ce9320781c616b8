"""The machine settings that change what a populated move costs: THP, shmem THP, hugetlb."""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import Dict, Optional

from mremapctl.frozen import frozen

THP_DIR = "/sys/kernel/mm/transparent_hugepage"


def _selected(path: str) -> Optional[str]:
    """The bracketed choice of a sysfs setting ("always [madvise] never" → "madvise")."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    if "[" in text:
        return text.split("[", 1)[1].split("]", 1)[0]
    return text.strip() or None


def _number(path: str) -> Optional[int]:
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


@frozen
class SystemInfo:
    thp_enabled: Optional[str]  # always | madvise | never (None: no THP in this kernel)
    thp_defrag: Optional[str]
    shmem_enabled: Optional[str]
    nr_hugepages: Optional[int]
    cpus: int

    @classmethod
    def read(cls) -> SystemInfo:
        return cls(
            thp_enabled=_selected(f"{THP_DIR}/enabled"),
            thp_defrag=_selected(f"{THP_DIR}/defrag"),
            shmem_enabled=_selected(f"{THP_DIR}/shmem_enabled"),
            nr_hugepages=_number("/proc/sys/vm/nr_hugepages"),
            cpus=os.cpu_count() or 1,
        )

    def to_json(self) -> Dict[str, Optional[object]]:
        return asdict(self)
