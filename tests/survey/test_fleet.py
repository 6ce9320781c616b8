"""Survey reports a person can file, and several machines' surveys side by side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import pytest

from mremapctl import __version__
from mremapctl.survey import grid
from mremapctl.survey.about import describe
from mremapctl.survey.matrix import run_matrix
from tests.cli.conftest import invoke

FACTS = {"hostname", "kernel", "backend", "architecture", "page_size", "syscall_layer", "soft_dirty"}
FACTS |= {"secretmem", "mseal", "tool_version", "date", "command"}


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    """Three machines' surveys: two kernel models, and one saved before surveys described their machine."""
    folder = tmp_path_factory.mktemp("surveys")
    paths = {}
    for kernel in ("5.10", "5.13", "6.12"):
        result = invoke(["survey", "--backend", "sim", "--kernel", kernel, "--json"])
        assert result.exit_code == 0, result.stderr
        paths[kernel] = folder / f"board-{kernel}.json"
        paths[kernel].write_text(result.stdout)
    old = json.loads(paths["6.12"].read_text())
    del old["machine"]
    paths["old"] = folder / "phone.json"
    paths["old"].write_text(json.dumps(old))
    return paths


def compare(saved: Dict[str, Path], names: List[str], *extra: str) -> Any:
    return invoke(["survey", "--compare", *(str(saved[n]) for n in names), *extra])


def test_a_survey_carries_what_a_bug_report_needs(saved: Dict[str, Path]) -> None:
    machine = json.loads(saved["5.10"].read_text())["machine"]
    assert set(machine) == FACTS
    assert machine["command"] == "mremapctl survey --backend sim --kernel 5.10 --json"
    assert machine["tool_version"] == __version__ and machine["date"].endswith("+00:00")
    assert (machine["secretmem"], machine["mseal"]) == (False, False)  # 5.10: neither exists yet
    markdown = invoke(["survey", "--backend", "sim", "--kernel", "6.12", "--markdown"]).stdout
    for line in ("| secretmem | yes |", "| mseal | yes |", "| page size | 4 KiB |", "| mremapctl | " + __version__):
        assert line in markdown
    assert "| command | `mremapctl survey --backend sim --kernel 6.12 --markdown` |" in markdown
    assert "FIXED and DONTUNMAP are sent with MREMAP_MAYMOVE" in markdown


def test_live_facts_come_from_this_process(live_backend: Any) -> None:
    cells = run_matrix([live_backend], grid.rows_for(["secretmem", "anon"], ["plain", "sealed"]), grid.COLUMNS).cells
    machine = describe(live_backend, cells, ["survey"])
    assert machine.backend == "live" and machine.syscall_layer in ("cffi", "ctypes")
    assert machine.architecture and machine.page_size == live_backend.page_size
    with open("/proc/self/smaps") as f:
        assert machine.soft_dirty == any(line.startswith("VmFlags:") and " sd" in line for line in f)
    assert machine.mseal is not None and machine.secretmem is not None


def test_three_machines_one_column_each(saved: Dict[str, Path]) -> None:
    result = compare(saved, ["5.10", "5.13", "old"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "1. model · 5.10" in out and "2. model · 5.13" in out and "3. phone · 6.12" in out  # older: file name
    header = next(line for line in out.splitlines() if line.lstrip().startswith("experiment"))
    assert header.split() == ["experiment", "5.10", "5.13", "6.12"]
    memfd = next(line for line in out.splitlines() if line.lstrip().startswith("memfd: DONTUNMAP same"))
    assert memfd.split()[-4:] == ["≠", "EINVAL", "moved", "moved"]
    anon = next(line for line in out.splitlines() if line.lstrip().startswith("anon: DONTUNMAP same"))
    assert "≠" not in anon and anon.split()[-3:] == ["moved"] * 3
    assert "experiments differ between the 3 machines" in out
    assert not [line for line in out.splitlines() if line.endswith(" ")]  # piped: no padding


def test_changes_only_keeps_the_rows_that_differ(saved: Dict[str, Path]) -> None:
    every = compare(saved, ["5.10", "5.13", "6.12"], "--json")
    changed = compare(saved, ["5.10", "5.13", "6.12"], "--json", "--changes-only")
    all_rows, rows = json.loads(every.stdout)["rows"], json.loads(changed.stdout)["rows"]
    assert len(rows) < len(all_rows) and all(r["differs"] for r in rows)
    assert [r for r in all_rows if r["differs"]] == rows
    data = json.loads(changed.stdout)
    assert [m["label"] for m in data["machines"]] == ["model · 5.10", "model · 5.13", "model · 6.12"]
    assert (data["a"], data["b"]) == ("5.10", "5.13") and data["differences"] == rows  # the two-file form's fields
    text = compare(saved, ["5.10", "5.13", "6.12"], "--changes-only").stdout
    assert "anon: DONTUNMAP same" not in text and "memfd: DONTUNMAP same" in text


def test_the_comparison_as_markdown(saved: Dict[str, Path]) -> None:
    markdown = compare(saved, ["5.10", "6.12"], "--markdown", "--changes-only").stdout
    assert "| 1 | model · 5.10 | 5.7 |" in markdown and "| experiment | 1 | 2 |" in markdown
    assert "| memfd: DONTUNMAP same | **EINVAL** | **moved** |" in markdown


def test_the_same_machine_twice_is_told_apart_by_file(saved: Dict[str, Path]) -> None:
    data = json.loads(compare(saved, ["5.10", "5.10"], "--json").stdout)
    labels = [m["label"] for m in data["machines"]]
    assert labels[0] == labels[1] == "model · 5.10 (board-5.10.json)"  # both the same file here
    assert data["differences"] == []


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--compare"], "--compare needs two or more saved surveys"),
        (["--compare", "ONE"], "--compare needs two or more saved surveys"),
        (["--changes-only"], "--changes-only belong to --compare"),
        (["ONE", "TWO"], "saved surveys belong to --compare"),
        (["--compare", "ONE", "TWO", "--kernel", "5.10"], "--compare and --kernel exclude each other"),
        (["--markdown", "--json"], "--json and --markdown exclude each other"),
    ],
)
def test_misuse_is_one_line(saved: Dict[str, Path], args: List[str], says: str) -> None:
    args = [str(saved["5.10"]) if a in ("ONE", "TWO") else a for a in args]
    result = invoke(["survey", *args])
    assert result.exit_code == 2 and says in result.stderr and len(result.stderr.splitlines()) == 1
