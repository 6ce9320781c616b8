"""What every backend offers the commands: run a scenario, get a Run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Protocol

from mremapctl.lab import Lab
from mremapctl.results import Run
from mremapctl.scenario.load import Scenario


@dataclass
class RunOptions:
    timeout: float = 10.0  # live: kill a child that runs longer
    vm_flags: bool = True  # read smaps VmFlags (costs a smaps read per snapshot)
    force: bool = False  # populate beyond the safe share of MemAvailable
    per_step_maps: bool = True  # a maps snapshot after every step that can change them
    full_maps: bool = False  # the whole process, not only the lab and the experiment's ranges
    snapshots: bool = True  # False: no maps at all (a matrix needs only each call's result)


class Backend(Protocol):
    name: str
    kernel: str
    page_size: int
    lab: Lab

    def run(self, scenario: Scenario, options: Optional[RunOptions] = None) -> Run: ...
