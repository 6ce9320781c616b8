"""Real Debian kernels against the models of their versions: every kind × flag set × size.

Each kernel boots once and runs the whole grid live (the vm backend's batching); each run is
compared with the model of that exact version, as the differential tests do for this
machine's kernel. Disagreements are listed per kernel; the test fails on any.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List

import pytest
from tests.differential import differences
from tests.vm.grid import scenarios

from mremapctl.backends import vm
from mremapctl.backends.select import open_sim
from mremapctl.backends.sim.versions import parse_version
from mremapctl.errors import Unavailable

KERNELS = ["5.10", "6.1", "6.12"]


@pytest.fixture(scope="module")
def vm_ready() -> None:
    try:
        vm.check_prerequisites()
    except vm.PrerequisiteError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))


def disagreements(kernel: str) -> List[str]:
    from mremapctl.backends.vm.backend import VmBackend

    backend = VmBackend(kernel)
    grid = scenarios(parse_version(kernel))
    runs = backend.run_batch(list(grid.values()))
    model = open_sim(backend.kernel)
    found = []
    for (name, scenario), live in zip(grid.items(), runs):
        model.facts.soft_dirty = any("sd" in (e.vm_flags or ()) for e in live.maps_after)
        try:
            simulated = model.run(scenario)
        except Unavailable as err:  # a kind this kernel lacks must be missing on both sides
            if not (live.failure or "").startswith("unavailable:"):
                found.append(f"{name}: the model says unavailable ({err}), live: {live.failure or 'it ran'}")
            continue
        diff = differences(live, simulated)
        if diff:
            found.append(f"{name}: " + "; ".join(diff))
    return found


@pytest.mark.vm
@pytest.mark.parametrize("kernel", KERNELS)
def test_model_matches_real_kernel(vm_ready: Any, kernel: str) -> None:
    found = disagreements(kernel)
    print(f"{kernel}: {len(scenarios(parse_version(kernel)))} scenarios, {len(found)} disagreements")
    assert not found, f"{len(found)} disagreements on {kernel}:\n" + "\n".join(found)


def test_grid_covers_every_kind_and_call() -> None:
    grid: Dict[str, Any] = scenarios((6, 12))
    kinds = {name.split("/")[0] for name in grid}
    assert {"anon", "memfd", "perf", "vdso", "aio", "secretmem"} <= kinds and len(grid) == 15 * 11
