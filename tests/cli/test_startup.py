"""Start-up stays cheap: a command imports what it uses (benchmarks/startup.py measures the times)."""

from __future__ import annotations

import subprocess
import sys
from typing import List

import pytest

PROBE = """
import io, sys, contextlib
sys.argv = ["mremapctl", *{args!r}]
from mremapctl.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit:
        pass
print(" ".join(sorted(name for name in sys.modules if name.split(".")[0] in {watch!r})))
"""


def imported(args: List[str], watch: List[str]) -> List[str]:
    code = PROBE.format(args=args, watch=set(watch))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return out.split()


@pytest.mark.parametrize(
    ("args", "unwanted"),
    [
        (["try", "--anon", "--json", "--backend", "sim"], ["rich", "tomllib", "tempfile", "traceback"]),
        (["--help"], ["rich", "mremapctl.scenario", "mremapctl.backends"]),
    ],
)
def test_a_command_does_not_import_what_it_does_not_use(args: List[str], unwanted: List[str]) -> None:
    tops = {name.split(".")[0] for name in unwanted}
    loaded = imported(args, sorted(tops))
    assert [name for name in loaded if any(name == u or name.startswith(u + ".") for u in unwanted)] == []
