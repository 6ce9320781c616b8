"""Every command's JSON is one document with the same envelope: tool, schema, kind (docs/json.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import click
import pytest

from mremapctl.backends.vm.packages import KernelPackage
from mremapctl.cli import cli
from mremapctl.documents import KINDS, runs_from_json
from mremapctl.render.survey import survey_json
from mremapctl.survey.matrix import Cell
from mremapctl.survey.survey import survey
from tests.cli.conftest import invoke

ROOT = Path(__file__).resolve().parents[2]
SIM = ["--backend", "sim", "--kernel", "6.18"]

# (command path, arguments, kind); each runs without the live backend
OFFLINE: List[Tuple[str, List[str], str]] = [
    ("try", ["try", *SIM], "run"),
    ("run", ["run", "dontunmap-memfd", *SIM], "run"),
    ("run", ["run", "--list"], "scenarios"),
    ("kinds", ["kinds", *SIM], "kinds"),
    ("explain", ["explain", "DONTUNMAP"], "explain"),
    ("kernels", ["kernels"], "kernels"),
    ("matrix", ["matrix", *SIM, "--kinds", "anon", "--variants", "plain", "--flags", "MAYMOVE"], "matrix"),
    ("demo gc", ["demo", "gc", "--backend", "sim", "--kernel", "5.12", "--size", "1M"], "gc"),
    ("vm list", ["vm", "list"], "vm-list"),
]
LIVE: List[Tuple[str, List[str], str]] = [
    ("survey", ["survey"], "survey"),
    ("bench", ["bench", "--quick", "--sizes", "4K", "--ops", "move", "--placements", "pud", "--samples", "2"], "bench"),
]


def commands_with_json(group: click.Group, prefix: str = "") -> Iterator[str]:
    for name in group.list_commands(click.Context(group)):
        command = group.get_command(click.Context(group), name)
        if isinstance(command, click.Group):
            yield from commands_with_json(command, f"{prefix}{name} ")
        elif command is not None and any(p.name == "as_json" for p in command.params):
            yield f"{prefix}{name}"


def document(args: List[str]) -> Dict[str, Any]:
    result = invoke([*args, "--json"])
    assert result.exit_code == 0, result.stderr
    data: Dict[str, Any] = json.loads(result.stdout)
    return data


def assert_envelope(data: Dict[str, Any], kind: str) -> None:
    assert list(data)[:3] == ["tool", "schema", "kind"]
    assert (data["tool"], data["schema"], data["kind"]) == ("mremapctl", 1, kind)


def test_every_command_with_json_is_checked_here() -> None:
    assert set(commands_with_json(cli)) <= {path for path, _, _ in OFFLINE + LIVE}


@pytest.fixture
def no_mirrors(monkeypatch: pytest.MonkeyPatch) -> None:
    """`vm list` without Debian's mirrors: one made-up cached kernel."""
    package = KernelPackage("linux-image-5.10.0-46-amd64", "5.10.262-1", "5.10.262", "5.10.0-46-amd64", "amd64", False)
    monkeypatch.setattr("mremapctl.backends.vm.available", lambda progress=None, arch=None: [package])


@pytest.mark.usefixtures("no_mirrors")
@pytest.mark.parametrize(("path", "args", "kind"), OFFLINE, ids=[" ".join(a) for _, a, _ in OFFLINE])
def test_offline_commands(path: str, args: List[str], kind: str) -> None:
    data = document(args)
    assert_envelope(data, kind)
    if kind in ("kinds", "explain", "kernels", "vm-list", "scenarios"):
        assert isinstance(data["items"], list) and data["items"]


@pytest.mark.parametrize(("path", "args", "kind"), LIVE, ids=[" ".join(a) for _, a, _ in LIVE])
def test_live_commands(live_backend: Any, path: str, args: List[str], kind: str) -> None:
    assert_envelope(document(args), kind)


def test_survey_comparison(tmp_path: Path) -> None:
    saved = document(["matrix", *SIM, "--kinds", "memfd", "--variants", "plain"])  # cells to make a survey of
    cells = [Cell.from_json(c) for c in saved["cells"]]
    (tmp_path / "a.json").write_text(json.dumps(survey_json(survey("6.18", cells, {"6.18": cells}))))
    assert_envelope(
        document(["survey", "--compare", str(tmp_path / "a.json"), str(tmp_path / "a.json")]), "survey-comparison"
    )


def test_batch_prints_runs_the_vm_backend_reads_back(live_backend: Any, tmp_path: Path) -> None:
    toml = '[[step]]\nop = "mmap"\nname = "A"\nkind = "memfd"\n'
    (tmp_path / "batch.json").write_text(json.dumps({"scenarios": [toml, toml]}))
    result = invoke(["batch", str(tmp_path / "batch.json")])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert_envelope(data, "runs")
    assert all(run["kind"] == "run" for run in data["items"])
    assert [run.steps[0].ok for run in runs_from_json(data)] == [True, True]


def test_every_kind_is_documented() -> None:
    text = (ROOT / "docs" / "json.md").read_text()
    documented = set(re.findall(r'^### `"kind": "([a-z-]+)"`', text, re.M))
    assert documented == set(KINDS)
