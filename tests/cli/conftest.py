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


NOBODY = 65534


def as_nobody(args: List[str]) -> Result:
    """The CLI run in a forked child that dropped root for nobody (no capabilities left).

    In-process rather than exec'ing Python: the interpreter may live where nobody cannot read
    (under /root), so every module a command may import is imported before the fork.
    """
    import importlib
    import json
    import os
    import pkgutil

    import mremapctl

    for found in pkgutil.walk_packages(mremapctl.__path__, "mremapctl."):
        if not found.name.endswith("__main__") and ".vm" not in found.name and "ffi_build" not in found.name:
            importlib.import_module(found.name)
    lazily_imported = ("tomllib", "pathlib", "tempfile", "traceback", "gzip")  # by the package, when needed
    for name in (
        "grp",
        "pwd",
        "stat",
        "threading",
        "json",
        "rich.console",
        "rich.table",
        "rich.progress",
        *lazily_imported,
    ):
        importlib.import_module(name)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            os.write(write, json.dumps(invoke(args).__dict__).encode())
        except BaseException as err:  # said to the parent: the child has no other way out
            os.write(write, json.dumps({"exit_code": 70, "stdout": "", "stderr": repr(err)}).encode())
        finally:
            os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 1 << 16):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    return Result(**json.loads(b"".join(chunks)))
