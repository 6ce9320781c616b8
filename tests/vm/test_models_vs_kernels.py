"""Real Debian kernels against the models of their versions: every kind × flag set × size, and
every lesson.

Each kernel boots once and runs the grid and the bundled lessons live (the vm backend's
batching); each run is compared with the model of that exact version, point release included
(Debian's 6.1.0-57 is 6.1.192, with its stable backports), as the differential tests do for this
machine's kernel, and each lesson must meet its `expect` lines there (`run NAME --check`). Any
disagreement fails, listed per scenario. arm64 kernels run the grid in both page sizes behind
-m vm_all: a 16K kernel is compared call by call (each step's outcome) while the models have 4K
pages, and the few cells where arm64 parts from the models are listed below; such a gap that is
gone fails too.
"""

from __future__ import annotations

import os
import re
from typing import Any, Dict, Iterable, List, Tuple

import pytest
from tests.differential import differences
from tests.vm.grid import SERIES, hugetlb_unaligned, scenarios

from mremapctl.backends import vm
from mremapctl.backends.select import open_sim
from mremapctl.errors import Unavailable
from mremapctl.examples import bundled, load_bundled
from mremapctl.kernel import parse_version
from mremapctl.results import Run
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
# Where Debian's arm64 kernels part from the models, measured with this grid (December 2026):
# (first, last version, page size, scenarios, what the kernel does). Up to 6.1 the arm64 vDSO is
# one 4K page; with 16K pages it is one page too, so the grid's "1p" moves all of it, where in
# the models' 4K pages it is half of theirs.
ARM64_GAPS: List[Tuple[Tuple[int, int, int], Tuple[int, int, int], int, str, str]] = [
    ((5, 10, 0), (6, 1, 999), 4096, r"vdso/(?!shrink$).*", "a one-page vDSO; the models' has two pages"),
    ((6, 1, 0), (6, 1, 999), 4096, r"vdso/shrink", "shrinking past the one-page vDSO unmaps nothing: in place"),
    ((5, 10, 0), (5, 10, 999), 4096, r"perf/shrink", "5.10 shrinks a perf ring buffer in place; the models refuse"),
    ((6, 12, 0), (99, 0, 0), 16384, r"vdso/fixed", "the whole one-page vDSO moves; the models refuse half of theirs"),
]


def arm64_gaps(version: Tuple[int, int, int], page_size: int, names: Iterable[str]) -> Dict[str, str]:
    """{scenario: why} for the grid scenarios an arm64 kernel is known to disagree in."""
    return {
        name: why
        for first, last, page, pattern, why in ARM64_GAPS
        if first <= version <= last and page == page_size
        for name in names
        if re.fullmatch(pattern, name)
    }


@pytest.fixture(scope="module")
def vm_ready() -> None:
    try:
        vm.check_prerequisites()
    except vm.PrerequisiteError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))


def cases(version: Tuple[int, int, int], page_size: int = 4096) -> Dict[str, Scenario]:
    """The grid for a kernel of ``version``, the unaligned hugetlb calls, and every lesson (4K pages:
    the lessons and the hugetlb calls are written in them)."""
    if page_size != 4096:
        return scenarios(version, page_size)
    lessons = {f"lesson/{name}": load_bundled(name) for name, _ in bundled()}
    return {**scenarios(version), **hugetlb_unaligned(), **lessons}


def outcome_differences(live: Run, sim: Run) -> List[str]:
    """Step by step, what each call did (ok, which errno, what a read met), not where or how much:
    for a kernel whose page size the model does not have."""
    if live.failure:
        return [f"live run failed: {live.failure}"]

    def calls(run: Run) -> List[Tuple[str, str, Tuple[str, ...]]]:
        return [(s.op, s.outcome, tuple(dict.fromkeys(value for value, _ in s.runs or ()))) for s in run.steps]

    a, b = calls(live), calls(sim)
    return [f"step {i + 1}: live {x[1:]} sim {y[1:]}" for i, (x, y) in enumerate(zip(a, b)) if x != y] + (
        ["a different number of steps"] if len(a) != len(b) else []
    )


def disagreements(kernel: str, arch: str = "amd64", page_size: int = 4096) -> Tuple[int, Dict[str, str]]:
    """(scenarios run, {scenario: how the real kernel and its model part, or the expect it missed})."""
    from mremapctl.backends.vm.backend import VmBackend

    backend = VmBackend(kernel, arch=arch, page_size=f"{page_size // 1024}K")
    todo = cases(parse_version(backend.booted.upstream), backend.page_size)
    runs = backend.run_batch(list(todo.values()))
    model = open_sim(runs[0].kernel_version or backend.kernel)  # the point release: Debian's 6.1.0-57 is 6.1.192
    compare = differences if model.page_size == backend.page_size else outcome_differences
    found: Dict[str, str] = {}
    for (name, scenario), live in zip(todo.items(), runs):
        model.facts.soft_dirty = any("sd" in (e.vm_flags or ()) for e in live.maps_after)
        try:
            simulated = model.run(scenario)
        except Unavailable as err:  # a kind this kernel lacks must be missing on both sides
            if not (live.failure or "").startswith("unavailable:"):
                found[name] = f"the model says unavailable ({err}), live: {live.failure or 'it ran'}"
            continue
        problems = compare(live, simulated)
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
    _, found = disagreements(kernel, "arm64", page_size)
    gaps = arm64_gaps(parse_version(kernel), page_size, scenarios(parse_version(kernel), page_size))
    print(f"arm64 {kernel} {page_size}: {len(found)} disagreements ({len(gaps)} known)")
    unexpected = [f"{name}: {text}" for name, text in found.items() if name not in gaps]
    gone = [f"{name}: {gaps[name]}" for name in gaps if name not in found]
    assert not unexpected, f"{len(unexpected)} disagreements on arm64 {kernel}:\n" + "\n".join(unexpected)
    assert not gone, f"known arm64 gaps no longer seen on {kernel} (update ARM64_GAPS):\n" + "\n".join(gone)


def test_arm64_gaps_select_their_scenarios_only() -> None:
    assert len(arm64_gaps((5, 10, 262), 4096, scenarios((5, 10, 262)))) == 11
    assert len(arm64_gaps((6, 1, 192), 4096, scenarios((6, 1, 192)))) == 11
    assert not arm64_gaps((6, 12, 118), 4096, scenarios((6, 12, 118)))
    assert list(arm64_gaps((7, 2, 13), 16384, scenarios((7, 2, 13), 16384))) == ["vdso/fixed"]


def test_grid_covers_every_kind_and_call() -> None:
    grid: Dict[str, Any] = scenarios((6, 12, 0))
    kinds = {name.split("/")[0] for name in grid}
    assert {"anon", "memfd", "perf", "vdso", "aio", "secretmem"} <= kinds and len(grid) == 15 * 11
    vdso = {page: scenarios((6, 12, 0), page)["vdso/same"].steps[1] for page in (4096, 16384)}
    assert [step.old_size.text for step in vdso.values()] == ["2p", "1p"]  # the vDSO is 8 KiB
