"""The simulation backend: the engine, in-process, against a model of a chosen kernel."""

from __future__ import annotations

import sys
from typing import List, Optional

from mremapctl.backends.base import RunOptions
from mremapctl.backends.sim.facts import Facts, host_facts
from mremapctl.backends.sim.machine import SimMachine
from mremapctl.backends.sim.versions import Model
from mremapctl.engine import Engine
from mremapctl.lab import Lab
from mremapctl.results import Run
from mremapctl.scenario.load import Scenario


class SimBackend:
    name = "sim"
    page_size = 4096

    def __init__(self, model: Model, requested: Optional[str] = None, notes: Optional[List[str]] = None) -> None:
        self.model = model
        self.kernel = requested or model.name
        self.lab = Lab()
        self.notes = list(notes or [])
        self.facts = host_facts() if sys.platform.startswith("linux") else Facts()

    def run(self, scenario: Scenario, options: Optional[RunOptions] = None) -> Run:
        options = options or RunOptions()
        facts = Facts(**{**self.facts.__dict__, "limits": dict(self.facts.limits), "caps": set(self.facts.caps)})
        machine = SimMachine(self.model.version, facts)
        engine = Engine(machine, scenario, self.lab, options)
        run = Run("sim", self.kernel, self.page_size, self.lab.start, self.lab.end)
        run.notes.append(f"simulated with the model of Linux {self.model.span}")
        run.notes.extend(self.notes)
        run.steps = list(engine.run())
        run.maps_before, run.maps_after = engine.final_maps()
        return run
