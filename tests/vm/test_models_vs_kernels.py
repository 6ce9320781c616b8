"""Real Debian kernels against the models of their versions: every kind × flag set × size.

Each kernel boots once and runs the whole grid live (the vm backend's batching); each run is
compared with the model of that version (the newest model for kernels past it), as the
differential tests do for this machine's kernel, point release included (Debian's 6.1.0-57 is
6.1.192, with its stable backports). Any disagreement fails, listed per scenario.
"""

from __future__ import annotations

import os
from typing import Any, Dict

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
    model = open_sim(runs[0].kernel_version or backend.kernel)  # the point release: Debian's 6.1.0-57 is 6.1.192
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
    print(f"{kernel}: {len(scenarios(parse_version(kernel)))} scenarios, {len(found)} disagreements")
    assert not found, f"{len(found)} disagreements on {kernel}:\n" + "\n".join(f"{n}: {t}" for n, t in found.items())


def test_grid_covers_every_kind_and_call() -> None:
    grid: Dict[str, Any] = scenarios((6, 12, 0))
    kinds = {name.split("/")[0] for name in grid}
    assert {"anon", "memfd", "perf", "vdso", "aio", "secretmem"} <= kinds and len(grid) == 15 * 11
