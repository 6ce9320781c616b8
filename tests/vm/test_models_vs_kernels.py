"""Real Debian kernels against the models of their versions: every kind × flag set × size.

Each kernel boots once and runs the whole grid live (the vm backend's batching); each run is
compared with the model of that version (the newest model for kernels past it), as the
differential tests do for this machine's kernel. Disagreements are listed per kernel; the
test fails on any but the known gaps below, and on a known gap that is gone. arm64 kernels
(4K and 16K pages) run the same grid behind -m vm_all; the models have 4K pages, so a 16K
kernel is compared call by call (each step's outcome), not by addresses and sizes.
"""

from __future__ import annotations

import os
import re
from typing import Any, Dict, Iterable, List, Tuple

import pytest
from tests.differential import differences
from tests.vm.grid import SERIES, scenarios

from mremapctl.backends import vm
from mremapctl.backends.select import open_sim
from mremapctl.errors import Unavailable
from mremapctl.kernel import parse_version
from mremapctl.results import Run

# CI boots the oldest and the newest series (~1 min from an empty cache); the rest by hand with -m vm_all
CI_KERNELS = ["5.10", "7.3"]
KERNELS = [k if k in CI_KERNELS else pytest.param(k, marks=pytest.mark.vm_all) for k in SERIES]
# Where real Debian kernels and the models part, measured with this grid and written up for the
# modellers (December 2026): (first series, last series, scenarios, what the kernel does).
PRIVATE_DONTUNMAP = r"(anon|anon-locked|memfd-private|file-private|devzero)/(dontunmap|fixed-dontunmap|dontunmap-hint)"
KNOWN_GAPS: List[Tuple[Tuple[int, int], Tuple[int, int], str, str]] = [
    ((6, 17), (6, 17), PRIVATE_DONTUNMAP, "Debian's 6.17.13 keeps ac on a DONTUNMAP source; the 6.17 model drops it"),
    ((7, 1), (99, 0), r"aio/.*", "the aio ring's VmFlags gain dc from 7.1 (the newest model, 6.18, has none)"),
    ((7, 2), (99, 0), r"secretmem/.*", "secretmem's VmFlags lose lo from 7.2"),
]


# arm64, measured the same way (December 2026). With 4K pages, 6.12 to 7.3 agree with the models
# but for KNOWN_GAPS; older kernels have a one-page vDSO, and 5.10 lets a perf ring buffer shrink.
ARM64_4K_GAPS: List[Tuple[Tuple[int, int], Tuple[int, int], str, str]] = [
    ((5, 10), (6, 1), r"vdso/(?!shrink$).*", "arm64's vDSO is one 4K page up to 6.1; the models' has two"),
    ((6, 1), (6, 1), r"vdso/shrink", "6.1 shrinks the 2-page range of its one-page vDSO in place: nothing to split"),
    ((5, 10), (5, 10), r"perf/shrink", "arm64 5.10 shrinks a perf ring buffer in place; the models refuse the split"),
]
# With 16K pages, compared call by call (KNOWN_GAPS are VmFlags, which that does not compare),
# they part in one cell: the vDSO is 8 KiB, one 16K page, so the grid moves all of it; the
# models' page is 4K, so the same "1p" is half of it, a split they refuse.
ARM64_16K_GAPS: List[Tuple[Tuple[int, int], Tuple[int, int], str, str]] = [
    ((6, 12), (99, 0), r"vdso/fixed", "a one-page vDSO moves whole with FIXED; the 4K models refuse half of theirs"),
]
ARM64_KERNELS = [
    pytest.param(series, page, marks=pytest.mark.vm_all, id=f"arm64-{series}-{page // 1024}K")
    for series in SERIES
    for page in (4096, 16384)
    if page == 4096 or parse_version(series) >= (6, 12)  # Debian's arm64-16k flavour starts with 6.12
]


