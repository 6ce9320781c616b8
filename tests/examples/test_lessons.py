"""The bundled lessons: every one meets its `expect` lines on every kernel model, and live here."""

from __future__ import annotations

from typing import Any

import pytest

from mremapctl.backends.select import open_sim
from mremapctl.examples import bundled, load_bundled
from mremapctl.kernel import models
from mremapctl.scenario.load import Scenario
from mremapctl.scenario.steps import Mmap

LESSONS = [name for name, _ in bundled()]
KERNELS = [model.name for model in models()]


def _unmet(run: Any) -> str:
    """The steps that missed their expect, one per line, for the assertion message."""
    lines = [
        f"step {s.index} {s.call}: got {s.pages[0] if s.op == 'read' and s.pages else s.outcome}, expected {s.expect}"
        for s in run.steps
        if s.expect_met is False
    ]
    return "\n".join(lines + ([f"run failed: {run.failure}"] if run.failure else []))


def _uses_hugetlb(scenario: Scenario) -> bool:
    return any(isinstance(s, Mmap) and (s.kind == "hugetlb" or s.hugetlb) for s in scenario.steps)


def test_at_least_a_dozen_lessons_each_with_a_one_line_description() -> None:
    lessons = bundled()
    assert len(lessons) >= 12, [name for name, _ in lessons]
    for name, description in lessons:
        assert description.strip(), f"{name}: no description"
        assert "\n" not in description, f"{name}: the description must be one line"


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("name", LESSONS)
def test_lesson_passes_its_checks_on_every_model(name: str, kernel: str) -> None:
    run = open_sim(kernel).run(load_bundled(name))
    assert run.expectations_met, f"{name} on the {kernel} model:\n{_unmet(run)}"


@pytest.mark.live
@pytest.mark.parametrize("name", LESSONS)
def test_lesson_passes_its_checks_live(live_backend: Any, request: pytest.FixtureRequest, name: str) -> None:
    scenario = load_bundled(name)
    if _uses_hugetlb(scenario):
        request.getfixturevalue("huge_pages")  # reserve a few for the test, give them back afterwards
    run = live_backend.run(scenario)
    assert run.expectations_met, f"{name} live on {live_backend.kernel}:\n{_unmet(run)}"
