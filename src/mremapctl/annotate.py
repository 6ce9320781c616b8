"""Annotate a live run with what the model of the running kernel predicts, step by step.

A live step gets the rule the model says decides it; where live and model disagree the step
and the run carry a visible warning (a bug in the model, or a kernel that is not mainline).
"""

from __future__ import annotations

from mremapctl.results import Run


def annotate(live: Run, model: Run) -> int:
    """Copy rules onto the live steps; return how many steps disagree."""
    disagreements = 0
    for step, predicted in zip(live.steps, model.steps):
        if step.op != predicted.op:
            break
        step.rule, step.explain = predicted.rule, predicted.explain
        if step.op == "read":
            differs = step.pages != predicted.pages
            said = ", ".join(predicted.pages or [])
        else:
            differs = step.outcome != predicted.outcome
            said = predicted.outcome
        if differs and step.status != "crashed":
            disagreements += 1
            step.note = ((step.note + "\n   ") if step.note else "") + f"⚠ the model predicted {said}"
    if disagreements:
        live.notes.append(f"⚠ {disagreements} step(s) differ from the model's prediction (see ⚠ below)")
    return disagreements
