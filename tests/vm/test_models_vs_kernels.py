"""Real Debian kernels against the models of their versions: every kind × flag set × size.

Each kernel boots once and runs the whole grid live (the vm backend's batching); each run is
compared with the model of that version (the newest model for kernels past it), as the
differential tests do for this machine's kernel. Disagreements are listed per kernel; the
test fails on any but the known gaps below, and on a known gap that is gone.
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


def known_gaps(version: Tuple[int, int], names: Iterable[str]) -> Dict[str, str]:
    """{scenario: why} for the grid scenarios a kernel of `version` is known to disagree in."""
    return {
        name: why
        for first, last, pattern, why in KNOWN_GAPS
        if first <= version <= last
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


def disagreements(kernel: str) -> Dict[str, str]:
    from mremapctl.backends.vm.backend import VmBackend

    backend = VmBackend(kernel)
    grid = scenarios(parse_version(kernel))
    runs = backend.run_batch(list(grid.values()))
    model = open_sim(backend.kernel)
    found: Dict[str, str] = {}
    for (name, scenario), live in zip(grid.items(), runs):
        model.facts.soft_dirty = any("sd" in (e.vm_flags or ()) for e in live.maps_after)
        try:
            simulated = model.run(scenario)
        except Unavailable as err:  # a kind this kernel lacks must be missing on both sides
            if not (live.failure or "").startswith("unavailable:"):
                found[name] = f"the model says unavailable ({err}), live: {live.failure or 'it ran'}"
            continue
        diff = differences(live, simulated)
        if diff:
            found[name] = "; ".join(diff)
    return found


@pytest.mark.vm
@pytest.mark.parametrize("kernel", KERNELS)
def test_model_matches_real_kernel(vm_ready: Any, kernel: str) -> None:
    found = disagreements(kernel)
    grid = scenarios(parse_version(kernel))
    gaps = known_gaps(parse_version(kernel), grid)
    print(f"{kernel}: {len(grid)} scenarios, {len(found)} disagreements ({len(gaps)} known)")
    unexpected = [f"{name}: {text}" for name, text in found.items() if name not in gaps]
    gone = [f"{name}: {gaps[name]}" for name in gaps if name not in found]
    assert not unexpected, f"{len(unexpected)} disagreements on {kernel}:\n" + "\n".join(unexpected)
    assert not gone, f"known gaps no longer seen on {kernel} (update KNOWN_GAPS):\n" + "\n".join(gone)


def test_known_gaps_select_their_scenarios_only() -> None:
    names = scenarios((7, 3))
    assert len(known_gaps((7, 3), names)) == 22 and len(known_gaps((7, 1), names)) == 11
    assert len(known_gaps((6, 17), names)) == 15 and not known_gaps((6, 18), names)
    assert not known_gaps((5, 10), scenarios((5, 10)))


def test_grid_covers_every_kind_and_call() -> None:
    grid: Dict[str, Any] = scenarios((6, 12))
    kinds = {name.split("/")[0] for name in grid}
    assert {"anon", "memfd", "perf", "vdso", "aio", "secretmem"} <= kinds and len(grid) == 15 * 11
