"""The batch of scenarios booted in every real kernel: kinds × flag sets × size relations."""

from __future__ import annotations

from typing import Dict, List, Tuple

from mremapctl.scenario import parse_scenario
from mremapctl.scenario.load import Scenario

# every Debian kernel series the vm backend can boot here, oldest first
SERIES = ["5.10", "6.1", "6.12", "6.16", "6.17", "6.18", "6.19", "7.0", "7.1", "7.2", "7.3"]
KINDS: List[Tuple[str, str]] = [
    ("anon", 'kind = "anon"\nfill = "A"'),
    ("shmem", 'kind = "shmem"\nfill = "A"'),
    ("memfd", 'kind = "memfd"\nfill = "A"'),
    ("memfd-private", 'kind = "memfd"\nshared = false\nfill = "A"'),
    ("file", 'kind = "file"\nfill = "A"'),
    ("file-private", 'kind = "file"\nshared = false\nfill = "A"'),
    ("file-tmpfs", 'kind = "file"\ndir = "/dev/shm"\nfill = "A"'),
    ("devzero", 'kind = "devzero"\nfill = "A"'),
    ("devzero-shared", 'kind = "devzero"\nshared = true\nfill = "A"'),
    ("sysvshm", 'kind = "sysvshm"\nfill = "A"'),
    ("perf", 'kind = "perf"'),
    ("vdso", 'kind = "vdso"'),
    ("aio", 'kind = "aio"'),
    ("anon-locked", 'kind = "anon"\nlocked = true\nfill = "A"'),
]
SECRETMEM = ("secretmem", 'kind = "secretmem"\nfill = "A"')
# (label, raw flags, old size, new size, new address)
CALLS = [
    ("same", 0, "S", "S", None),
    ("maymove", 1, "S", "S", None),
    ("grow", 0, "S", "2S", None),
    ("grow-maymove", 1, "S", "2S", None),
    ("shrink", 0, "S", "1p", None),
    ("fixed", 3, "S", "S", "lab+1G"),
    ("dontunmap", 5, "S", "S", None),
    ("fixed-dontunmap", 7, "S", "S", "lab+1G"),
    ("dontunmap-hint", 5, "S", "S", "lab+2G"),
    ("old-size-0", 1, "0", "S", None),
    ("undefined-bit", 9, "S", "S", None),
]
SIZES = {"perf": 3, "vdso": 2, "aio": 1}
VDSO_BYTES = 8192  # the vDSO is 8 KiB: 2 pages of 4K, 1 of 16K


def _size(expr: str, pages: int) -> str:
    """ "S" is the region's size in pages, "2S" twice that."""
    return expr.replace("2S", f"{2 * pages}p").replace("S", f"{pages}p")


def scenarios(version: Tuple[int, int, int], page_size: int = 4096) -> Dict[str, Scenario]:
    kinds = KINDS + ([SECRETMEM] if version >= (5, 14, 0) else [])
    out = {}
    for kind, keys in kinds:
        pages = SIZES.get(kind, 2) if kind != "vdso" else max(1, VDSO_BYTES // page_size)
        size_line = f'size = "{pages}p"\n' if kind not in ("vdso", "aio") else ""
        for label, raw, old, new, target in CALLS:
            text = f'[[step]]\nop = "mmap"\nname = "A"\n{size_line}{keys}\n\n'
            text += f'[[step]]\nop = "mremap"\nold = "A"\nold_size = "{_size(old, pages)}"\n'
            text += f'new_size = "{_size(new, pages)}"\n'
            text += f'raw = {raw}\nname = "B"\n' + (f'new_address = "{target}"\n' if target else "") + "\n"
            if kind != "vdso":  # its code bytes are build-specific, not modelled
                text += '[[step]]\nop = "read"\nat = "A"\nsize = "1p"\n\n[[step]]\nop = "read"\nat = "B"\n'
            out[f"{kind}/{label}"] = parse_scenario(text, f"{kind}/{label}")
    return out


# hugetlb remapped from an address on a page but not on a huge page boundary: before 5.16 a
# shrink cuts the VMA where it may and refuses where it may not (found on 5.10.262)
HUGETLB_UNALIGNED = [
    ("H+1p", "4M-1p", "2M-1p"),
    ("H+1p", "4M-1p", "1p"),
    ("H+1p", "2M", "2M-1p"),
    ("H+2M-1p", "2M", "1p"),
    ("H+2M+1p", "2M-1p", "1p"),
    ("H+1p", "2M-1p", "4M-1p"),
]


def hugetlb_unaligned() -> Dict[str, Scenario]:
    out = {}
    for old, old_size, new_size in HUGETLB_UNALIGNED:
        name = f"hugetlb-unaligned/{old} {old_size}->{new_size}"
        text = (
            '[[step]]\nop = "mmap"\nname = "H"\nkind = "hugetlb"\nsize = "4M"\nfill = "H"\n\n'
            f'[[step]]\nop = "mremap"\nold = "{old}"\nold_size = "{old_size}"\nnew_size = "{new_size}"\n\n'
            '[[step]]\nop = "read"\nat = "H"\nsize = "4M"\n\n[[step]]\nop = "vmas"\nat = "H"\nsize = "4M"\n'
        )
        out[name] = parse_scenario(text, name)
    return out
