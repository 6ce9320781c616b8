"""Shared fixtures. Live tests need Linux and a free lab; in CI they must run, never skip."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Iterator, List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, settings

# "ci": bounded and repeatable; "long": by hand, `pytest --hypothesis-profile=long`.
_QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
settings.register_profile("ci", max_examples=300, deadline=None, derandomize=True, suppress_health_check=_QUIET)
settings.register_profile("long", max_examples=5000, deadline=None, suppress_health_check=_QUIET)
settings.load_profile("ci")


def _open_live() -> Tuple[Optional[object], Optional[str]]:
    if not sys.platform.startswith("linux"):
        return None, f"live backend needs Linux (this is {sys.platform})"
    try:
        from mremapctl.backends.live.runner import LiveBackend

        return LiveBackend(), None
    except Exception as err:  # the reason is the point: report it
        return None, f"live backend unavailable: {err}"


@pytest.fixture(scope="session")
def live_backend() -> Iterator[object]:
    """The live backend; skips with the reason off Linux, fails in CI (where live is required)."""
    backend, reason = _open_live()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI requires live tests, but: {reason}")
        pytest.skip(reason)
    yield backend


@pytest.fixture(scope="session")
def cc() -> str:
    """The system C compiler; skipped (with the reason) where there is none, but never in CI."""
    found = shutil.which("cc")
    if found is None:
        reason = "no C compiler: `cc` is not on PATH (install gcc to check --show-c programs)"
        if os.environ.get("CI"):
            pytest.fail(f"CI requires the C program tests, but: {reason}")
        pytest.skip(reason)
    return found


@pytest.fixture
def huge_pages() -> Iterator[int]:
    """Reserve a few 2 MiB huge pages for the test (root), and give them back afterwards."""
    path = "/proc/sys/vm/nr_hugepages"
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root so hugetlb tests can reserve pages; this run is not root")
        pytest.skip("reserving huge pages needs root")
    with open(path) as f:
        before = int(f.read())
    with open(path, "w") as f:
        f.write(str(before + 8))
    try:
        yield 8
    finally:
        with open(path, "w") as f:
            f.write(str(before))


VM_ALL_ENV = "MREMAPCTL_VM_ALL"


def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    """vm_all tests (every Debian kernel series, ~3 min cold) run only when asked:
    `pytest -m vm_all` or MREMAPCTL_VM_ALL=1; CI boots the oldest and newest series only."""
    if "vm_all" in (config.getoption("markexpr") or "") or os.environ.get(VM_ALL_ENV) == "1":
        return
    kept = [item for item in items if item.get_closest_marker("vm_all") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept
