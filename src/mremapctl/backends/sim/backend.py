"""The simulation backend: the engine, in-process, against a model of a chosen kernel."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Callable, List, Optional, Sequence

from mremapctl.backends.sim.facts import Facts, facts_for, host_facts
from mremapctl.backends.sim.machine import SimMachine
from mremapctl.engine import Engine
from mremapctl.errors import BadInput, Unavailable
from mremapctl.kernel import Kernel, model_info
from mremapctl.lab import Lab
from mremapctl.platforms import Platform, host_platform
from mremapctl.primitives import RunOptions
from mremapctl.results import Run
from mremapctl.scenario.load import Scenario


class SimBackend:
    name = "sim"

    def __init__(self, kernel: Kernel, lab: Optional[Lab] = None, shape: Optional[Platform] = None) -> None:
        """``shape``: the architecture and page size to simulate (None: this machine's)."""
        self.answers_as = kernel  # the version the rules hold for, its model, the notes for the user
        self.kernel = kernel.label
        self.lab = lab or Lab()
        self.notes = list(kernel.notes)
        here = sys.platform.startswith("linux")
        if shape is None or (here and shape == host_platform()):
            self.facts = host_facts() if here else Facts()
        else:
            self.facts = facts_for(shape)
        self.page_size = self.facts.page
        self.arch = self.facts.arch
        shape = Platform(self.arch, self.page_size)
        on = "" if shape == Platform("amd64", 4096) else f" on {shape.label}"
        self.header = f"simulated with the model of Linux {kernel.model.span}{on}"
        self.model_info = model_info(kernel)

    def run_batch(
        self,
        scenarios: Sequence[Scenario],
        options: Optional[RunOptions] = None,
        *,
        parallel: Optional[int] = None,
        on_result: Optional[Callable[[int, Run], None]] = None,
    ) -> List[Run]:
        """Each scenario in turn; one the model cannot carry out (a kind this kernel lacks) is a
        run that says so. ``parallel`` means nothing here."""
        runs = []
        for index, scenario in enumerate(scenarios):
            try:
                run = self.run(scenario, options)
            except (Unavailable, BadInput) as err:
                run = Run("sim", self.kernel, self.page_size, self.lab.start, self.lab.end, arch=self.arch)
                run.failure = f"unavailable: {err}"
            runs.append(run)
            if on_result:
                on_result(index, run)
        return runs

    def run(self, scenario: Scenario, options: Optional[RunOptions] = None) -> Run:
        options = options or RunOptions()
        machine = SimMachine(self.answers_as.version, self.facts.copy())
        engine = Engine(machine, scenario, self.lab, options)
        run = Run("sim", self.kernel, self.page_size, self.lab.start, self.lab.end, arch=self.arch)
        run.notes.append(self.header)
        run.model = self.model_info
        run.notes.extend(self.notes)
        try:
            with time_limit(options.timeout):
                for step in engine.run():
                    run.steps.append(step)
                run.maps_before, run.maps_after = engine.final_maps()
        except OutOfTime:
            run.failure = (
                f"timed out after {options.timeout:g} s during step {len(run.steps) + 1} of the simulation; "
                "give it longer with --timeout SECONDS"
            )
        return run


class OutOfTime(Exception):
    """The simulation ran past its time limit."""


class time_limit:
    """``with time_limit(seconds):`` interrupts the block with OutOfTime once ``seconds`` pass (in the
    main thread only: signals are delivered there).

    A matrix runs thousands of short simulations, so this costs little: the SIGALRM handler is
    installed once and stays, ignoring an alarm no block owns, and the block is a plain class (a
    generator-based context manager cost 3% of a single-mremap simulation).
    """

    armed = False  # whether the pending alarm belongs to a block
    installed = False

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.active = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()

    def __enter__(self) -> None:
        if not self.active:
            return
        if not time_limit.installed:
            signal.signal(signal.SIGALRM, _expired)
            time_limit.installed = True
        time_limit.armed = True
        signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc: object) -> None:
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            time_limit.armed = False


def _expired(signum: int, frame: object) -> None:
    if time_limit.armed:
        raise OutOfTime
