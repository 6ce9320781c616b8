"""Run the CLI in-process, through ``main`` (so exit codes and one-line errors are what a user
gets), with a fixed-width, colourless console: what a pipe sees."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

import pytest
from click.testing import CliRunner

from mremapctl.cli import main


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


PIPE = {"NO_COLOR": "1"}


def invoke(args: List[str], env: Optional[Dict[str, str]] = None) -> Result:
    """``env``: what the environment adds to a 200-column width (default: a pipe's NO_COLOR)."""
    runner = CliRunner()
    with runner.isolation(env={"COLUMNS": "200", **(PIPE if env is None else env)}) as streams:
        try:
            main(args)
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        sys.stdout.flush()
        sys.stderr.flush()
        out, err = streams[0].getvalue().decode(), streams[1].getvalue().decode()
    return Result(code, out, err)


@pytest.fixture
def cli(live_backend: Any) -> Callable[[List[str]], Result]:
    """The CLI, on a machine where the live backend works (CI requires it)."""
    return invoke


@pytest.fixture
def cli_no_live() -> Callable[[List[str]], Result]:
    """The CLI for commands that fail before any experiment runs."""
    return invoke
