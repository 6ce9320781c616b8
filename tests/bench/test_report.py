"""Statistics, exports, notes and the chart, from synthetic samples: no timing involved."""

from __future__ import annotations

import csv
import io
import json
from typing import List

import pytest
from rich.console import Console

from mremapctl.backends.live.timing import Overhead
from mremapctl.bench.cases import Case, Selection, build_cases
from mremapctl.bench.chart import chart
from mremapctl.bench.measure import Measured, Settings
from mremapctl.bench.notes import notes
from mremapctl.bench.render import bench_csv, bench_json, case_json, chart_for, parse_chart_spec, render_report
from mremapctl.bench.report import BenchReport, CaseStats, percentile
from mremapctl.bench.run import check_memory
from mremapctl.bench.system import SystemInfo
from mremapctl.errors import BadInput

OVERHEAD = Overhead(900, 1000, 1200)
SYSTEM = SystemInfo("madvise", "madvise", "never", 0, 2)
MiB, GiB = 1 << 20, 1 << 30


def cost(case: Case) -> int:
    """A made-up latency with the page-table shape: per PTE, per PMD or per PUD."""
    pages = case.size // 4096 if case.populated else 0
    per = {"pud": GiB // 4096 if case.size >= GiB else 512, "pmd": 512, "mutual": 512, "misaligned": 1}[case.placement]
    return 2000 + 10 * pages // per


def report_for(cases: List[Case], spread: float = 1.0) -> BenchReport:
    report = BenchReport("6.18-test", "cffi", OVERHEAD, Settings(), SYSTEM)
    for case in cases:
        base = cost(case)
        raw = [base] * 8 + [int(base * spread)] * 2
        report.cells.append(
            CaseStats.from_measured(Measured(case, raw, huge_share=0.0 if case.populated else None), OVERHEAD)
        )
    return report


def test_percentile_nearest_rank() -> None:
    values = list(range(1, 11))
    assert (percentile(values, 0.5), percentile(values, 0.9), percentile(values, 1.0)) == (5, 9, 10)


def test_cell_statistics_are_net_of_the_overhead() -> None:
    cell = CaseStats.from_measured(
        Measured(Case("move", "anon", 4096, "pud", False), [1100, 1500, 3000, 900]), OVERHEAD
    )
    assert (cell.min_ns, cell.median_ns, cell.p90_ns, cell.samples) == (0, 300, 2000, 4)
    assert cell.min_ns <= cell.median_ns <= cell.p90_ns  # type: ignore[operator]
    assert cell.overhead_dominated  # 1 µs of overhead in a 1.3 µs raw median
    big = CaseStats.from_measured(Measured(Case("move", "anon", GiB, "pud", True), [50_000] * 5), OVERHEAD)
    assert big.median_ns == 49_000 and not big.overhead_dominated


def test_a_failed_cell_keeps_its_errno() -> None:
    cell = CaseStats.from_measured(Measured(Case("dontunmap", "memfd", 4096, "pud", False), [], "EINVAL"), OVERHEAD)
    assert cell.error == "EINVAL" and cell.median_ns is None and cell.samples == 0
    assert case_json(cell)["error"] == "EINVAL"


def test_json_and_csv_shapes() -> None:
    report = report_for(build_cases(Selection(sizes=(4096, 2 * MiB))))
    data = json.loads(json.dumps(bench_json(report)))
    assert data["kind"] == "bench" and data["kernel"] == "6.18-test"
    keys = {"op", "mapping", "size", "placement", "populated", "min_ns", "median_ns", "p90_ns", "samples"}
    assert all(keys <= set(case) for case in data["cases"])
    assert all(case["spread"] == 1.0 for case in data["cases"])  # what the noise note is read from
    assert {c["op"] for c in data["cases"]} == {"move", "dontunmap", "grow", "shrink"}
    rows = list(csv.DictReader(io.StringIO(bench_csv(report))))
    assert len(rows) == len(report.cells) and rows[0]["op"] == "move" and rows[0]["populated"] in ("0", "1")


def test_noise_and_overhead_notes() -> None:
    quiet = [text for _, text in notes(report_for(build_cases(Selection(sizes=(4096, 2 * MiB)))))]
    assert any("per-call overhead of the timed path" in line for line in quiet)
    assert any("THP enabled=[madvise]" in line for line in quiet)
    assert any("hugetlb is not measured (vm.nr_hugepages = 0)" in line for line in quiet)
    assert not any("noisy machine" in line for line in quiet)
    noisy = notes(report_for(build_cases(Selection(sizes=(4096, 2 * MiB))), spread=3.0))
    assert any(level == "warn" and "noisy machine" in text for level, text in noisy)


def test_chart_separates_the_placements() -> None:
    cases = build_cases(Selection(sizes=(4096, 2 * MiB, 64 * MiB, GiB), ops=("move",), populated=(True,)))
    drawn = chart(report_for(cases).cells, "move anon populated")
    assert drawn is not None
    text = drawn.plain
    lines = text.splitlines()
    assert lines[0] == "move anon populated"
    assert "4K" in lines[-2] and "1G" in lines[-2]
    assert all(f"{m} {p}" in lines[-1] for m, p in (("U", "pud"), ("M", "pmd"), ("x", "misaligned")))
    # at 1 GiB (the last column) the misaligned point is far above the PUD one
    column = max(len(line) for line in lines[1:-3]) - 1
    rows = {line[column]: i for i, line in enumerate(lines[1:-3]) if len(line) > column and line[column] in "UMx*"}
    assert "x" in rows and "U" in rows and rows["x"] < rows["U"]
    assert chart(report_for(cases[:1]).cells, "one point") is None


def test_chart_choice_and_rendering() -> None:
    report = report_for(build_cases(Selection(sizes=(4096, 2 * MiB))))
    assert parse_chart_spec("none") is None and parse_chart_spec("dontunmap:memfd") == ("dontunmap", "memfd")
    with pytest.raises(BadInput, match="bad --chart 'copy'"):
        parse_chart_spec("copy")
    assert chart_for(report, "none") is None
    memfd_chart = chart_for(report, "dontunmap:memfd")
    assert memfd_chart is not None and memfd_chart.plain.startswith("dontunmap memfd populated")
    console = Console(width=160, no_color=True, record=True)
    render_report(console, report, detail=True, chart_spec=None)
    out = console.export_text()
    assert "min" in out and "p90" in out and "samples" in out and "move anon populated" in out


def test_memory_refusal_names_the_size() -> None:
    cases = build_cases(Selection(sizes=(4096, 4 * GiB), ops=("shrink",)))
    with pytest.raises(BadInput, match=r"refusing size 4 GiB populated: it needs 8 GiB \(grow/shrink hold 2 × size\)"):
        check_memory(cases, force=False, available=10 * GiB)
    check_memory(cases, force=True, available=10 * GiB)
    check_memory(cases, force=False, available=17 * GiB)
    check_memory(build_cases(Selection(sizes=(8 * GiB,), populated=(False,))), force=False, available=GiB)
