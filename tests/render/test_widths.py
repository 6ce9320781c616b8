"""At any terminal width, every range, size, perms and VmFlags value of a run is on screen whole."""

from __future__ import annotations

import io
import re
from typing import Iterator, List, Tuple

import pytest
from rich.console import Console

from mremapctl.backends.select import open_sim
from mremapctl.examples import bundled, load_bundled
from mremapctl.experiment import READ_LABELS, TryOptions, build
from mremapctl.render.text import Show, render_experiment, render_run
from mremapctl.results import MapEntry, Run, diff_maps
from mremapctl.units import format_size

WIDTHS = (60, 80, 100, 132, 200)
TRIES = [
    TryOptions(kind="perf", dontunmap=True, fill=None),
    TryOptions(kind="memfd", dontunmap=True),
    TryOptions(kind="file", dir="/tmp", shared=False, dontunmap=True),
    TryOptions(kind="anon", maymove=True, grow=True, mlock=True),
    TryOptions(kind="shmem", old_size="0", maymove=True),
    TryOptions(kind="vdso", fixed="", fill=None),
]


def render(run: Run, width: int, experiment: bool) -> str:
    console = Console(file=io.StringIO(), width=width, no_color=True, highlight=False, soft_wrap=False)
    if experiment:
        render_experiment(console, run, READ_LABELS, Show())
    else:
        render_run(console, run, Show())
    return console.file.getvalue()  # type: ignore[attr-defined, no-any-return]


def shown_entries(run: Run, experiment: bool) -> Iterator[MapEntry]:
    """The entries the renderer puts in a maps view (the same diffs it draws)."""
    if experiment:
        diffs = [diff_maps(run.maps_before, run.maps_after)]
    else:
        diffs, previous = [], []  # type: ignore[var-annotated]
        for step in run.steps:
            if step.maps_after is not None:
                rows = diff_maps(previous, step.maps_after)
                if any(r.status != "unchanged" for r in rows):
                    diffs.append(rows)
                previous = step.maps_after
    for rows in diffs:
        for row in rows:
            entry = row.after or row.before
            assert entry is not None
            yield entry


def whole(text: str) -> str:
    """Line breaks and indentation become single spaces: wrapping between words is fine, a cut is not."""
    return " " + re.sub(r"\s+", " ", text) + " "


def runs() -> Iterator[Tuple[str, Run, bool]]:
    sim = open_sim("6.18")
    for opts in TRIES:
        scenario, _ = build(opts, 4096)
        yield f"try {opts.kind}", sim.run(scenario), True
    for name, _ in bundled()[:8]:
        yield f"run {name}", sim.run(load_bundled(name)), False


@pytest.mark.parametrize("width", WIDTHS)
def test_every_map_value_is_whole_at_any_width(width: int) -> None:
    missing: List[str] = []
    for label, run, experiment in runs():
        text = whole(render(run, width, experiment))
        for entry in shown_entries(run, experiment):
            values = [f"{entry.start:#x}-{entry.end:#x}", format_size(entry.size), entry.perms]
            values.append(" ".join(entry.vm_flags or ()))
            missing += [f"{label}: {v!r}" for v in values if f" {v} " not in text]
    assert not missing, "\n".join(missing[:20])


def test_a_too_narrow_maps_table_becomes_blocks_not_cut_columns() -> None:
    run = open_sim("6.18").run(build(TryOptions(kind="perf", dontunmap=True, fill=None), 4096)[0])
    narrow, wide = render(run, 80, True), render(run, 200, True)
    assert "VmFlags rd wr sh mr mw ms pf io dc de dd" in narrow  # a block's flags line
    assert " range " in wide and "VmFlags rd" not in wide  # the table, when it fits
    assert "…" not in narrow


@pytest.mark.parametrize("width", WIDTHS)
def test_matrix_grids_split_instead_of_cutting(width: int) -> None:
    from mremapctl.render.matrix import render_matrix
    from mremapctl.survey import grid
    from mremapctl.survey.matrix import run_matrix

    rows = grid.rows_for(["shmem", "memfd", "secretmem"], grid.VARIANTS)
    groups = [open_sim("5.12"), open_sim("6.18")]
    for backends in (groups[:1], groups):
        matrix = run_matrix(backends, rows, grid.COLUMNS)
        console = Console(file=io.StringIO(), width=width, no_color=True)
        render_matrix(console, matrix.cells, rows, grid.COLUMNS)
        text = console.file.getvalue()  # type: ignore[attr-defined]
        assert "…" not in text.split("✓ moved ·")[0], text
        assert all(line.startswith(" kind") for line in text.splitlines() if "kind" in line)
        for row in rows:  # every row label whole, in every split grid
            assert f" {row.label} " in text


@pytest.mark.parametrize("width", WIDTHS)
def test_smaps_counters_are_whole_at_any_width(width: int) -> None:
    from mremapctl.render.memory import amount, counter
    from mremapctl.results import SMAPS_COUNTERS

    run = open_sim("6.18").run(build(TryOptions(kind="memfd", dontunmap=True), 4096)[0])
    console = Console(file=io.StringIO(), width=width, no_color=True, highlight=False, soft_wrap=False)
    render_experiment(console, run, READ_LABELS, Show(smaps=True))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    memory = text.split("memory (smaps")[1].split("contents now")[0]
    assert "…" not in memory and max(len(line) for line in memory.splitlines()) <= width
    for row in diff_maps(run.maps_before, run.maps_after):
        entry = row.after or row.before
        assert entry is not None and f"{entry.start:#x}-{entry.end:#x}" in memory
        for name in SMAPS_COUNTERS.values():
            now = amount(counter(row.after.memory if row.after else None, name))
            assert f" {now}" in whole(memory)


@pytest.mark.parametrize("width", (60, 80))
@pytest.mark.parametrize(
    ("args", "keys"),
    [
        (["kernels"], ("model", "covers")),
        (["kinds"], ("kind", "summary")),
        (["explain", "DONTUNMAP"], ("id", "errno", "versions", "text")),
        (["explain", "EINVAL"], ("id", "errno", "versions", "text")),
    ],
)
def test_reference_lists_fit_a_narrow_terminal_whole(width: int, args: List[str], keys: Tuple[str, ...]) -> None:
    """Every value of the JSON's items is in the text whole (wrapped between words at most; a kind
    that is not here shows why instead of what it is), and no line is wider than the terminal."""
    import json

    from tests.cli.conftest import invoke

    result = invoke(args, env={"COLUMNS": str(width), "NO_COLOR": "1"})
    assert result.exit_code == 0, result.stderr
    assert max(len(line) for line in result.stdout.splitlines()) <= width
    items = json.loads(invoke([*args, "--json"]).stdout)["items"]
    text = whole(result.stdout)
    shown = [{**item, "summary": item["reason"]} if item.get("available") is False else item for item in items]
    missing = [item[key] for item in shown for key in keys if item[key] and item[key] not in text]
    assert not missing, missing
