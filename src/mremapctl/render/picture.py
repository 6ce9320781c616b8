"""The address space as a picture: the lab as a band of regions, coloured by kind, with what
a step did marked on it (added, moved away, changed), so a student sees it at a glance.

Mappings are tiny next to the lab's 32 GiB, so the band is not to scale: each VMA gets a
width that grows with its size, and the holes between them are shown as "··1 GiB··".
"""

from __future__ import annotations

from typing import Optional, Sequence

from rich.text import Text

from mremapctl.kinds import kind_of_mapping
from mremapctl.render.memory import resident_label
from mremapctl.results import DiffRow, MapEntry
from mremapctl.units import format_size, rough_size

BAND_STYLES = {
    "anon": "blue",
    "memfd": "green",
    "shmem": "cyan",
    "file": "yellow",
    "special": "magenta",
    "huge": "bright_blue",
    "secret": "red",
}
MARKS = {"added": "+", "removed": "✗", "changed": "~", "unchanged": ""}


def band_of(entry: MapEntry) -> str:
    """The band the kind the mapping's name shows belongs to (a file when none does)."""
    kind = kind_of_mapping(entry.path)
    return kind.band if kind is not None else "file"


def kind_style(entry: MapEntry) -> str:
    """The colour of the mapping's band."""
    return BAND_STYLES[band_of(entry)]


def block(entry: MapEntry, status: str, smaps: bool = False, plain: bool = False) -> Text:
    """One VMA: its label inside a bar whose length grows with the logarithm of its size (with
    ``smaps``, and its Rss: after a DONTUNMAP move the old range is still there, but empty).
    ``plain`` (no colour) names the kind the colour would have shown."""
    label = f"{MARKS[status]}{entry.label or '?'} {format_size(entry.size)}"
    if plain:
        label += f" {band_of(entry)}"
    if smaps:
        label += resident_label(entry)
    width = max(len(label) + 2, min(36, 6 + entry.size.bit_length() - 12))
    inner = label.center(width - 2)
    style = kind_style(entry)
    if status == "removed":
        return Text(f"╎{inner}╎", style=f"dim strike {style}")
    bar = Text(f"▕{inner}▏", style=f"reverse {style}" if status != "unchanged" else style)
    if status == "changed":
        bar.stylize("bold")
    return bar


def band(rows: Sequence[DiffRow], lab_start: int, lab_end: int, smaps: bool = False, plain: bool = False) -> Text:
    """The lab from its start, then any mapping the kernel placed elsewhere (after "│ elsewhere")."""
    inside = sorted((r for r in rows if _entry(r).start < lab_end), key=lambda r: _entry(r).start)
    outside = sorted((r for r in rows if _entry(r).start >= lab_end), key=lambda r: _entry(r).start)
    text = Text().append("lab ", style="dim")
    cursor: Optional[int] = lab_start
    for row in inside:
        text.append_text(_gap(cursor, _entry(row).start))
        text.append_text(block(_entry(row), row.status, smaps, plain))
        cursor = _entry(row).end
    if cursor is not None and cursor < lab_end:
        text.append_text(_gap(cursor, lab_end))
    if outside:
        text.append(" │ elsewhere ", style="dim")
        for row in outside:
            text.append_text(block(_entry(row), row.status, smaps, plain)).append(
                f" {_entry(row).start:#x} ", style="dim"
            )
    return text


def legend(plain: bool = False) -> Text:
    """What the band's colours and marks mean; without colour (``plain``) each bar names its kind,
    so the legend explains the marks only."""
    text = Text().append("band: ", style="dim")
    if plain:
        return text.append("a bar per range: region, size, kind · +added ~changed ✗gone · ··N·· a hole (not to scale)")
    for name in ("anon", "memfd", "shmem", "file", "special"):
        style = BAND_STYLES[name]
        text.append(f" {name} ", style=f"reverse {style}").append(" ")
    text.append(" +added ~changed ✗gone (not to scale)", style="dim")
    return text


def _entry(row: DiffRow) -> MapEntry:
    entry = row.after or row.before
    assert entry is not None
    return entry


def _gap(start: Optional[int], end: int) -> Text:
    if start is None or end <= start:
        return Text("")
    return Text(f"··{rough_size(end - start)}··", style="dim")
