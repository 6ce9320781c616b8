"""Exit codes a shell and a script can trust: Ctrl-C is 130 with an honest partial report, a
closed pipe ends quietly as a C tool does (141), bad values are 2."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any, List

import pytest

from tests.cli.conftest import invoke

ENV = dict(os.environ, NO_COLOR="1", COLUMNS="120")


def mremapctl(*args: str) -> List[str]:
    return [sys.executable, "-m", "mremapctl", *args]


def interrupt_after(seconds: float, *args: str) -> subprocess.CompletedProcess[str]:
    """Start the command, press Ctrl-C (SIGINT to its process group, as a terminal does)."""
    proc = subprocess.Popen(
        mremapctl(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, start_new_session=True
    )
    time.sleep(seconds)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture
def ctrl_c_after_100(monkeypatch: pytest.MonkeyPatch, live_backend: Any) -> None:
    """The live batch stops as Ctrl-C stops it, after 100 experiments: the same partial results,
    at a moment a test can rely on."""
    from mremapctl.backends.live.runner import LiveBackend
    from mremapctl.errors import BatchInterrupted

    real = LiveBackend.run_many

    def run_many(self: Any, scenarios: Any, *args: Any, **kwargs: Any) -> Any:
        done = real(self, scenarios[:100], *args, **kwargs)
        raise BatchInterrupted(done + [None] * (len(scenarios) - 100))

    monkeypatch.setattr(LiveBackend, "run_many", run_many)


@pytest.mark.parametrize("fmt", ["--json", "--markdown", "--no-color"])
def test_ctrl_c_during_survey_is_130_and_the_report_says_it_is_partial(ctrl_c_after_100: None, fmt: str) -> None:
    result = invoke(["survey", fmt])
    assert result.exit_code == 130, result.stderr
    assert result.stderr.strip() == "mremapctl: error: interrupted after 100 of 580 experiments"
    if fmt == "--json":
        data = json.loads(result.stdout)
        assert data["interrupted"] is True and data["experiments"] == 100
        assert data["cut_short"] == "interrupted after 100 of 580 experiments"
    else:
        assert "interrupted after 100 of 580 experiments, so this is partial" in result.stdout


def test_ctrl_c_during_matrix_says_so_in_every_format(ctrl_c_after_100: None) -> None:
    for fmt in ("--json", "--no-color"):
        result = invoke(["matrix", fmt])
        assert result.exit_code == 130, result.stderr
        if fmt == "--json":
            assert json.loads(result.stdout)["summary"] == {
                "experiments": 100,
                "planned": 580,
                "seconds": json.loads(result.stdout)["summary"]["seconds"],
                "interrupted": True,
            }
        else:
            assert "interrupted after 100 of 580 experiments" in result.stdout


@pytest.mark.parametrize("seconds", [0.5, 0.8, 1.1, 1.4])
def test_a_real_ctrl_c_is_130_and_one_line(live_backend: Any, seconds: float) -> None:
    # a survey runs for several seconds (a matrix of one lane can end within the second on a quiet
    # machine); at several moments, since a child just forked once took the SIGINT in its
    # after-fork hooks and printed "Exception ignored in: …" (1 run in 6)
    done = interrupt_after(seconds, "survey", "--parallel", "1", "--json")
    assert done.returncode == 130, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mremapctl: error: interrupted"), done.stderr


@pytest.mark.parametrize("fmt", ["--no-color", "--json"])
def test_a_closed_pipe_ends_quietly_like_a_c_tool(fmt: str) -> None:
    # about 100 KB of output, more than a pipe holds: the writer meets the closed pipe
    command = f"{sys.executable} -m mremapctl matrix --backend sim --kernels 5.4..6.18 {fmt}"
    done = subprocess.run(
        ["bash", "-c", f"{command} | head -3; echo ${{PIPESTATUS[0]}}"],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
    )
    assert done.stdout.strip().splitlines()[-1] == "141", done.stdout
    assert done.stderr == ""
