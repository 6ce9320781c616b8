"""`mremapctl matrix` and `survey`: the grid, the seed's change, the JSON shapes, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mremapctl.backends.select import open_sim
from mremapctl.render.survey import survey_json
from mremapctl.survey import grid
from mremapctl.survey.matrix import run_matrix
from mremapctl.survey.survey import survey
from tests.cli.conftest import invoke

SEED_ROWS = ["shmem", "memfd", "memfd private", "file", "file private", "devzero shared", "sysvshm"]


def answers(kernel: str) -> dict:
    rows = grid.rows_for(
        ["shmem", "memfd", "file", "devzero", "perf", "vdso", "hugetlb", "anon", "sysvshm"],
        ["plain", "shared", "private"],
    )
    cells = run_matrix([open_sim(kernel)], rows, [grid.Column("DONTUNMAP", "same")]).cells
    return {(c.kind + ("" if c.variant == "plain" else f" {c.variant}")): c.answer for c in cells}


def test_the_seed_stands_out_between_5_12_and_5_13() -> None:
    before, after = answers("5.12"), answers("5.13")
    for row in SEED_ROWS:
        assert (before[row], after[row]) == ("EINVAL", "moved"), row
    for row in ("perf", "vdso", "hugetlb"):
        assert before[row] == after[row] == "EINVAL", row
    assert before["anon"] == after["anon"] == "moved"


def test_changes_only_keeps_the_changed_rows() -> None:
    result = invoke(
        ["matrix", "--kernel", "5.12", "--kernel", "5.13", "--flags", "DONTUNMAP", "--sizes", "same", "--changes-only"]
    )
    assert result.exit_code == 0
    assert "memfd private" in result.stdout and "EINVAL" in result.stdout
    assert "perf " not in result.stdout and "vdso" not in result.stdout


def test_matrix_json_shape() -> None:
    data = json.loads(
        invoke(
            ["matrix", "--backend", "sim", "--kernel", "6.1", "--kinds", "anon,perf", "--variants", "plain", "--json"]
        ).stdout
    )
    assert data["tool"] == "mremapctl" and data["schema"] == 1 and data["kind"] == "matrix"
    assert data["summary"]["experiments"] == len(data["cells"]) == 20
    cell = data["cells"][0]
    assert set(cell) >= {"kind", "variant", "flags", "size_rel", "kernel", "backend", "result", "moved", "rule"}
    assert cell["kernel"] == "6.1" and cell["backend"] == "sim"


def test_kernel_ranges_add_a_group_per_model() -> None:
    data = json.loads(
        invoke(
            [
                "matrix",
                "--kernels",
                "5.10..5.16",
                "--kinds",
                "memfd",
                "--variants",
                "plain",
                "--flags",
                "DONTUNMAP",
                "--sizes",
                "same",
                "--json",
            ]
        ).stdout
    )
    assert [c["kernel"] for c in data["cells"]] == ["5.11", "5.12", "5.13", "5.14", "5.16"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kinds", "gpu"], "unknown kind 'gpu'"),
        (["--flags", "MOVE"], "unknown flag set 'MOVE'"),
        (["--sizes", "huge"], "unknown size relation 'huge'"),
        (["--variants", "frozen"], "unknown variant 'frozen'"),
        (["--kernels", "5.4-6.18"], "bad --kernels '5.4-6.18'"),
        (["--kernels", "6.2..6.4"], "holds no model"),
        (["--kernel", "5.x", "--backend", "sim"], "bad kernel version '5.x'"),
        (["--backend", "cloud"], "unknown backend 'cloud'"),
    ],
)
def test_bad_selections(args: list, message: str) -> None:
    result = invoke(["matrix", *args])
    assert result.exit_code == 2 and message in result.stderr and len(result.stderr.splitlines()) == 1


def test_live_matrix_agrees_with_the_model(live_backend: Any) -> None:
    rows = grid.rows_for(["anon", "memfd", "perf", "vdso", "aio", "devzero"], grid.VARIANTS)
    live = run_matrix([live_backend], rows, grid.COLUMNS).cells
    model = run_matrix([open_sim(None)], rows, grid.COLUMNS).cells
    assert len(live) >= 250
    assert all(c.result != "failed" for c in live)
    assert [c.answer for c in live] == [c.answer for c in model]


def test_survey_finds_this_kernel(live_backend: Any) -> None:
    rows = grid.rows_for(["memfd", "perf"], ["plain", "sealed"])
    live = run_matrix([live_backend], rows, grid.COLUMNS).cells
    models = {m: run_matrix([open_sim(m)], rows, grid.COLUMNS).cells for m in ("5.12", "5.13", "6.12", "6.18")}
    result = survey(live_backend.kernel, live, models)
    assert result.exact and result.behaves_like == "6.18" and result.per_model["5.12"] > 0


def test_survey_verdict_on_a_pretend_old_kernel() -> None:
    rows = grid.rows_for(["memfd", "anon"], ["plain"])
    old = run_matrix([open_sim("5.12")], rows, grid.COLUMNS).cells
    models = {m: run_matrix([open_sim(m)], rows, grid.COLUMNS).cells for m in ("5.7", "5.11", "5.13", "6.18")}
    result = survey("5.12.0-pretend", old, models)
    assert result.exact and result.behaves_like == "5.11"
    closest = survey("x", old, {"6.18": models["6.18"]})
    assert not closest.exact and closest.deviations and closest.behaves_like == "6.18"


def test_survey_compare_and_bad_files(tmp_path: Path) -> None:
    rows = grid.rows_for(["memfd"], ["plain"])
    for name, kernel in (("a.json", "5.12"), ("b.json", "5.13")):
        cells = run_matrix([open_sim(kernel)], rows, grid.COLUMNS).cells
        (tmp_path / name).write_text(json.dumps(survey_json(survey(kernel, cells, {kernel: cells}))))
    result = invoke(["survey", "--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--json"])
    diff = json.loads(result.stdout)["differences"]
    assert {(d["flags"][-1], d["a"], d["b"]) for d in diff} >= {("DONTUNMAP", "EINVAL", "moved")}
    (tmp_path / "bad.json").write_text("{}")
    (tmp_path / "broken.json").write_text("{")
    for name, message in (
        ("bad.json", "is not a mremapctl survey"),
        ("broken.json", "is not JSON"),
        ("missing.json", "cannot read"),
    ):
        result = invoke(["survey", "--compare", str(tmp_path / name), str(tmp_path / "a.json")])
        assert result.exit_code == 2 and message in result.stderr


def test_a_dying_child_is_a_failed_cell_and_the_matrix_goes_on(live_backend: Any, monkeypatch: Any) -> None:
    import os
    import signal

    from mremapctl.backends.live.machine import LiveMachine

    real = LiveMachine.mremap

    def dies_on_grow(self: Any, old: int, old_size: int, new_size: int, flags: int, new_addr: int) -> Any:
        if new_size > old_size:
            os.kill(os.getpid(), signal.SIGBUS)
        return real(self, old, old_size, new_size, flags, new_addr)

    monkeypatch.setattr(LiveMachine, "mremap", dies_on_grow)
    cells = run_matrix([live_backend], [grid.Row("anon")], grid.COLUMNS).cells
    failed = [c for c in cells if c.result == "failed"]
    assert {c.size_rel for c in failed} == {"grow", "zero"} and len(cells) == len(grid.COLUMNS)
    assert failed[0].reason == "the experiment's child died of SIGBUS"


def test_ctrl_c_keeps_the_cells_so_far(live_backend: Any) -> None:
    seen = []

    def progress(n: int) -> None:
        seen.append(n)
        if len(seen) == 5:
            raise KeyboardInterrupt

    matrix = run_matrix([live_backend], grid.rows_for(["anon", "memfd"], ["plain"]), grid.COLUMNS, progress)
    assert matrix.interrupted and 5 <= len(matrix.cells) < 20
