"""What every backend offers the commands: run a scenario, get a Run."""

from __future__ import annotations

from typing import Optional, Protocol

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
