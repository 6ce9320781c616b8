"""Boot Debian's arm64 kernels under qemu-system-aarch64 and run the tool inside, from its zipapp.

CI boots 7.2 with 16K pages once, for a batch of two: `try --memfd --dontunmap` and the
gc-heap-flip lesson (a cold fetch is ~15 s and 108 MB, the userland 8 MB, building and
compiling the zipapp ~20 s, the boot ~5 s). `pytest -m vm_all` boots every arm64 series in
both page sizes. Skips with the reason where qemu-system-aarch64 or the mirrors are missing,
but never in CI (CI=true).
"""

from __future__ import annotations

import os
from typing import List, Optional, Tuple

import pytest
from tests.vm.grid import SERIES

from mremapctl.backends import vm
from mremapctl.backends.vm import arch
from mremapctl.backends.vm.backend import VmBackend
from mremapctl.backends.vm.prereq import check_arch
from mremapctl.examples import load_bundled
from mremapctl.experiment import TryOptions, build
from mremapctl.results import Run


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def arm64_ready() -> None:
    try:
        check_arch("arm64")
        vm.available(arch="arm64")
    except (vm.PrerequisiteError, vm.MirrorUnavailable) as exc:
        if in_ci():
            raise
        pytest.skip(str(exc))


# `try --memfd --dontunmap`, step by step (status, errno, pages read): from 5.13 it moves and both
# ranges still read the data; 5.10 refuses DONTUNMAP on shared memory.
MEMFD_DONTUNMAP = [("ok", None, []), ("ok", None, []), ("ok", None, ["data:A"] * 4), ("ok", None, ["data:A"] * 4)]
MEMFD_DONTUNMAP_5_10 = [("ok", None, []), ("failed", "EINVAL", []), ("ok", None, ["data:A"] * 4), ("skipped", None, [])]


def outcomes(run: Run) -> List[Tuple[str, Optional[str], List[str]]]:
    return [(s.status, s.errno, s.pages or []) for s in run.steps]


@pytest.mark.vm
def test_arm64_16k_runs_try_and_the_gc_flip(arm64_ready: None) -> None:
    backend = VmBackend("7.2", arch="arm64", page_size="16K")
    assert backend.page_size == 16384 and backend.booted.release.endswith("-arm64-16k")
    scenario, _ = build(TryOptions(kind="memfd", dontunmap=True), backend.page_size)
    runs = backend.run_batch([scenario, load_bundled("gc-heap-flip")])
    for run in runs:
        assert (run.backend, run.page_size, run.kernel) == ("vm", 16384, backend.booted.release), run.failure
        note = run.notes[0]
        assert "linux-binary-7.2" in note and "(Linux 7.2." in note and "arm64, 16K pages" in note, note
        assert "qemu-system-aarch64 with python3.13" in note, note
    tried, flip = runs
    assert outcomes(tried) == MEMFD_DONTUNMAP, outcomes(tried)
    moved = tried.steps[1]
    assert moved.address is not None and moved.address != tried.steps[0].address
    assert all(entry.size == 65536 for entry in tried.maps_after if entry.label in ("old", "new"))
    judged = [s for s in flip.steps if s.expect_met is not None]
    assert len(judged) >= 6 and flip.expectations_met, [(s.call, s.expect, s.status) for s in flip.steps]


def _every_arm64_kernel() -> List[object]:
    """Each series in each page size Debian has (16K from 6.12), newest kernel."""
    return [
        pytest.param(series, page, id=f"{series}-{arch.format_page(page)}")
        for series in SERIES
        for page in (4096, 16384)
        if page == 4096 or tuple(map(int, series.split("."))) >= (6, 12)
    ]


@pytest.mark.vm
@pytest.mark.vm_all
@pytest.mark.parametrize(("series", "page_size"), _every_arm64_kernel())
def test_every_arm64_kernel_runs_the_try(arm64_ready: None, series: str, page_size: int) -> None:
    backend = VmBackend(series, arch="arm64", page_size=arch.format_page(page_size))
    (run,) = backend.run_batch([build(TryOptions(kind="memfd", dontunmap=True), page_size)[0]])
    assert run.page_size == page_size and run.kernel.startswith(series + "."), run.kernel
    assert outcomes(run) == (MEMFD_DONTUNMAP_5_10 if series == "5.10" else MEMFD_DONTUNMAP), outcomes(run)
