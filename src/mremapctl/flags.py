"""Flag values and their names: mremap, mmap, mprotect, and the smaps VmFlags legend.

Defined here rather than taken from libc headers: target machines ship headers that
predate MREMAP_DONTUNMAP (5.7) and mseal (6.10).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Mapping, Sequence

from mremapctl.errors import BadInput

MREMAP_MAYMOVE = 1
MREMAP_FIXED = 2
MREMAP_DONTUNMAP = 4
MREMAP_FLAGS = {"MAYMOVE": MREMAP_MAYMOVE, "FIXED": MREMAP_FIXED, "DONTUNMAP": MREMAP_DONTUNMAP}

PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC = 0, 1, 2, 4
_PROT_LETTERS = {"r": PROT_READ, "w": PROT_WRITE, "x": PROT_EXEC}
PROT_NAMES = {"PROT_READ": PROT_READ, "PROT_WRITE": PROT_WRITE, "PROT_EXEC": PROT_EXEC}

MAP_SHARED = 0x01
MAP_PRIVATE = 0x02
MAP_FIXED = 0x10
MAP_ANONYMOUS = 0x20
MAP_NORESERVE = 0x4000
MAP_LOCKED = 0x2000
MAP_HUGETLB = 0x40000
MAP_FIXED_NOREPLACE = 0x100000
MAP_NAMES = {
    "MAP_SHARED": MAP_SHARED,
    "MAP_PRIVATE": MAP_PRIVATE,
    "MAP_FIXED": MAP_FIXED,
    "MAP_ANONYMOUS": MAP_ANONYMOUS,
    "MAP_NORESERVE": MAP_NORESERVE,
    "MAP_LOCKED": MAP_LOCKED,
    "MAP_HUGETLB": MAP_HUGETLB,
    "MAP_FIXED_NOREPLACE": MAP_FIXED_NOREPLACE,
}

MADVISE = {
    "normal": 0,
    "random": 1,
    "sequential": 2,
    "willneed": 3,
    "dontneed": 4,
    "free": 8,
    "remove": 9,
    "dontfork": 10,
    "dofork": 11,
    "mergeable": 12,
    "unmergeable": 13,
    "hugepage": 14,
    "nohugepage": 15,
    "dontdump": 16,
    "dodump": 17,
    "wipeonfork": 18,
    "keeponfork": 19,
    "cold": 20,
    "pageout": 21,
    "populate_read": 22,
    "populate_write": 23,
    "collapse": 25,
    "guard_install": 102,
    "guard_remove": 103,
}

# smaps VmFlags mnemonics, in the order the kernel prints them.
VM_FLAGS = (
    "rd",
    "wr",
    "ex",
    "sh",
    "mr",
    "mw",
    "me",
    "ms",
    "gd",
    "um",
    "pf",
    "gu",
    "uw",
    "lo",
    "io",
    "sr",
    "rr",
    "dc",
    "de",
    "lf",
    "ac",
    "nr",
    "ht",
    "sf",
    "ar",
    "wf",
    "dd",
    "sd",
    "mm",
    "hg",
    "nh",
    "mg",
    "ui",
    "sl",
)

# The VmFlags the 5.13 DONTUNMAP rule checks; renderers highlight them.
DONTUNMAP_BLOCKERS = frozenset({"de", "pf"})


def decode_flags(value: int, names: Mapping[str, int], prefix: str = "") -> str:
    """Flag names joined by |, unknown bits as one hex remainder, as strace and drgn print them.

    >>> decode_flags(0x9, MREMAP_FLAGS, "MREMAP_")
    'MREMAP_MAYMOVE|0x8'
    >>> decode_flags(0, MREMAP_FLAGS, "MREMAP_")
    '0'
    """
    parts = []
    rest = value
    for name, bit in names.items():
        if bit and value & bit == bit:
            parts.append(prefix + name)
            rest &= ~bit
    if rest:
        parts.append(hex(rest))
    return "|".join(parts) or "0"


# How call texts and tables name flag sets (cached: a matrix names the same few hundreds of thousands of times).
@lru_cache(maxsize=1024)
def mremap_flags_text(value: int) -> str:
    return decode_flags(value, MREMAP_FLAGS, "MREMAP_")


@lru_cache(maxsize=1024)
def map_flags_text(value: int) -> str:
    return decode_flags(value, MAP_NAMES)


@lru_cache(maxsize=1024)
def prot_text(value: int) -> str:
    return decode_flags(value, PROT_NAMES) if value else "PROT_NONE"


def mremap_flag_bits(names: Sequence[str]) -> int:
    """Bits for flag names such as MAYMOVE or MREMAP_DONTUNMAP; unknown names are bad input."""
    bits = 0
    for raw in names:
        name = raw.upper().removeprefix("MREMAP_")
        if name not in MREMAP_FLAGS:
            known = ", ".join(MREMAP_FLAGS)
            raise BadInput(f"unknown mremap flag {raw!r}: known flags are {known} (raw bits: raw = 0x…)")
        bits |= MREMAP_FLAGS[name]
    return bits


def mremap_flag_names(bits: int) -> list[str]:
    """The defined flag names set in bits (undefined bits are left to decode_flags)."""
    return [name for name, bit in MREMAP_FLAGS.items() if bits & bit]


def parse_prot(text: str) -> int:
    """ "rw", "r-x", "rwx", "none" or "" into PROT_* bits.

    >>> parse_prot("rw"), parse_prot("none"), parse_prot("r-x")
    (3, 0, 5)
    """
    cleaned = text.strip().lower()
    if cleaned in ("none", "", "---"):
        return PROT_NONE
    bits = 0
    for letter in cleaned:
        if letter == "-":
            continue
        if letter not in _PROT_LETTERS:
            raise BadInput(f"bad protection {text!r}: use letters r, w, x (e.g. rw, r-x) or none")
        bits |= _PROT_LETTERS[letter]
    return bits
