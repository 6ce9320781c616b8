"""What every backend offers the commands: run a scenario, or a batch of them, and get Runs."""

from __future__ import annotations

from typing import Callable, List, Optional, Protocol, Sequence

from mremapctl.lab import Lab
from mremapctl.primitives import RunOptions
from mremapctl.results import Run
from mremapctl.scenario.load import Scenario


class Backend(Protocol):
    name: str
    kernel: str
    page_size: int
    lab: Lab

    def run(self, scenario: Scenario, options: Optional[RunOptions] = None) -> Run: ...

    def run_batch(
        self,
        scenarios: Sequence[Scenario],
        options: Optional[RunOptions] = None,
        *,
        parallel: Optional[int] = None,
        on_result: Optional[Callable[[int, Run], None]] = None,
    ) -> List[Run]:
        """The one way a batch runs: every scenario, in order; one that cannot be carried out is a
        run whose ``failure`` says so; Ctrl-C raises ``errors.BatchInterrupted`` with the runs so
        far. ``parallel`` is a hint a backend may ignore; ``on_result(index, run)`` hears of each."""
        ...
