"""Run scenarios live, each in a forked child (child.py), and bring their results back as data.

The child runs the engine against real syscalls and streams each step's result up its pipe.
A SIGSEGV, a moved vDSO or a bad MREMAP_FIXED can only ever hurt the child: the parent
reports what happened (the signal, or a time-out) as the run's failure.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from mremapctl.backends.live.child import (
    BatchInterrupted,
    Child,
    Send,
    error_from,
    raise_failure,
    reap_released,
    reserve_lab,
    spawn,
    wait_for,
)
from mremapctl.backends.live.libc import Syscalls
from mremapctl.backends.live.machine import LiveMachine  # imported here, not in every child
from mremapctl.engine import Engine, crashed_step
from mremapctl.errors import Unavailable
from mremapctl.kernel import running_release
from mremapctl.lab import LAB_SIZE
from mremapctl.platforms import host_arch
from mremapctl.primitives import RunOptions
from mremapctl.results import Run
from mremapctl.scenario.load import Scenario


class LiveBackend:
    """Owns the lab reservation in this (parent) process; runs scenarios in children."""

    name = "live"

    def __init__(self, sys: Optional[Syscalls] = None, lab_size: int = LAB_SIZE) -> None:
        self.sys = sys or Syscalls()
        self.lab = reserve_lab(self.sys, lab_size)
        self.kernel = os.uname().release
        self.kernel_version = running_release(self.kernel, os.uname().version)
        self.page_size = os.sysconf("SC_PAGE_SIZE")

    def run(
        self, scenario: Scenario, options: Optional[RunOptions] = None, meanwhile: Optional[Callable[[], None]] = None
    ) -> Run:
        """One scenario in a child; ``meanwhile`` runs here while the child experiments."""
        return self.run_many([scenario], options, meanwhile=meanwhile)[0]

    def run_many(
        self,
        scenarios: Sequence[Scenario],
        options: Optional[RunOptions] = None,
        parallel: int = 1,
        on_result: Optional[Callable[[int, Run], None]] = None,
        errors: str = "raise",
        via_zygote: bool = False,
        meanwhile: Optional[Callable[[], None]] = None,
    ) -> List[Run]:
        """Each scenario in its own child, up to ``parallel`` at a time; results in scenario order.

        ``errors="record"``: a scenario that cannot be carried out (an unavailable kind) becomes
        a run whose failure says so, instead of stopping the batch. Ctrl-C kills the children
        and raises BatchInterrupted with the runs finished so far. ``via_zygote``: fork them from a
        small helper process instead of this one.
        """
        options = options or RunOptions()
        if via_zygote:  # forks from a small process are much cheaper (see zygote.py)
            from mremapctl.backends.live import zygote

            return zygote.run_batch(scenarios, options, parallel, errors, on_result)
        runs: List[Optional[Run]] = [None] * len(scenarios)
        waiting = list(enumerate(scenarios))
        active: Dict[Child, _Experiment] = {}
        try:
            while waiting or active:
                while waiting and len(active) < max(1, parallel):
                    index, scenario = waiting.pop(0)
                    experiment = self._start(index, scenario, options, errors == "record")
                    active[experiment.child] = experiment
                if meanwhile:
                    meanwhile()
                    meanwhile = None
                for experiment in _feed_or_time_out(active):
                    del active[experiment.child]
                    runs[experiment.index] = experiment.run
                    if on_result:
                        on_result(experiment.index, experiment.run)
                reap_released(block=False)
        except KeyboardInterrupt:
            for experiment in active.values():
                experiment.child.kill()
            raise BatchInterrupted(runs) from None
        finally:
            reap_released(block=True)
        return [r for r in runs if r is not None]

    def _start(self, index: int, scenario: Scenario, options: RunOptions, record_errors: bool) -> _Experiment:
        run = Run("live", self.kernel, self.page_size, self.lab.start, self.lab.end)
        run.kernel_version = self.kernel_version
        run.arch = host_arch()
        run.notes.append(f"syscalls through {self.sys.flavour}")

        def body(send: Send) -> None:  # pragma: no cover - runs in the child
            engine = Engine(LiveMachine(self.sys, force=options.force), scenario, self.lab, options)
            for result in engine.run():
                send(("step", result))
            before, after = engine.final_maps()
            send(("end", before, after, engine.other_mappings))

        child = spawn(body, self.lab, self.sys, options.timeout)
        return _Experiment(index, child, run, scenario, record_errors)


class _Experiment:
    """One scenario's child, seen from the parent: its Run so far."""

    def __init__(self, index: int, child: Child, run: Run, scenario: Scenario, record_errors: bool) -> None:
        self.index, self.child, self.run, self.scenario = index, child, run, scenario
        self.record_errors = record_errors
        self.ended = False  # the child has reported the whole run (or an error that ends it)
        self.done = False  # its slot is free

    def feed(self) -> None:
        frames = self.child.frames()
        if frames is None:
            self.finish()
            return
        for frame in frames:
            self.apply(frame)
        if self.ended and not self.done:
            self.child.release()  # the slot is free now; the child is reaped later
            self.done = True

    def apply(self, frame: Tuple[Any, ...]) -> None:
        tag = frame[0]
        if tag == "step":
            self.run.steps.append(frame[1])
        elif tag == "end":
            self.run.maps_before, self.run.maps_after, self.run.other_mappings = frame[1], frame[2], frame[3]
            self.ended = True
        elif tag == "error" and self.record_errors:
            err = error_from(frame)
            self.run.failure = f"{'unavailable' if isinstance(err, Unavailable) else 'bad input'}: {err}"
            self.ended = True
        else:
            self.child.kill()
            self.done = True
            raise_failure(frame, "the live child")

    def finish(self) -> None:
        """The pipe closed: say why the run ended early, if it did."""
        reason = self.child.reap() or (None if self.ended else "exited without reporting")
        self.done = True
        if reason and not self.run.failure:
            self.fail(f"the experiment's child {reason}")

    def time_out(self) -> None:
        step = len(self.run.steps) + 1
        self.fail(
            f"timed out after {self.child.timeout:g} s during step {step} (the child was killed); "
            "give it longer with --timeout SECONDS"
        )
        self.child.kill()
        self.done = True

    def fail(self, reason: str) -> None:
        self.run.failure = reason
        index = len(self.run.steps) + 1
        if index <= len(self.scenario.steps):
            self.run.steps.append(crashed_step(index, self.scenario.steps[index - 1].op, reason))


def _feed_or_time_out(active: Dict[Child, _Experiment]) -> List[_Experiment]:
    """Feed the experiments that have data, time out the late ones; returns those now done."""
    late, readable = wait_for(list(active))
    for child in late:
        active[child].time_out()
    for child in readable:
        active[child].feed()
    return [e for e in active.values() if e.done]
