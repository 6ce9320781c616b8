"""userfaultfd for a user without privilege: the scenario says which call was refused and how to
allow it, and where the kernel allows it (vm.unprivileged_userfaultfd = 0, 5.11+) uses
UFFD_USER_MODE_ONLY, so the GC flip runs all the same."""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

import mremapctl
from mremapctl.backends.live import machine
from mremapctl.backends.live.userfaultfd import Opened
from tests.cli.conftest import as_nobody, invoke

FLIP = Path(mremapctl.__file__).parent / "examples" / "gc-heap-flip.toml"


def test_a_refused_userfaultfd_is_named_not_the_register(live_backend: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    refusal = "userfaultfd not permitted: userfaultfd(2) gave EPERM …; uffd_register needs one of: run as root"
    monkeypatch.setattr(machine, "open_userfaultfd", lambda *args, **kwargs: Opened(errno=errno.EPERM, refusal=refusal))
    result = invoke(["run", str(FLIP), "--check", "--no-picture", "--no-tables"])
    assert result.exit_code == 1  # its expectation (ok) is not met
    lines = result.stdout.splitlines()
    step = next(i for i, line in enumerate(lines) if line.startswith(" 2 "))
    assert lines[step] == " 2 userfaultfd(O_CLOEXEC|O_NONBLOCK) = -1 EPERM (Operation not permitted)  ✗ expected ok"
    assert "UFFDIO_REGISTER" not in lines[step] and lines[step + 1].strip().startswith("userfaultfd not permitted")


def test_the_gc_flip_as_an_unprivileged_user(live_backend: Any) -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root, so this test can drop to an unprivileged user")
        pytest.skip("dropping to an unprivileged user needs root")
    # a copy nobody can read: the checkout may sit where only root may enter (a `mktemp -d` clone)
    folder = Path(tempfile.mkdtemp(prefix="mremapctl-nobody-"))
    try:
        folder.chmod(0o755)
        flip = folder / FLIP.name
        flip.write_bytes(FLIP.read_bytes())
        flip.chmod(0o644)
        result = as_nobody(["run", str(flip), "--check", "--json"])
    finally:
        shutil.rmtree(folder)
    assert result.exit_code == 0, result.stderr
    steps = json.loads(result.stdout)["steps"]
    assert steps[1]["op"] == "uffd_register" and steps[1]["ok"]
    assert steps[4]["pages"] == ["uffd"] * 4  # the old heap faults to the collector
    with open("/proc/sys/vm/unprivileged_userfaultfd") as f:
        if f.read().strip() == "0":
            assert "UFFD_USER_MODE_ONLY" in steps[1]["note"]
