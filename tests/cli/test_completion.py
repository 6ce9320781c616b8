"""Shell completion: of commands and options, and of their values (kinds, bundled scenarios and
files, explain topics, kernel versions), through click's completion protocol and in a real bash."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from tests.cli.conftest import invoke


def offered(line: str) -> List[str]:
    """What `mremapctl` answers when bash asks for the words that may end ``line``."""
    words = line.split(" ")
    result = invoke(
        [],
        {"_MREMAPCTL_COMPLETE": "bash_complete", "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)},
    )
    assert result.exit_code == 0, result.stderr
    return [
        value for kind, _, value in (entry.partition(",") for entry in result.stdout.splitlines()) if kind == "plain"
    ]


@pytest.mark.parametrize(
    ("line", "wanted"),
    [
        ("mremapctl tr", ["try"]),
        ("mremapctl try --kind m", ["memfd"]),
        ("mremapctl run dontunmap-s", ["dontunmap-shmem"]),
        ("mremapctl explain EP", ["EPERM"]),
        ("mremapctl explain DONT", ["DONTUNMAP"]),
        ("mremapctl explain fixed-needs-m", ["fixed-needs-maymove"]),
        ("mremapctl try --kernel 5.1", ["5.11", "5.12", "5.13", "5.14", "5.15", "5.16", "5.17", "5.18"]),
        ("mremapctl matrix --kinds anon,sh", ["anon,shmem"]),
        ("mremapctl matrix --kernel 6.1", ["6.1"]),
        ("mremapctl survey --kernel 6.1", ["6.1"]),
        ("mremapctl completion z", ["zsh"]),
        ("mremapctl try --uffd m", ["missing", "minor"]),
    ],
)
def test_values_complete(line: str, wanted: List[str]) -> None:
    got = offered(line)
    assert all(w in got for w in wanted), got
    assert all(g.startswith(line.rsplit(" ", 1)[-1]) for g in got)


def test_run_offers_files_too() -> None:
    result = invoke([], {"_MREMAPCTL_COMPLETE": "bash_complete", "COMP_WORDS": "mremapctl run ", "COMP_CWORD": "2"})
    assert result.stdout.splitlines()[0] == "file,"  # the shell completes paths when no name matches
    assert "plain,gc-heap-flip" in result.stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_script(shell: str) -> None:
    result = invoke(["completion", shell])
    assert result.exit_code == 0 and "_MREMAPCTL_COMPLETE" in result.stdout and "mremapctl" in result.stdout


def test_the_bash_script_completes_in_bash(tmp_path: Path) -> None:
    bash = shutil.which("bash")
    entry = Path(sys.executable).with_name("mremapctl")
    if bash is None or not entry.exists():
        if os.environ.get("CI"):
            pytest.fail("CI needs bash and the installed mremapctl entry point to test completion")
        pytest.skip("no bash, or mremapctl is not installed next to this Python")
    script = (
        'eval "$(mremapctl completion bash)"\n'
        "COMP_WORDS=(mremapctl try --kind se); COMP_CWORD=3; _mremapctl_completion mremapctl\n"
        'echo "${COMPREPLY[*]}"\n'
    )
    env = {**os.environ, "PATH": f"{entry.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([bash, "--norc", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.stdout.split() == ["secretmem"], done.stderr
