"""bench, live, in its quick mode: the structure and sane relations of what it reports (never timings)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from mremapctl.backends.live.makers import meminfo
from mremapctl.bench import Selection, Settings, run_bench
from mremapctl.bench.cases import OPS, PLACEMENTS, QUICK_SIZES, build_cases
from mremapctl.bench.measure import MIN_SAMPLES
from tests.cli.conftest import invoke

QUICK_CELLS = len(QUICK_SIZES) * (4 + 8 + 3 + 3) * 2


def test_quick_run_reports_every_cell_with_ordered_statistics(live_backend: Any) -> None:
    selection = Selection(sizes=QUICK_SIZES)
    report = run_bench(selection, Settings(samples=6, max_time=0.1))
    assert [c.case for c in report.cells] == build_cases(selection)
    assert 0 < report.overhead.min_ns <= report.overhead.median_ns <= report.overhead.p90_ns
    for cell in report.cells:
        assert cell.error is None, cell.case.label
        assert MIN_SAMPLES <= cell.samples <= 6 + 1
        assert cell.min_ns is not None and cell.median_ns is not None and cell.p90_ns is not None
        assert 0 <= cell.min_ns <= cell.median_ns <= cell.p90_ns
        assert (cell.huge_share is not None) == cell.case.populated
        assert cell.overhead_ns is not None and cell.overhead_ns > 0
        assert cell.overhead_dominated == (2 * cell.overhead_ns >= (cell.raw_median_ns or 0))


def test_quick_json(live_backend: Any) -> None:
    result = invoke(["bench", "--quick", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kind"] == "bench" and data["kernel"] and len(data["cases"]) == QUICK_CELLS
    for case in data["cases"]:
        assert case["op"] in OPS and case["mapping"] in ("anon", "memfd") and case["placement"] in PLACEMENTS
        assert case["size"] in QUICK_SIZES and isinstance(case["populated"], bool)
        assert case["min_ns"] <= case["median_ns"] <= case["p90_ns"] and case["samples"] >= MIN_SAMPLES
    assert data["overhead_ns"]["median"] > 0
    assert data["syscall_binding"] in ("cffi", "ctypes") and "notes" not in data  # data, not prose
    pairs = {(c["op"], c["mapping"]) for c in data["cases"]}
    assert pairs == {
        ("move", "anon"),
        ("dontunmap", "anon"),
        ("dontunmap", "memfd"),
        ("grow", "anon"),
        ("shrink", "anon"),
    }


def test_quick_csv_and_tables(live_backend: Any) -> None:
    args = ["bench", "--quick", "--ops", "move,shrink", "--placements", "pud,misaligned"]
    result = invoke([*args, "--csv"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 4 * 2 * 2 * 2 and {r["op"] for r in rows} == {"move", "shrink"}
    text = invoke(args).stdout
    assert "placement" in text and "8M" in text and "misaligned" in text
    assert "move anon populated: median latency against size (log–log)" in text
    assert "per-call overhead of the timed path" in text
    detail = invoke([*args, "--detail", "--chart", "none"]).stdout
    assert "median" in detail and "p90" in detail and "samples" in detail and "log–log" not in detail


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sizes", "3000"], "bad size '3000'"),
        (["--ops", "copy"], "unknown op 'copy'"),
        (["--placements", "pte"], "unknown placement 'pte'"),
        (["--mappings", "file"], "unknown mapping 'file'"),
        (["--chart", "copy"], "bad --chart 'copy'"),
        (["--ops", "grow", "--placements", "mutual"], "nothing to measure"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = invoke(["bench", *args])
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_refuses_sizes_it_cannot_populate_safely(live_backend: Any) -> None:
    if meminfo("MemAvailable") / 2 >= 16 << 30:
        pytest.skip("this machine has room to populate 8 GiB twice: nothing to refuse")
    result = invoke(["bench", "--sizes", "8G", "--ops", "grow"])
    assert result.exit_code == 2
    assert result.stderr.startswith("mremapctl: error: refusing size 8 GiB populated: it needs 16 GiB")
    assert (
        invoke(
            [
                "bench",
                "--sizes",
                "8G",
                "--ops",
                "move",
                "--placements",
                "pud",
                "--populated",
                "no",
                "--samples",
                "4",
                "--json",
            ]
        ).exit_code
        == 0
    )
