"""Tables that fit the terminal without cutting a value: too wide, and they are split or reshaped.

rich shrinks a table that is wider than the console by narrowing columns, which cuts values
(``shm…``) or wraps them two characters wide. These helpers measure first and choose a layout
in which every value is shown whole.
"""

from __future__ import annotations

import io
from typing import Callable, List, Sequence, TypeVar

from rich.console import Console
from rich.table import Table

T = TypeVar("T")
PROSE_MIN = 30  # a wrapped column narrower than this reads as a list of single words


def room_for_prose(console: Console, *columns: Sequence[str]) -> bool:
    """Whether a table whose other columns hold these values, never wrapped, leaves its prose
    column PROSE_MIN characters (two between columns, as our borderless tables draw them)."""
    used = sum(max(map(len, values), default=0) + 2 for values in columns)
    return console.width - used >= PROSE_MIN


def fits(console: Console, table: Table) -> bool:
    """Whether the table shows every value whole at this width: drawn once where nothing may fold,
    so a value rich would have to cut shows up as an ellipsis. (Measuring is not enough: a
    no_wrap column measures as if it could wrap.)"""
    saved = [column.overflow for column in table.columns]
    try:
        for column in table.columns:
            column.overflow = "ellipsis"
        scratch = Console(file=io.StringIO(), width=console.width, no_color=True, highlight=False, emoji=False)
        scratch.print(table)
        return "…" not in scratch.file.getvalue()  # type: ignore[attr-defined]
    finally:
        for column, overflow in zip(table.columns, saved):
            column.overflow = overflow


def split_columns(console: Console, items: Sequence[T], make: Callable[[Sequence[T]], Table]) -> List[Table]:
    """Tables of consecutive items (columns), each as wide as fits: a grid too wide for the
    terminal becomes several grids one under another, with the row labels repeated."""
    tables: List[Table] = []
    chunk: List[T] = []
    for item in items:
        if chunk and not fits(console, make([*chunk, item])):
            tables.append(make(chunk))
            chunk = []
        chunk.append(item)
    if chunk or not tables:
        tables.append(make(chunk))
    return tables
