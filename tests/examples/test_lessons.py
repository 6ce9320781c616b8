"""The bundled lessons: every one meets its `expect` lines on every kernel model, and live here."""

from __future__ import annotations

from typing import Any, List

import pytest

from mremapctl.backends.select import open_sim
from mremapctl.errors import Unavailable
from mremapctl.examples import bundled, load_bundled
from mremapctl.kernel import models, parse_version
from mremapctl.kinds import KINDS
from mremapctl.rules import get
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
    scenario = load_bundled(name)
    missing = [
        k
        for k in _kinds(scenario)
        if KINDS[k].needs_rule and not get(KINDS[k].needs_rule).applies(parse_version(kernel))
    ]
    if missing:  # the model says such a kernel has no such memory: the lesson cannot run there
        with pytest.raises(Unavailable, match=missing[0]):
            open_sim(kernel).run(scenario)
        return
    run = open_sim(kernel).run(scenario)
    assert run.expectations_met, f"{name} on the {kernel} model:\n{_unmet(run)}"


def _kinds(scenario: Scenario) -> List[str]:
    return [s.kind for s in scenario.steps if isinstance(s, Mmap) and s.kind]


@pytest.mark.live
@pytest.mark.parametrize("name", LESSONS)
def test_lesson_passes_its_checks_live(live_backend: Any, request: pytest.FixtureRequest, name: str) -> None:
    scenario = load_bundled(name)
    if _uses_hugetlb(scenario):
        request.getfixturevalue("huge_pages")  # reserve a few for the test, give them back afterwards
    run = live_backend.run(scenario)
    assert run.expectations_met, f"{name} live on {live_backend.kernel}:\n{_unmet(run)}"


@pytest.mark.parametrize("page", ["16K", "64K"])
@pytest.mark.parametrize("name", LESSONS)
def test_lesson_passes_its_checks_with_bigger_pages(name: str, page: str) -> None:
    """Expectations hold on arm64 kernels with 16K and 64K pages too (keyed by page size where they differ)."""
    from mremapctl.platforms import platform

    for kernel in ("6.12.118", "7.3"):
        run = open_sim(kernel, shape=platform("arm64", page)).run(load_bundled(name))
        assert run.expectations_met, f"{name} on the {kernel} model with {page} pages:\n{_unmet(run)}"
