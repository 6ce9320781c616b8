"""userfaultfd for a user without privilege: the scenario says which call was refused and how to
allow it, and where the kernel allows it (vm.unprivileged_userfaultfd = 0, 5.11+) uses
UFFD_USER_MODE_ONLY, so the GC flip runs all the same."""

from __future__ import annotations

import errno
import importlib
import json
import os
import pkgutil
from pathlib import Path
from typing import Any, Dict

import pytest

import mremapctl
from mremapctl.backends.live import machine
from mremapctl.backends.live.userfaultfd import Opened
from tests.cli.conftest import invoke

FLIP = Path(mremapctl.__file__).parent / "examples" / "gc-heap-flip.toml"
NOBODY = 65534


def test_a_refused_userfaultfd_is_named_not_the_register(live_backend: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    refusal = "userfaultfd not permitted: userfaultfd(2) gave EPERM …; uffd_register needs one of: run as root"
    monkeypatch.setattr(machine, "open_userfaultfd", lambda *args, **kwargs: Opened(errno=errno.EPERM, refusal=refusal))
    result = invoke(["run", str(FLIP), "--check", "--no-picture", "--no-tables"])
    assert result.exit_code == 1  # its expectation (ok) is not met
    lines = result.stdout.splitlines()
    step = next(i for i, line in enumerate(lines) if line.startswith(" 2 "))
    assert lines[step] == " 2 userfaultfd(O_CLOEXEC|O_NONBLOCK) = -1 EPERM (Operation not permitted)  ✗ expected ok"
    assert "UFFDIO_REGISTER" not in lines[step] and lines[step + 1].strip().startswith("userfaultfd not permitted")


def as_nobody(args: list) -> Dict[str, Any]:
    """Run the CLI in a forked child that has dropped root for nobody. Every module is imported first:
    the child may not be able to read the interpreter's own files (a Python under /root)."""
    for found in pkgutil.walk_packages(mremapctl.__path__, "mremapctl."):
        if not found.name.endswith("__main__") and ".vm" not in found.name and "ffi_build" not in found.name:
            importlib.import_module(found.name)
    for name in ("grp", "pwd", "stat", "threading", "tomllib", "json"):
        importlib.import_module(name)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            result = invoke(args)
            os.write(write, json.dumps(result.__dict__).encode())
        finally:
            os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 1 << 16):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    assert chunks, "the unprivileged child reported nothing"
    data: Dict[str, Any] = json.loads(b"".join(chunks))
    return data


def test_the_gc_flip_as_an_unprivileged_user(live_backend: Any) -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root, so this test can drop to an unprivileged user")
        pytest.skip("dropping to an unprivileged user needs root")
    result = as_nobody(["run", str(FLIP), "--check", "--json"])
    assert result["exit_code"] == 0, result["stderr"]
    steps = json.loads(result["stdout"])["steps"]
    assert steps[1]["op"] == "uffd_register" and steps[1]["ok"]
    assert steps[4]["pages"] == ["uffd"] * 4  # the old heap faults to the collector
    with open("/proc/sys/vm/unprivileged_userfaultfd") as f:
        if f.read().strip() == "0":
            assert "UFFD_USER_MODE_ONLY" in steps[1]["note"]
