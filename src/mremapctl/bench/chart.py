"""Median latency against size, log–log, one series per placement, drawn with characters.

On log–log axes a cost proportional to the number of PTEs is a rising straight line, a
cost per PMD a line 512 times lower, and a PUD move a nearly flat one: the three
page-table levels separate at a glance from 2 MiB up.
"""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence, Set, Tuple

from rich.text import Text

from mremapctl.bench.report import CaseStats
from mremapctl.units import format_ns, short_size

MARKERS: Dict[str, Tuple[str, str]] = {
    "pud": ("U", "bold green"),
    "pmd": ("M", "bold cyan"),
    "mutual": ("m", "bold blue"),
    "misaligned": ("x", "bold red"),
}
FLOOR_NS = 10.0  # net medians at or below this (overhead-dominated cells) sit on the bottom row
Point = Tuple[float, float]  # (log2 size, log10 ns)


class Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.cells: List[List[Tuple[str, str]]] = [[(" ", "")] * width for _ in range(height)]

    def put(self, col: int, row: int, char: str, style: str, marker: bool) -> None:
        current = self.cells[row][col][0]
        if marker and current in "UMmx" and current != char:
            char, style = "*", "bold yellow"  # two placements on one spot
        elif not marker and current != " ":
            return  # a connecting dot never covers anything
        self.cells[row][col] = (char, style)


def series_of(cells: Sequence[CaseStats]) -> Dict[str, List[Tuple[int, float]]]:
    """placement → [(size, net median ns)] sorted by size, measured cells only."""
    out: Dict[str, List[Tuple[int, float]]] = {}
    for cell in cells:
        if cell.median_ns is not None:
            out.setdefault(cell.case.placement, []).append((cell.case.size, max(float(cell.median_ns), FLOOR_NS)))
    return {p: sorted(v) for p, v in out.items() if p in MARKERS}


def chart(cells: Sequence[CaseStats], title: str, width: int = 64, height: int = 16) -> Optional[Text]:
    """The chart of ``cells`` (one op, mapping and populated state), or None with nothing to draw."""
    series = series_of(cells)
    points = [(s, ns) for values in series.values() for s, ns in values]
    if len(points) < 2:
        return None
    xs = [math.log2(s) for s, _ in points]
    ys = [math.log10(ns) for _, ns in points]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = (
        math.floor(min(ys)),
        math.ceil(max(ys)) if math.ceil(max(ys)) > math.floor(min(ys)) else math.floor(min(ys)) + 1,
    )

    def col(x: float) -> int:
        return round((x - x0) / (x1 - x0) * (width - 1))

    def row(y: float) -> int:
        return height - 1 - round((y - y0) / (y1 - y0) * (height - 1))

    canvas = Canvas(width, height)
    for placement, values in series.items():
        char, style = MARKERS[placement]
        pts = [(col(math.log2(s)), row(math.log10(ns))) for s, ns in values]
        for (ca, ra), (cb, rb) in zip(pts, pts[1:]):
            for c in range(ca + 1, cb):
                canvas.put(c, round(ra + (rb - ra) * (c - ca) / (cb - ca)), "·", style.replace("bold ", ""), False)
        for c, r in pts:
            canvas.put(c, r, char, style, True)
    return _frame(canvas, title, y0, y1, [(col(math.log2(s)), s) for s in sorted({s for s, _ in points})], set(series))


def _frame(canvas: Canvas, title: str, y0: int, y1: int, ticks: List[Tuple[int, int]], present: Set[str]) -> Text:
    labels = {
        canvas.height - 1 - round((d - y0) / (y1 - y0) * (canvas.height - 1)): format_ns(10.0**d)
        for d in range(y0, y1 + 1)
    }
    text = Text(title + "\n", style="bold")
    for r in range(canvas.height):
        text.append(f"{labels.get(r, ''):>8} ┤" if r in labels else " " * 9 + "│", style="dim")
        for char, style in canvas.cells[r]:
            text.append(char, style=style or None)
        text.append("\n")
    text.append(" " * 9 + "└" + "─" * canvas.width + "\n", style="dim")
    axis = [" "] * (canvas.width + 8)
    last_end = -1
    for c, size in ticks:
        label = short_size(size)
        start = max(0, c - len(label) // 2)
        if start > last_end:
            axis[start : start + len(label)] = list(label)
            last_end = start + len(label)
    text.append(" " * 10 + "".join(axis).rstrip() + "   size\n", style="dim")
    legend = Text(" " * 10)
    for placement in MARKERS:
        if placement in present:
            char, style = MARKERS[placement]
            legend.append(char, style=style).append(f" {placement}   ")
    legend.append("* several at one spot   · joins a series", style="dim")
    return text.append_text(legend)
