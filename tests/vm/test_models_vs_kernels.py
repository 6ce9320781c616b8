"""Real Debian kernels against the models of their versions: every kind × flag set × size, and
every lesson.

Each kernel boots once and runs the grid and the bundled lessons live (the vm backend's
batching); each run is compared with the model of that exact version, point release included
(Debian's 6.1.0-57 is 6.1.192, with its stable backports), as the differential tests do for this
machine's kernel, and each lesson must meet its `expect` lines there (`run NAME --check`). Any
disagreement fails, listed per scenario. arm64 kernels run the grid in both page sizes behind
-m vm_all, each against the model of its version on arm64 with its page size.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Tuple

import pytest
from tests.differential import differences
from tests.vm.grid import SERIES, hugetlb_unaligned, scenarios

from mremapctl.backends import vm
from mremapctl.backends.select import open_sim
from mremapctl.errors import Unavailable
from mremapctl.examples import bundled, load_bundled
from mremapctl.kernel import parse_version
from mremapctl.platforms import Platform
from mremapctl.scenario.load import Scenario

# CI boots the oldest and the newest series (~1 min from an empty cache); the rest by hand with -m vm_all,
# with the point releases on either side of a stable backport that Debian ships
CI_KERNELS = ["5.10", "7.3"]
POINT_RELEASES = ["6.18.5", "6.19.10"]
KERNELS = [k if k in CI_KERNELS else pytest.param(k, marks=pytest.mark.vm_all) for k in SERIES + POINT_RELEASES]
ARM64_KERNELS = [
    pytest.param(series, page, marks=pytest.mark.vm_all, id=f"arm64-{series}-{page // 1024}K")
    for series in SERIES
    for page in (4096, 16384)
    if page == 4096 or parse_version(series) >= (6, 12, 0)  # Debian's arm64-16k flavour starts with 6.12
]


@pytest.fixture(scope="module")
def vm_ready() -> None:
    try:
        vm.check_prerequisites()
    except vm.PrerequisiteError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))


def cases(version: Tuple[int, int, int], page_size: int = 4096) -> Dict[str, Scenario]:
    """The grid for a kernel of ``version``, every lesson, and (4K pages: they are written in 2M huge
    pages) the unaligned hugetlb calls."""
    lessons = {f"lesson/{name}": load_bundled(name) for name, _ in bundled()}
    extra = hugetlb_unaligned() if page_size == 4096 else {}
    return {**scenarios(version, page_size), **extra, **lessons}


def disagreements(kernel: str, arch: str = "amd64", page_size: int = 4096) -> Tuple[int, Dict[str, str]]:
    """(scenarios run, {scenario: how the real kernel and its model part, or the expect it missed})."""
    from mremapctl.backends.vm.backend import VmBackend

    backend = VmBackend(kernel, arch=arch, page_size=f"{page_size // 1024}K")
    todo = cases(parse_version(backend.booted.upstream), backend.page_size)
    runs = backend.run_batch(list(todo.values()))
    # the point release (Debian's 6.1.0-57 is 6.1.192) on the guest's architecture and page size
    model = open_sim(runs[0].kernel_version or backend.kernel, shape=Platform(arch, backend.page_size))
    found: Dict[str, str] = {}
    for (name, scenario), live in zip(todo.items(), runs):
        model.facts.soft_dirty = any("sd" in (e.vm_flags or ()) for e in live.maps_after)
        try:
            simulated = model.run(scenario)
        except Unavailable as err:  # a kind this kernel lacks must be missing on both sides
            if not (live.failure or "").startswith("unavailable:"):
                found[name] = f"the model says unavailable ({err}), live: {live.failure or 'it ran'}"
            continue
        problems = differences(live, simulated)
        problems += [
            f"step {s.index} {s.call}: {s.outcome}, expected {s.expect}" for s in live.steps if s.expect_met is False
        ]
        if problems:
            found[name] = "; ".join(problems)
    return len(todo), found


@pytest.mark.vm
@pytest.mark.parametrize("kernel", KERNELS)
def test_model_matches_real_kernel(vm_ready: Any, kernel: str) -> None:
    count, found = disagreements(kernel)
    print(f"{kernel}: {count} scenarios, {len(found)} disagreements")
    assert not found, f"{len(found)} disagreements on {kernel}:\n" + "\n".join(f"{n}: {t}" for n, t in found.items())


@pytest.mark.vm
@pytest.mark.parametrize(("kernel", "page_size"), ARM64_KERNELS)
def test_model_matches_real_arm64_kernel(kernel: str, page_size: int) -> None:
    try:
        vm.check_arch("arm64")
    except vm.PrerequisiteError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    count, found = disagreements(kernel, "arm64", page_size)
    print(f"arm64 {kernel} {page_size}: {count} scenarios, {len(found)} disagreements")
    assert not found, f"{len(found)} disagreements on arm64 {kernel}:\n" + "\n".join(
        f"{n}: {t}" for n, t in found.items()
    )


def test_grid_covers_every_kind_and_call() -> None:
    grid: Dict[str, Any] = scenarios((6, 12, 0))
    kinds = {name.split("/")[0] for name in grid}
    assert {"anon", "memfd", "perf", "vdso", "aio", "secretmem"} <= kinds and len(grid) == 15 * 11
    vdso = {page: scenarios((6, 12, 0), page)["vdso/same"].steps[1] for page in (4096, 16384)}
    assert [step.old_size.text for step in vdso.values()] == ["2p", "1p"]  # the vDSO is 8 KiB
