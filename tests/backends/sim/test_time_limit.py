"""The simulation's time-out: a run past it ends with a failure that says how to raise it."""

from __future__ import annotations

import signal
import time

import pytest

from mremapctl.backends.select import open_sim
from mremapctl.backends.sim.backend import OutOfTime, time_limit
from mremapctl.experiment import TryOptions, build
from mremapctl.primitives import RunOptions


def test_a_block_past_its_limit_is_interrupted_and_the_alarm_is_disarmed_after() -> None:
    with pytest.raises(OutOfTime), time_limit(0.05):
        time.sleep(2)
    with time_limit(5):
        pass
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    time.sleep(0.1)  # an alarm left behind would raise here


def test_a_simulation_past_its_time_out_says_so_and_how_to_give_it_longer() -> None:
    backend = open_sim("6.18")
    scenario, _ = build(TryOptions(kind="memfd", dontunmap=True), backend.page_size)
    run = backend.run(scenario, RunOptions(timeout=1e-6))
    assert run.failure is not None
    assert run.failure.startswith("timed out after 1e-06 s during step ")
    assert "--timeout SECONDS" in run.failure
    assert not run.maps_after  # nothing partial is shown as the lab's maps
    assert backend.run(scenario, RunOptions()).failure is None  # the next run has its own limit
