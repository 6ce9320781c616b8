"""``--smaps``: each range's memory as pmap -X and smaps count it (Rss, Pss, Swap, Locked,
AnonHugePages), before → after, so a move that takes the pages with it shows as Rss leaving the
old range for the new one."""

from __future__ import annotations

from typing import List, Optional, Sequence

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from mremapctl.render.fit import fits
from mremapctl.results import SMAPS_COUNTERS, DiffRow, MapEntry, MemoryUse
from mremapctl.units import format_size

# The smaps names are the column heads: they are what a pmap or smaps reader looks for.
HEADS = {name: key for key, name in SMAPS_COUNTERS.items()}


def counter(memory: Optional[MemoryUse], name: str) -> Optional[int]:
    return None if memory is None else getattr(memory, name)


def amount(value: Optional[int]) -> str:
    """A counter for people: "?" where it was not read or is not known (e.g. THP in the model)."""
    if value is None:
        return "?"
    return "0" if value == 0 else format_size(value)


def change(before: Optional[MapEntry], after: Optional[MapEntry], name: str) -> Text:
    """One cell: the value, or "before → after" where the range was there before and it changed."""
    now = counter(after.memory if after else None, name)
    if after is None:
        return Text(amount(counter(before.memory if before else None, name)), style="dim")
    if before is None:
        return Text(amount(now))
    was = counter(before.memory, name)
    if was == now:
        return Text(amount(now), style="dim" if not now else "")
    return Text(f"{amount(was)} → {amount(now)}", style="bold")


def memory_table(rows: Sequence[DiffRow], title: str) -> Table:
    """One row per range (as in the maps table), one column per smaps counter."""
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    table.collapse_padding = True
    table.add_column("range", no_wrap=True)
    table.add_column("region", no_wrap=True)
    for name in SMAPS_COUNTERS.values():
        table.add_column(HEADS[name], justify="right", no_wrap=True)
    table.add_column("mapping", no_wrap=True)  # the maps table's status: the counters can change alone
    for row in rows:
        entry = row.after or row.before
        assert entry is not None
        table.add_row(
            f"{entry.start:#x}-{entry.end:#x}",
            Text(entry.label or ""),
            *(change(row.before, row.after, name) for name in SMAPS_COUNTERS.values()),
            Text(row.status, style="dim"),
        )
    return table


def memory_view(console: Console, rows: Sequence[DiffRow], title: str) -> RenderableType:
    """The memory table when it fits whole, else a block per range with a line per counter (a
    range or a "before → after" is never cut to make a column fit)."""
    table = memory_table(rows, title)
    if fits(console, table):
        return table
    parts: List[RenderableType] = [Text(title, style="bold")]
    width = max(len(name) for name in SMAPS_COUNTERS.values())
    for row in rows:
        entry = row.after or row.before
        assert entry is not None
        first = Text(f"{entry.start:#x}-{entry.end:#x}", style="bold")
        parts.append(first.append(f"  {entry.label or ''}  ").append(row.status, style="dim"))
        for name in SMAPS_COUNTERS.values():
            parts.append(Text(f"  {HEADS[name]:<{width}}  ").append(change(row.before, row.after, name)))
    return Group(*parts, Text(""))


def resident_label(entry: MapEntry) -> str:
    """What the picture adds to a range's label with --smaps: its Rss ("rss 0" after a DONTUNMAP
    move, "rss ?" where unknown)."""
    return f" rss {amount(counter(entry.memory, 'rss'))}"
