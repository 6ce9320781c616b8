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


@pytest.mark.parametrize("fmt", ["--json", "--markdown", "--no-color"])
def test_ctrl_c_during_survey_is_130_and_the_report_says_it_is_partial(live_backend: Any, fmt: str) -> None:
    done = interrupt_after(2.5, "survey", "--parallel", "1", fmt)
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("mremapctl: error: interrupted after ")
    if fmt == "--json":
        data = json.loads(done.stdout)
        assert data["interrupted"] is True
        assert data["cut_short"].startswith(f"interrupted after {data['experiments']} of ")
    else:
        assert "interrupted after" in done.stdout and "partial" in done.stdout


def test_ctrl_c_during_matrix_is_130(live_backend: Any) -> None:
    done = interrupt_after(2.5, "matrix", "--parallel", "1", "--json")
    assert done.returncode == 130, done.stderr
    summary = json.loads(done.stdout)["summary"]
    assert summary["interrupted"] is True and summary["experiments"] < summary["planned"]


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
