"""The model of the running kernel must answer exactly as the running kernel does.

Hypothesis generates scenarios (kinds, sizes incl. unaligned and huge, offsets, every flag
subset incl. undefined bits, FIXED targets free/overlapping/occupied, neighbours, mlock,
mseal, uffd, two mremaps in a row); each runs live in the lab and on the model, and the
results, maps (lab-relative) and contents must be equal. `--hypothesis-profile=long` runs
thousands of examples by hand.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from mremapctl.backends.select import open_sim
from mremapctl.errors import BadInput, Unavailable
from mremapctl.examples import bundled, load_bundled
from mremapctl.primitives import RunOptions
from mremapctl.scenario import parse_scenario
from tests.differential import differences, scenarios


def compare(live_backend: Any, text: str) -> list:
    scenario = parse_scenario(text)
    try:
        live = live_backend.run(scenario, RunOptions(timeout=20))
    except (BadInput, Unavailable):
        with pytest.raises((BadInput, Unavailable)):
            open_sim(None).run(scenario)
        return []
    sim = open_sim(None).run(scenario)
    return differences(live, sim)


@given(scenarios())
def test_model_agrees_with_live(live_backend: Any, text: str) -> None:
    diff = compare(live_backend, text)
    assert not diff, "\n".join(diff) + "\n\nscenario:\n" + text


@pytest.mark.parametrize("name", [n for n, _ in bundled()])
def test_bundled_scenarios_agree(live_backend: Any, huge_pages: int, name: str) -> None:
    from mremapctl.scenario import dump_scenario

    diff = compare(live_backend, dump_scenario(load_bundled(name)))
    assert not diff, "\n".join(diff)
