"""Run ``try`` experiments through the library and pick out what tests assert on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional

from mremapctl.experiment import TryOptions, build
from mremapctl.primitives import RunOptions
from mremapctl.results import MapEntry, Run, StepResult


@dataclass
class Outcome:
    run: Run
    mremap: StepResult
    old: List[str]  # what a read of the old range returns now ([] when skipped)
    new: List[str]

    @property
    def result(self) -> str:
        """ "ok" or the errno name."""
        return self.mremap.outcome

    @property
    def moved(self) -> bool:
        return self.mremap.ok and self.mremap.address != self.run.steps[0].address

    def entry(self, which: str) -> Optional[MapEntry]:
        """The VMA now at the start of the "old" or the "new" range."""
        step = self.run.steps[0] if which == "old" else self.mremap
        if step.address is None:
            return None
        found = [e for e in self.run.maps_after if e.start <= step.address < e.end]
        return found[0] if found else None


def try_live(backend: Any, **opts: Any) -> Outcome:
    scenario, _ = build(TryOptions(**opts), backend.page_size)
    run = backend.run(scenario, RunOptions())
    assert run.failure is None, run.failure
    assert run.steps[0].ok, f"setup failed: {run.steps[0].errno} {run.steps[0].note}"
    mremap = next(s for s in run.steps if s.op == "mremap")
    reads = [s for s in run.steps if s.op == "read"]
    return Outcome(run, mremap, reads[0].pages or [], reads[1].pages or [])
