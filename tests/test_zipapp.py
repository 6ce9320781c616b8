"""The single-file zipapp for target machines: Python >= 3.9, cffi when there, ctypes when not."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, List

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def pyz(tmp_path_factory: Any, live_backend: Any) -> Path:
    """Built once with the documented command (needs PyPI for the bundled dependencies)."""
    out = tmp_path_factory.mktemp("pyz") / "mremapctl.pyz"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_pyz.py"), "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"building the zipapp failed: {result.stderr[-500:]}")
        pytest.skip(f"cannot build the zipapp here (PyPI unreachable?): {result.stderr[-200:]}")
    return out


def oldest_python() -> List[str]:
    """Python 3.9 when this machine has it (the oldest the zipapp promises), else this one."""
    pyenv = sorted(Path(os.path.expanduser("~/.pyenv/versions")).glob("3.9.*/bin/python3.9"))
    for candidate in [*map(str, pyenv), "/usr/bin/python3.9"]:
        if shutil.which(candidate):
            return [candidate]  # a real interpreter, not pyenv's shim
    return [sys.executable]


def test_runs_on_the_oldest_python_without_cffi(pyz: Path) -> None:
    # -S: no site-packages, so no cffi: the ctypes path must carry the experiment
    out = subprocess.run(
        [*oldest_python(), "-S", str(pyz), "try", "--memfd", "--dontunmap", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    run = json.loads(out.stdout)
    assert "syscalls through ctypes" in run["notes"]
    assert next(s for s in run["steps"] if s["op"] == "mremap")["ok"]


def test_uses_cffi_where_installed(pyz: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(pyz), "try", "--anon", "--dontunmap", "--json"], capture_output=True, text=True, timeout=60
    )
    assert "syscalls through cffi" in json.loads(out.stdout)["notes"]


def test_python_dash_m_works() -> None:
    out = subprocess.run([sys.executable, "-m", "mremapctl", "kernels", "--json"], capture_output=True, text=True)
    assert out.returncode == 0 and json.loads(out.stdout)["items"][0]["model"] == "5.4"


ALONE = [  # every command, as a target machine without an install runs them
    ["try", "--memfd", "--dontunmap", "--json"],
    ["run", "gc-heap-flip", "--check", "--json"],
    ["matrix", "--kinds", "anon,memfd", "--json"],
    ["survey", "--json"],
    ["kinds", "--json"],
    ["explain", "DONTUNMAP", "--json"],
    ["kernels", "--json"],
    ["bench", "--quick", "--sizes", "4K", "--ops", "move", "--samples", "2", "--json"],
    ["demo", "gc", "--backend", "sim", "--json"],
]


@pytest.mark.parametrize("args", ALONE, ids=lambda a: a[0])
def test_every_command_runs_from_the_zipapp_alone(pyz: Path, tmp_path: Path, args: List[str]) -> None:
    # -I -S: isolated, no site-packages, started away from the source tree: only the .pyz holds mremapctl
    out = subprocess.run(
        [*oldest_python(), "-I", "-S", str(pyz), *args], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr[-2000:]
    document = json.loads(out.stdout)
    assert document["tool"] == "mremapctl"
    if args[0] in ("matrix", "survey"):  # the zygote found the package inside the .pyz
        assert len(document.get("cells", [])) > 100, out.stdout[:500]