def known_gaps(
    version: Tuple[int, int], names: Iterable[str], arch: str = "amd64", page_size: int = 4096
) -> Dict[str, str]:
    """{scenario: why} for the grid scenarios a kernel of `version`, `arch` and `page_size` is known to disagree in."""
    if page_size != 4096:
        gaps = ARM64_16K_GAPS
    else:
        gaps = KNOWN_GAPS + (ARM64_4K_GAPS if arch == "arm64" else [])
    return {
        name: why
        for first, last, pattern, why in gaps
        if first <= version <= last
        for name in names
        if re.fullmatch(pattern, name)
    }


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


@pytest.fixture(scope="module")
def vm_ready() -> None:
    try:
        vm.check_prerequisites()
    except vm.PrerequisiteError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))


def disagreements(kernel: str, arch: str = "amd64", page_size: int = 4096) -> Dict[str, str]:
    from mremapctl.backends.vm.backend import VmBackend

    backend = VmBackend(kernel, arch=arch, page_size=f"{page_size // 1024}K")
    grid = scenarios(parse_version(kernel), backend.page_size)
    runs = backend.run_batch(list(grid.values()))
    model = open_sim(backend.kernel)
    compare = differences if model.page_size == backend.page_size else outcome_differences
    found: Dict[str, str] = {}
    for (name, scenario), live in zip(grid.items(), runs):
        model.facts.soft_dirty = any("sd" in (e.vm_flags or ()) for e in live.maps_after)
        try:
            simulated = model.run(scenario)
        except Unavailable as err:  # a kind this kernel lacks must be missing on both sides
            if not (live.failure or "").startswith("unavailable:"):
                found[name] = f"the model says unavailable ({err}), live: {live.failure or 'it ran'}"
            continue
        diff = compare(live, simulated)
        if diff:
            found[name] = "; ".join(diff)
    return found


@pytest.mark.vm
@pytest.mark.parametrize("kernel", KERNELS)
def test_model_matches_real_kernel(vm_ready: Any, kernel: str) -> None:
    check_against_models(kernel)


@pytest.mark.vm
@pytest.mark.parametrize(("kernel", "page_size"), ARM64_KERNELS)
def test_model_matches_real_arm64_kernel(kernel: str, page_size: int) -> None:
    try:
        vm.check_arch("arm64")
    except vm.PrerequisiteError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    check_against_models(kernel, "arm64", page_size)


def check_against_models(kernel: str, arch: str = "amd64", page_size: int = 4096) -> None:
    found = disagreements(kernel, arch, page_size)
    grid = scenarios(parse_version(kernel), page_size)
    gaps = known_gaps(parse_version(kernel), grid, arch, page_size)
    print(f"{arch} {kernel} {page_size}: {len(grid)} scenarios, {len(found)} disagreements ({len(gaps)} known)")
    unexpected = [f"{name}: {text}" for name, text in found.items() if name not in gaps]
    gone = [f"{name}: {gaps[name]}" for name in gaps if name not in found]
    assert not unexpected, f"{len(unexpected)} disagreements on {kernel}:\n" + "\n".join(unexpected)
    assert not gone, f"known gaps no longer seen on {kernel} (update KNOWN_GAPS):\n" + "\n".join(gone)


def test_known_gaps_select_their_scenarios_only() -> None:
    names = scenarios((7, 3))
    assert len(known_gaps((7, 3), names)) == 22 and len(known_gaps((7, 1), names)) == 11
    assert len(known_gaps((6, 17), names)) == 15 and not known_gaps((6, 18), names)
    assert not known_gaps((5, 10), scenarios((5, 10)))
    assert list(known_gaps((7, 2), scenarios((7, 2), 16384), "arm64", 16384)) == ["vdso/fixed"]
    assert len(known_gaps((6, 1), scenarios((6, 1)), "arm64")) == 11 and not known_gaps((6, 1), scenarios((6, 1)))
    assert len(known_gaps((5, 10), scenarios((5, 10)), "arm64")) == 11
    assert len(known_gaps((7, 2), scenarios((7, 2)), "arm64")) == 22


def test_grid_covers_every_kind_and_call() -> None:
    grid: Dict[str, Any] = scenarios((6, 12))
    kinds = {name.split("/")[0] for name in grid}
    assert {"anon", "memfd", "perf", "vdso", "aio", "secretmem"} <= kinds and len(grid) == 15 * 11
