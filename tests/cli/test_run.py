"""``mremapctl run``: bundled scenarios, --check, and runs that cannot finish."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from mremapctl.examples import bundled
from mremapctl.primitives import RunOptions
from mremapctl.scenario import parse_scenario


def test_list_names_every_bundled_scenario(cli: Any) -> None:
    result = cli(["run", "--list"])
    assert result.exit_code == 0
    for name, description in bundled():
        assert name in result.stdout and description[:30] in result.stdout


@pytest.mark.parametrize("name", [n for n, _ in bundled()])
def test_bundled_scenarios_pass_their_checks_live(cli: Any, huge_pages: int, name: str) -> None:
    result = cli(["run", name, "--check"])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "✓ expected" in result.stdout and "✗ expected" not in result.stdout


def test_check_fails_when_an_expectation_is_missed(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "wrong.toml"
    path.write_text('[[step]]\nop = "mmap"\nname = "A"\n[[step]]\nop = "mremap"\nold = "A"\nraw = 8\nexpect = "ok"\n')
    result = cli(["run", str(path), "--check"])
    assert result.exit_code == 1
    assert "✗ expected ok" in result.stdout and "1 step(s) did not meet their expect" in result.stderr
    assert cli(["run", str(path)]).exit_code == 0  # without --check an errno is just a result


def test_per_step_tables_and_json(cli: Any) -> None:
    text = cli(["run", "grow-blocked"]).stdout
    assert " 3 mremap(0x100000000000, 8192, 16384, 0) = -1 ENOMEM (Cannot allocate memory)" in text
    data = json.loads(cli(["run", "grow-blocked", "--json"]).stdout)
    assert [s["expect_met"] for s in data["steps"] if "expect" in s] == [True, True, True]
    assert all("maps_after" in s for s in data["steps"] if s["op"] in ("mmap", "mremap"))


def test_a_hanging_child_is_killed_and_reported(cli: Any, tmp_path: Path) -> None:
    """A write into a userfaultfd-registered range waits forever for a handler: a time-out."""
    path = tmp_path / "hang.toml"
    path.write_text(
        '[[step]]\nop = "mmap"\nname = "A"\n[[step]]\nop = "uffd_register"\nat = "A"\n'
        '[[step]]\nop = "write"\nat = "A"\nsize = "1"\n'
    )
    result = cli(["run", str(path), "--timeout", "1.5", "--backend", "live"])
    assert result.exit_code == 1
    assert "timed out after 1.5 s during step" in result.stderr and "--timeout SECONDS" in result.stderr
    assert "crashed: timed out" in result.stdout


def test_a_crashing_child_is_reported(live_backend: Any, monkeypatch: Any) -> None:
    """Whatever kills the child (here: a read that raises SIGSEGV in it) becomes the run's failure."""
    from mremapctl.backends.live.machine import LiveMachine

    monkeypatch.setattr(LiveMachine, "read_runs", lambda self, addr, size: os.kill(os.getpid(), signal.SIGSEGV))
    scenario = parse_scenario('[[step]]\nop = "mmap"\nname = "A"\n[[step]]\nop = "read"\nat = "A"\n')
    run = live_backend.run(scenario, RunOptions())
    assert run.failure == "the experiment's child died of SIGSEGV"
    assert [s.status for s in run.steps] == ["ok", "crashed"]


def test_the_lab_is_empty_where_nothing_was_mapped(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_text('[[step]]\nop = "mmap"\nname = "A"\n[[step]]\nop = "read"\nat = "lab+10G"\nsize = "1p"\n')
    data = json.loads(cli(["run", str(path), "--json"]).stdout)
    assert data["steps"][1]["pages"] == ["SIGSEGV"]
