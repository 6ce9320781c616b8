"""The matrix as coloured grids: one grid for a single kernel/backend, and one grid per
flag set when several are compared (rows × kernels), with the differences marked."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Dict, List, Sequence, Tuple

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mremapctl.documents import envelope
from mremapctl.render.fit import split_columns
from mremapctl.survey.grid import Column, Row
from mremapctl.survey.matrix import Cell, Matrix

LEGEND = "✓ moved · ✓ in place · errno: refused · — unavailable here · ✗ the experiment failed (child died, time-out)"
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
                    table.add_row(row.label, *[cell_text(c, len(answers) > 1) if c else "" for c in present])
                return table

            for table in split_columns(console, groups, compared):
                console.print(table)
    console.print(Text(LEGEND, style="dim"))
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
    return envelope("matrix", cells=[c.to_json() for c in matrix.cells], summary=summary)


def render_matrix_result(console: Console, matrix: Matrix, rows: Sequence[Row], columns: Sequence[Column]) -> None:
    """The grid of ``rows``, then how long it took and whether it was cut short."""
    render_matrix(console, matrix.cells, rows, columns)
    rate = len(matrix.cells) / matrix.seconds if matrix.seconds else 0
    console.print(f"[dim]{len(matrix.cells)} experiments in {matrix.seconds:.2f} s ({rate:,.0f}/s)[/dim]")
    if matrix.interrupted:
        console.print(f"[bold red]{matrix.cut_short}: the cells above are the ones finished[/bold red]")
