"""Annotate a live run with what the model of the running kernel predicts, step by step.

A live step gets the rule the model says decides it; where live and model disagree the step
and the run carry a visible warning (a bug in the model, or a kernel that is not mainline).
"""

from __future__ import annotations

from mremapctl.pages import summarise_runs
from mremapctl.results import NOT_MODELLED, SKIPPED, PageRuns, Run, add_run


def comparable_runs(run: Run, index: int) -> PageRuns:
    """A read's runs, with the vDSO's code pages as the model gives them (not modelled): their bytes
    are build-specific (its first page, the ELF header, the model does know)."""
    step = run.steps[index]
    runs = list(step.runs or ())
    if step.at is None:
        return runs
    earlier = [s for s in run.steps[:index] if s.maps_after is not None]
    vdso = [e for e in (earlier[-1].maps_after or [] if earlier else run.maps_after) if e.path == "[vdso]"]
    if not vdso or not any(e.start < step.at + step.page_count * run.page_size and step.at < e.end for e in vdso):
        return runs
    page = run.page_size
    code = [((e.start + page) // page, e.end // page) for e in vdso]  # all but the first page
    out: PageRuns = []
    at = step.at // page
    for value, count in runs:
        for lo in range(at, at + count):  # page by page only here, where the vDSO sits: 2 pages
            add_run(out, NOT_MODELLED if any(a <= lo < b for a, b in code) else value, 1)
        at += count
    return out


def annotate(live: Run, model: Run) -> int:
    """Copy rules onto the live steps; return how many steps disagree."""
    disagreements = 0
    for step, predicted in zip(live.steps, model.steps):
        if step.op != predicted.op:
            break
        if step.status != SKIPPED:  # a call that never ran has no rule
            step.rule, step.explain = predicted.rule, predicted.explain
        if step.op == "read":
            differs = comparable_runs(live, step.index - 1) != comparable_runs(model, predicted.index - 1)
            said = summarise_runs(predicted.runs or [])
        else:
            differs = step.outcome != predicted.outcome
            said = predicted.outcome
        if differs and step.status != "crashed":
            disagreements += 1
            step.note = ((step.note + "\n   ") if step.note else "") + f"⚠ the model predicted {said}"
    if disagreements:
        live.notes.append(f"⚠ {disagreements} step(s) differ from the model's prediction (see ⚠ below)")
    return disagreements
