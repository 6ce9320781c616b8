"""Pages as the contract reports them: which pages a range touches, and what a byte reads as."""

from __future__ import annotations

from typing import List, Sequence, Tuple

from mremapctl.results import ZERO


def _describe(value: int) -> str:
    if value == 0:
        return ZERO
    char = chr(value)
    return f"data:{char}" if char.isprintable() and value < 0x7F else f"data:0x{value:02x}"


_DESCRIPTIONS = tuple(_describe(v) for v in range(256))


def describe_byte(value: int) -> str:
    """What the contract calls a page's content: "zero", "data:A" or "data:0xNN"."""
    return _DESCRIPTIONS[value]


def page_starts(addr: int, size: int, page: int) -> List[int]:
    """addr, then every page boundary in (addr, addr+size): one probe per page touched."""
    if size <= 0:
        return []
    starts = [addr]
    nxt = (addr // page + 1) * page
    while nxt < addr + size:
        starts.append(nxt)
        nxt += page
    return starts


def summarise_runs(runs: Sequence[Tuple[str, int]]) -> str:
    """Runs of page results, for people.

    >>> summarise_runs([("data:A", 2), ("zero", 3), ("SIGBUS", 1)])
    'data:A ×2, zero ×3, SIGBUS'
    """
    return ", ".join(value if count == 1 else f"{value} ×{count}" for value, count in runs) or "(nothing)"
