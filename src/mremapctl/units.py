"""Sizes as users write them ("4097", "2p", "16K"), and sizes and durations as people read them
("16 KiB", "4.12 µs"): every number the tool prints for a person is formatted here.

Binary units only: pages and mappings come in powers of two, and a "K" that means
1000 would be wrong for every number this tool prints.
"""

from __future__ import annotations

import os
import re

from mremapctl.errors import BadInput

U64_MAX = (1 << 64) - 1

_SUFFIX_SHIFT = {"k": 10, "m": 20, "g": 30, "t": 40}
_UNITS = ((40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB"))  # largest first
_TERM = re.compile(r"(?i)(0x[0-9a-f]+|\d+)(p|k|m|g|t|kib|mib|gib|tib)?")


def host_page_size() -> int:
    """The page size of this machine (4096 where sysconf cannot tell, e.g. off Linux)."""
    try:
        return os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4096


def parse_term(text: str, page_size: int) -> int:
    """One number with an optional unit suffix.

    >>> parse_term("2p", 4096), parse_term("16K", 4096), parse_term("0x1000", 4096)
    (8192, 16384, 4096)
    """
    match = _TERM.fullmatch(text.strip())
    if not match:
        raise BadInput(f"bad size {text!r}: expected bytes, or a number with p, K, M, G or T")
    digits, suffix = match.groups()
    value = int(digits, 0) if digits.lower().startswith("0x") else int(digits)
    if suffix:
        suffix = suffix.lower()
        if suffix == "p":
            if suffix != match.group(2):  # "P" would read as peta; refuse rather than guess
                raise BadInput(f"bad size {text!r}: pages are a lower-case p")
            value *= page_size
        else:
            value <<= _SUFFIX_SHIFT[suffix[0]]
    if value > U64_MAX:
        raise BadInput(f"bad size {text!r}: larger than 2^64-1")
    return value


def format_size(n: int) -> str:
    """A size in the largest binary unit that shows it exactly (to one decimal at most).

    Sizes here are page-exact facts, so "1.0 GiB" for one page more than 1 GiB would mislead.

    >>> format_size(16384), format_size(4097), format_size(3 << 20), format_size(1536)
    ('16 KiB', '4097 B', '3 MiB', '1.5 KiB')
    """
    for shift, unit in _UNITS:
        if n >= 1 << shift:
            if n % (1 << shift) == 0:
                return f"{n >> shift} {unit}"
            if (n * 10) % (1 << shift) == 0:
                return f"{n / (1 << shift):.1f} {unit}"
    return f"{n} B"


def short_size(n: int) -> str:
    """A size with a one-letter unit and no space, for narrow places (axis labels, column heads);
    bytes when no unit shows it exactly.

    >>> short_size(4096), short_size(2 << 20), short_size(1 << 30), short_size(1536)
    ('4K', '2M', '1G', '1536')
    """
    for shift, unit in _UNITS:
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift}{unit[0]}"
    return str(n)


def approx_size(n: int) -> str:
    """A rounded size for messages about memory budgets, where exactness does not matter.

    >>> approx_size(24964497408), approx_size(1536), approx_size(100)
    ('about 23.2 GiB', 'about 1.5 KiB', '100 B')
    """
    for shift, unit in _UNITS:
        if n >= 1 << shift:
            return f"about {n / (1 << shift):.1f} {unit}"
    return f"{n} B"


def rough_size(n: int) -> str:
    """A size to two figures, a hair under a unit counting as one: for drawings not to scale,
    where "32 GiB" says enough.

    >>> rough_size((1 << 30) - 16384), rough_size(32 << 30), rough_size(1536), rough_size(100)
    ('1 GiB', '32 GiB', '1.5 KiB', '100 B')
    """
    for shift, unit in _UNITS:
        if n >= (1 << shift) * 0.999:
            value = round(n / (1 << shift), 1)
            return f"{value:.0f} {unit}" if value >= 10 or value == int(value) else f"{value:.1f} {unit}"
    return f"{n} B"


def format_ns(ns: float) -> str:
    """A duration in nanoseconds, with three significant digits in the unit that suits it.

    >>> format_ns(850), format_ns(4123), format_ns(176_271), format_ns(3_932_880)
    ('850 ns', '4.12 µs', '176 µs', '3.93 ms')
    """
    for scale, unit in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
        if ns >= scale:
            value = ns / scale
            return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return f"{ns:.0f} ns"
