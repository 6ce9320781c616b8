"""``bench`` for people: a grid of medians (rows: op, mapping, placement, populated; columns:
sizes), or one row per cell with min/median/p90/samples, then the chart and the notes; and for
scripts: the measurements as JSON or CSV (data only: the notes are read from it, not stored)."""

from __future__ import annotations

import csv
import io
from typing import Any, Dict, List, Optional, Sequence, Tuple

from rich import box
from rich.table import Table
from rich.text import Text

from mremapctl.bench.cases import OPS, Case
from mremapctl.bench.chart import chart
from mremapctl.bench.notes import notes
from mremapctl.bench.report import BenchReport, CaseStats
from mremapctl.documents import envelope
from mremapctl.errors import BadInput
from mremapctl.units import format_ns, format_size, short_size

CSV_FIELDS = ["op", "mapping", "size", "placement", "populated", "min_ns", "median_ns", "p90_ns", "samples"]
NOISY_MARK = "!"
CHART_ORDER = [("move", "anon"), ("dontunmap", "anon"), ("dontunmap", "memfd"), ("move", "memfd")]


def render_report(console: Any, report: BenchReport, detail: bool, chart_spec: Optional[str]) -> None:
    console.print(header(report))
    console.print(detail_table(report.cells) if detail else grid_table(report.cells))
    console.print(
        Text(
            f"≈ overhead ≥ half the raw time · {NOISY_MARK} noisy (p90 > 1.5 × median) · medians net of the "
            "timer overhead" + ("" if detail else " · min/p90/samples: --detail, --json, --csv"),
            style="dim",
        )
    )
    drawn = chart_for(report, chart_spec)
    if drawn is not None:
        console.print()
        console.print(drawn)
    console.print()
    for level, line in notes(report):
        console.print(Text(("⚠ " if level == "warn" else "· ") + line, style="yellow" if level == "warn" else "dim"))


def header(report: BenchReport) -> Text:
    s = report.settings
    text = Text()
    text.append("bench ", style="bold").append("· live · kernel ", style="dim").append(report.kernel, style="bold")
    text.append(f" · {len(report.cells)} cells · up to {s.samples} samples each", style="dim")
    text.append(f" · THP {report.system.thp_enabled or 'n/a'} (--thp {s.thp})", style="dim")
    return text


def cell_text(cell: Optional[CaseStats], compact: bool = False) -> Text:
    if cell is None:
        return Text("")
    if cell.error:
        return Text(cell.error, style="bold red")
    if cell.median_ns is None:
        return Text("–", style="dim")
    value = format_ns(cell.median_ns).replace(" ", "") if compact else format_ns(cell.median_ns)
    if cell.overhead_dominated:
        return Text("≈" + value, style="dim")
    if cell.noisy:  # marked, not only coloured: a pipe or NO_COLOR shows no yellow
        return Text(value + NOISY_MARK, style="yellow")
    return Text(value)


def grid_table(cells: Sequence[CaseStats]) -> Table:
    sizes = sorted({c.case.size for c in cells})
    rows: Dict[Tuple[str, str, str, bool], Dict[int, CaseStats]] = {}
    for cell in cells:
        rows.setdefault(cell.case.series, {})[cell.case.size] = cell
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, header_style="bold")
    for name in ("op", "map", "placement", "pop"):
        table.add_column(name, no_wrap=True)
    for size in sizes:
        table.add_column(short_size(size), justify="right", no_wrap=True)
    previous: Optional[Tuple[str, str]] = None
    for (op, mapping, placement, populated), by_size in rows.items():
        first = previous != (op, mapping)
        previous = (op, mapping)
        table.add_row(
            op if first else "",
            mapping if first else "",
            placement,
            "yes" if populated else "no",
            *[cell_text(by_size.get(size), compact=True) for size in sizes],
            end_section=False,
        )
    return table


