"""Parse /proc/PID/maps and smaps text into :class:`MapEntry` values.

Written for robustness over speed of writing: paths may contain spaces, smaps grows new
keys and new VmFlags mnemonics with every kernel, and only the entries inside the
experiment's window are kept (parsing a whole Python process's smaps per experiment is
what would make a matrix slow).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from mremapctl.results import SMAPS_COUNTERS, MapEntry, MemoryUse

Window = Sequence[Tuple[int, int]]

_HEADER = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) ([-rwxsp]{4}) ([0-9a-f]+) (\S+) (\d+)\s*(.*)$")


def _in_window(start: int, end: int, window: Optional[Window]) -> bool:
    if window is None:
        return True
    return any(start < w_end and w_start < end for w_start, w_end in window)


def parse_maps_line(line: str) -> Optional[MapEntry]:
    """One maps (or smaps header) line; None for anything else.

    >>> parse_maps_line("7f00-8000 rw-s 00001000 00:01 42   /memfd:A (deleted)").path
    '/memfd:A (deleted)'
    """
    match = _HEADER.match(line)
    if not match:
        return None
    start, end, perms, offset, dev, inode, path = match.groups()
    return MapEntry(int(start, 16), int(end, 16), perms, int(offset, 16), dev, int(inode), path.rstrip("\n"))


def _range(line: str) -> Optional[Tuple[int, int]]:
    """The address range of a maps line, read cheaply (most lines are then skipped)."""
    dash = line.find("-")
    space = line.find(" ", dash)
    if dash <= 0 or space < 0:
        return None
    try:
        return int(line[:dash], 16), int(line[dash + 1 : space], 16)
    except ValueError:
        return None


def parse_maps(text: str, window: Optional[Window] = None) -> Tuple[List[MapEntry], int]:
    """Entries of a maps file inside ``window`` (all when None), and how many were left out."""
    kept: List[MapEntry] = []
    skipped = 0
    for line in text.splitlines():
        bounds = _range(line)
        if bounds is None:
            continue
        if not _in_window(bounds[0], bounds[1], window):
            skipped += 1
            continue
        entry = parse_maps_line(line)
        if entry is not None:
            kept.append(entry)
    return kept, skipped


def parse_smaps(text: str, window: Optional[Window] = None) -> Tuple[List[MapEntry], int]:
    """Like :func:`parse_maps`, with each entry's VmFlags and memory counters (Rss, Pss …) attached."""
    kept: List[MapEntry] = []
    skipped = 0
    current: Optional[MapEntry] = None
    counters: Dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith("VmFlags:"):
            if current is not None:
                kept.append(_completed(current, counters, line[len("VmFlags:") :].split()))
                current = None
            continue
        key, colon, value = line.partition(":")
        if colon and " " not in key:  # a "Key:   value kB" line
            if current is not None and key in SMAPS_COUNTERS:
                counters[SMAPS_COUNTERS[key]] = _kilobytes(value)
            continue
        bounds = _range(line)
        if bounds is None:
            continue
        if current is not None:  # a kernel without VmFlags (before 3.8)
            kept.append(_completed(current, counters, None))
        current, counters = None, {}
        if _in_window(bounds[0], bounds[1], window):
            current = parse_maps_line(line)
        else:
            skipped += 1
    if current is not None:
        kept.append(_completed(current, counters, None))
    return kept, skipped


def _kilobytes(value: str) -> int:
    """ "   16 kB" in bytes (smaps gives every counter in kB)."""
    number = value.split()[0] if value.split() else "0"
    return int(number) * 1024 if number.isdigit() else 0


def _completed(entry: MapEntry, counters: Dict[str, int], flags: Optional[Iterable[str]]) -> MapEntry:
    """The entry with what its smaps block said: VmFlags (None before 3.8) and the memory counters."""
    return replace(
        entry,
        vm_flags=tuple(flags) if flags is not None else None,
        memory=MemoryUse(**counters) if counters else None,
    )


def find(entries: Sequence[MapEntry], addr: int) -> Optional[MapEntry]:
    """The entry containing addr, if any."""
    for entry in entries:
        if entry.start <= addr < entry.end:
            return entry
    return None
