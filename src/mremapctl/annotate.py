"""Annotate a live run with what the model of the running kernel predicts, step by step.

A live step gets the rule the model says decides it; where live and model disagree the step
and the run carry a visible warning (a bug in the model, or a kernel that is not mainline).
"""

from __future__ import annotations

from typing import List

from mremapctl.pages import page_starts, summarise_pages
from mremapctl.results import SKIPPED, Run

VDSO_CODE = "vdso code"


def comparable_pages(run: Run, index: int) -> List[str]:
    """A read's pages, with the vDSO's code pages blanked: their bytes are build-specific, so
    the model does not know them (its first page, the ELF header, it does)."""
    step = run.steps[index]
    pages = list(step.pages or ())
    if step.at is None:
        return pages
    earlier = [s.maps_after for s in run.steps[:index] if s.maps_after is not None]
    vdso = [e for e in (earlier[-1] if earlier else run.maps_after) if e.path == "[vdso]"]
    for i, addr in enumerate(page_starts(step.at, len(pages) * run.page_size, run.page_size)):
        if any(e.start + run.page_size <= addr < e.end for e in vdso):
            pages[i] = VDSO_CODE
    return pages


def annotate(live: Run, model: Run) -> int:
    """Copy rules onto the live steps; return how many steps disagree."""
    disagreements = 0
    for step, predicted in zip(live.steps, model.steps):
        if step.op != predicted.op:
            break
        if step.status != SKIPPED:  # a call that never ran has no rule
            step.rule, step.explain = predicted.rule, predicted.explain
        if step.op == "read":
            differs = comparable_pages(live, step.index - 1) != comparable_pages(model, predicted.index - 1)
            said = summarise_pages(predicted.pages or [])
        else:
            differs = step.outcome != predicted.outcome
            said = predicted.outcome
        if differs and step.status != "crashed":
            disagreements += 1
            step.note = ((step.note + "\n   ") if step.note else "") + f"⚠ the model predicted {said}"
    if disagreements:
        live.notes.append(f"⚠ {disagreements} step(s) differ from the model's prediction (see ⚠ below)")
    return disagreements