def detail_table(cells: Sequence[CaseStats]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
    for name, justify in [
        ("op", "left"),
        ("mapping", "left"),
        ("placement", "left"),
        ("populated", "left"),
        ("size", "right"),
        ("min", "right"),
        ("median", "right"),
        ("p90", "right"),
        ("samples", "right"),
        ("", "left"),
    ]:
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for cell in cells:
        c = cell.case
        stats = [format_ns(v) if v is not None else "–" for v in (cell.min_ns, cell.median_ns, cell.p90_ns)]
        table.add_row(
            c.op,
            c.mapping,
            c.placement,
            "yes" if c.populated else "no",
            format_size(c.size),
            stats[0],
            cell_text(cell),
            stats[2],
            str(cell.samples),
            _marks(cell),
        )
    return table


def _marks(cell: CaseStats) -> Text:
    parts: List[str] = []
    if cell.overhead_dominated:
        parts.append("≈ overhead-dominated")
    if cell.noisy:
        parts.append(f"noisy ×{cell.spread:.1f}")
    if cell.huge_share:
        parts.append(f"THP {cell.huge_share:.0%}")
    return Text(", ".join(parts), style="dim")


def parse_chart_spec(spec: str) -> Optional[Tuple[str, Optional[str]]]:
    """ "none" → None; "move" or "dontunmap:memfd" → (op, mapping or None)."""
    if spec == "none":
        return None
    op, _, mapping = spec.partition(":")
    if op not in OPS or mapping not in ("", "anon", "memfd"):
        raise BadInput(f"bad --chart {spec!r}: an op ({', '.join(OPS)}) with an optional :anon or :memfd, or none")
    return op, mapping or None


def chart_for(report: BenchReport, spec: Optional[str]) -> Optional[Text]:
    """The chart the user asked for (default: populated anonymous moves, else what was measured)."""
    if spec == "none":
        return None
    wanted = parse_chart_spec(spec) if spec else None
    if wanted is None:
        order = CHART_ORDER
    elif wanted[1] is None:
        order = [(wanted[0], "anon"), (wanted[0], "memfd")]
    else:
        order = [(wanted[0], wanted[1])]
    for op, mapping in order:
        for populated in (True, False):
            chosen = [c for c in report.cells if _matches(c.case, op, mapping, populated)]
            if len({c.case.size for c in chosen}) >= 2:
                state = "populated" if populated else "empty"
                return chart(chosen, f"{op} {mapping} {state}: median latency against size (log–log)")
    return None


def _matches(case: Case, op: str, mapping: str, populated: bool) -> bool:
    return case.op == op and case.mapping == mapping and case.populated == populated


def bench_json(report: BenchReport) -> Dict[str, Any]:
    o = report.overhead
    return envelope(
        "bench",
        kernel=report.kernel,
        overhead_ns={"min": o.min_ns, "median": o.median_ns, "p90": o.p90_ns},
        syscall_binding=report.flavour,
        thp=report.settings.thp,
        system=report.system.to_json(),
        cases=[case_json(cell) for cell in report.cells],
    )


def case_json(cell: CaseStats) -> Dict[str, Any]:
    c = cell.case
    data: Dict[str, Any] = {
        "op": c.op,
        "mapping": c.mapping,
        "size": c.size,
        "placement": c.placement,
        "populated": c.populated,
        "min_ns": cell.min_ns,
        "median_ns": cell.median_ns,
        "p90_ns": cell.p90_ns,
        "samples": cell.samples,
        "overhead_ns": cell.overhead_ns,
        "overhead_dominated": cell.overhead_dominated,
        "spread": None if cell.spread is None else round(cell.spread, 3),
    }
    if cell.huge_share is not None:
        data["huge_share"] = round(cell.huge_share, 3)
    if cell.error:
        data["error"] = cell.error
    return data


def bench_csv(report: BenchReport) -> str:
    """One row per cell; booleans as 0/1 for spreadsheets."""
    out = io.StringIO()
    writer = csv.DictWriter(out, [*CSV_FIELDS, "overhead_ns", "overhead_dominated", "error"], lineterminator="\n")
    writer.writeheader()
    for cell in report.cells:
        row = case_json(cell)
        row["populated"] = int(row["populated"])
        row["overhead_dominated"] = int(row["overhead_dominated"])
        writer.writerow({key: row.get(key, "") for key in writer.fieldnames})
    return out.getvalue()
