"""A survey tells kernels apart by their grid cells and their lessons, point releases included."""

from __future__ import annotations

import pytest

from mremapctl.backends.select import open_sim
from mremapctl.survey.survey import run_survey


@pytest.mark.parametrize(
    ("kernel", "behaves_like"),
    [("6.12.118", "6.12.114"), ("6.17.13", "6.17.8"), ("7.1.13", "7.1")],
)
def test_a_kernel_is_told_apart_from_its_neighbours(kernel: str, behaves_like: str) -> None:
    """Simulated kernels stand in for real ones: the grid alone cannot tell 6.12 from 7.1; the
    lessons' VmFlags and VMA counts can, down to the stable backport."""
    found = run_survey(open_sim(kernel))
    assert (found.behaves_like, found.exact) == (behaves_like, True)
    neighbours = {"6.12.118": "6.12", "6.17.13": "6.17", "7.1.13": "7.0"}
    assert found.per_model[neighbours[kernel]] > 0, "the series model before the backport answers otherwise"
    assert found.per_model["7.3"] > 0 and found.per_model["6.1"] > 0


def test_a_lesson_that_cannot_run_here_is_not_a_deviation_but_one_the_model_refuses_is() -> None:
    from mremapctl.survey.lessons import step_deviations

    live = {"dontunmap-hugetlb": None, "dontunmap-memfd": ["ok", "ok", "ok"]}
    model = {"dontunmap-hugetlb": ["ok", "ok"], "dontunmap-memfd": None}
    found = step_deviations(live, model)
    assert [(d.lesson, d.step, d.live, d.model) for d in found] == [("dontunmap-memfd", 0, "runs", "cannot run")]


def test_the_closest_verdict_counts_lesson_steps_too() -> None:
    from mremapctl.render.survey import verdict
    from mremapctl.survey.lessons import StepDeviation
    from mremapctl.survey.survey import Survey

    s = Survey("9.9", "7.0", False, [], {"6.18": 3, "7.0": 1}, {})
    s.step_deviations = [StepDeviation("secretmem-locked", 2, "vmas", "1", "2")]
    assert verdict(s) == ("closest to Linux 7.0, with 1 deviation(s); no model matches every cell and lesson step")
