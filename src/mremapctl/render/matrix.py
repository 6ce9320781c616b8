"""The matrix as coloured grids: one grid for a single kernel/backend, and one grid per
flag set when several are compared (rows × kernels), with the differences marked."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Tuple

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mremapctl.documents import envelope
from mremapctl.flags import MREMAP_MAYMOVE, mremap_flags_text
from mremapctl.render.fit import split_columns
from mremapctl.survey.grid import FLAG_SETS, Column, Row
from mremapctl.survey.matrix import Cell, Matrix

LEGEND = "✓ moved · ✓ in place · errno: refused · — unavailable here · ✗ the experiment failed (child died, time-out)"
DIFFERS = " ≠"  # after a row's kind where the columns answer differently: a mark, not only a colour


def flags_sent(flag_set: str) -> str:
    """The exact mremap flags a column sends: "FIXED" is MREMAP_MAYMOVE|MREMAP_FIXED.

    >>> flags_sent("DONTUNMAP")
    'MREMAP_MAYMOVE|MREMAP_DONTUNMAP'
    """
    bits = FLAG_SETS[flag_set]
    return mremap_flags_text(bits)


def implied_note(columns: Sequence[Column]) -> Optional[str]:
    """The columns whose heading leaves out the MAYMOVE they send (explain fixed-needs-maymove:
    without it the kernel refuses FIXED and DONTUNMAP)."""
    named = [c.flags for c in columns if FLAG_SETS[c.flags] & MREMAP_MAYMOVE and c.flags != "MAYMOVE"]
    if not named:
        return None
    shown = ", ".join(dict.fromkeys(named))
    return f"{shown}: sent with MREMAP_MAYMOVE too, which the kernel requires (`mremapctl explain fixed-needs-maymove`)"


Group = Tuple[str, str]  # (backend, kernel)


def cell_text(cell: Cell, differs: bool = False) -> Text:
    if cell.result == "ok":
        text = Text("✓ moved" if cell.moved else "✓ in place", style="green" if cell.moved else "cyan")
    elif cell.result == "unavailable":
        text = Text("—", style="dim")
    elif cell.result == "failed":
        text = Text("✗ failed", style="bold magenta")
    else:
        text = Text(cell.result, style="red")
    if differs:
        text.stylize("bold reverse")
    return text


def groups_of(cells: Sequence[Cell]) -> List[Group]:
    return list(OrderedDict.fromkeys((c.backend, c.kernel) for c in cells))


def index(cells: Sequence[Cell]) -> Dict[Tuple[Group, Row, Column], Cell]:
    out = {}
    for c in cells:
        column = Column("|".join(c.flags) or "none", c.size_rel)
        out[((c.backend, c.kernel), Row(c.kind, c.variant), column)] = c
    return out


def differing_rows(cells: Sequence[Cell], rows: Sequence[Row], columns: Sequence[Column]) -> List[Row]:
    """Rows whose answer to some column is not the same in every group."""
    by = index(cells)
    groups = groups_of(cells)
    keep = []
    for row in rows:
        for column in columns:
            answers = {by[(g, row, column)].answer for g in groups if (g, row, column) in by}
            if len(answers) > 1:
                keep.append(row)
                break
    return keep


def _grid(title: str, heads: Sequence[str]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold", title=title, title_justify="left")
    table.add_column("kind", no_wrap=True)
    for head in heads:
        table.add_column(head, no_wrap=True)
    return table


def render_matrix(console: Console, cells: Sequence[Cell], rows: Sequence[Row], columns: Sequence[Column]) -> None:
    """One grid, or one per column when several groups are compared; split where too wide."""
    groups = groups_of(cells)
    by = index(cells)
    if len(groups) == 1:
        group = groups[0]

        def single(chosen: Sequence[Column]) -> Table:
            table = _grid(f"{group[0]} · {group[1]}", [c.label.replace(" ", "\n", 1) for c in chosen])
            for row in rows:
                table.add_row(
                    row.label, *[cell_text(by[(group, row, c)]) if (group, row, c) in by else "" for c in chosen]
                )
            return table

        for table in split_columns(console, columns, single):
            console.print(table)
    else:
        for column in columns:

            def compared(chosen: Sequence[Group], column: Column = column) -> Table:
                table = _grid(column.label, [f"{backend}\n{kernel}" for backend, kernel in chosen])
                for row in rows:
                    answers = {by[(g, row, column)].answer for g in groups if (g, row, column) in by}
                    present = [by.get((g, row, column)) for g in chosen]
                    differs = len(answers) > 1
                    label = row.label + (DIFFERS if differs else "")
                    table.add_row(label, *[cell_text(c, differs) if c else "" for c in present])
                return table

            for table in split_columns(console, groups, compared):
                console.print(table)
    console.print(Text(LEGEND + (f" ·{DIFFERS} the columns differ" if len(groups) > 1 else ""), style="dim"))
    note = implied_note(columns)
    if note:
        console.print(Text(note, style="dim"))
    reasons = OrderedDict.fromkeys(
        c.reason.removeprefix("unavailable: ")
        for c in cells
        if c.result == "unavailable" and c.reason and c.reason.startswith("unavailable:")
    )
    for reason in reasons:
        console.print(Text(f"— {reason}", style="dim"))


def matrix_json(matrix: Matrix) -> Dict[str, Any]:
    summary = {
        "experiments": len(matrix.cells),
        "planned": matrix.planned,
        "seconds": round(matrix.seconds, 3),
        "interrupted": matrix.interrupted,
    }
    sent = {
        flag_set: flags_sent(flag_set) for flag_set in dict.fromkeys("|".join(c.flags) or "none" for c in matrix.cells)
    }
    return envelope("matrix", cells=[c.to_json() for c in matrix.cells], summary=summary, flags_sent=sent)


def render_matrix_result(console: Console, matrix: Matrix, rows: Sequence[Row], columns: Sequence[Column]) -> None:
    """The grid of ``rows``, then how long it took and whether it was cut short."""
    render_matrix(console, matrix.cells, rows, columns)
    rate = len(matrix.cells) / matrix.seconds if matrix.seconds else 0
    console.print(f"[dim]{len(matrix.cells)} experiments in {matrix.seconds:.2f} s ({rate:,.0f}/s)[/dim]")
    if matrix.interrupted:
        console.print(f"[bold red]{matrix.cut_short}: the cells above are the ones finished[/bold red]")
