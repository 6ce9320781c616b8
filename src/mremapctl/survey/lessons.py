"""The lessons as the second half of a survey: each step's answer here against each model's.

The grid asks every kind every flag set; what changed after 6.12 mostly shows in the maps
instead (a VmFlag, one VMA more or less), which the lessons ask about with their `vmas` steps.
So a survey runs them too, and a model must answer them alike to match this kernel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional

from mremapctl.annotate import comparable_runs
from mremapctl.examples import bundled, load_bundled
from mremapctl.frozen import frozen
from mremapctl.pages import summarise_runs
from mremapctl.primitives import RunOptions
from mremapctl.results import Run

if TYPE_CHECKING:
    from mremapctl.backends.base import Backend

Answers = Optional[List[str]]  # one per step; None: the lesson cannot run on that kernel
QUICK = RunOptions(per_step_maps=False, vm_flags=False)  # the vmas steps read VmFlags themselves


@frozen
class StepDeviation:
    lesson: str
    step: int  # 0: the lesson as a whole (it ran on one side only)
    call: str
    live: str
    model: str


def answers(run: Run) -> Answers:
    """What each step answered, as `expect` sees it (a read: its pages, the vDSO's code blanked)."""
    if run.failure:
        return None
    return [
        summarise_runs(comparable_runs(run, i)) if step.op == "read" else step.outcome
        for i, step in enumerate(run.steps)
    ]


def run_lessons(backend: Backend) -> Dict[str, Answers]:
    """Every bundled lesson on ``backend`` (live and vm in one batch), lesson -> answers."""
    names = [name for name, _ in bundled()]
    scenarios = [load_bundled(name) for name in names]
    runs = backend.run_batch(scenarios, QUICK)
    return {name: answers(run) for name, run in zip(names, runs)}


def step_deviations(live: Dict[str, Answers], model: Dict[str, Answers]) -> List[StepDeviation]:
    """Each step whose answer differs; a lesson the model cannot run counts once. One that could
    not run here (no huge pages reserved, a kind this machine lacks) is not compared, as the
    grid's unavailable cells are not: it tells nothing about the kernel's rules."""
    out = []
    for lesson, here in live.items():
        there = model.get(lesson)
        if here is None:
            continue
        if there is None:
            out.append(StepDeviation(lesson, 0, "the lesson", "runs", "cannot run"))
            continue
        calls = load_bundled(lesson).steps
        for index, (a, b) in enumerate(zip(here, there), 1):
            if a != b:
                out.append(StepDeviation(lesson, index, calls[index - 1].op, a, b))
    return out
