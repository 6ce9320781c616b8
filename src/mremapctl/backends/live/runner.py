"""Run scenarios live, each in a forked child (child.py), and bring their results back as data.

The child runs the engine against real syscalls and streams each step's result up its pipe.
A SIGSEGV, a moved vDSO or a bad MREMAP_FIXED can only ever hurt the child: the parent
reports what happened (the signal, or a time-out) as the run's failure.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from mremapctl.backends.live import reuse
from mremapctl.backends.live.child import (
    Child,
    Send,
    error_from,
    failure,
    raise_failure,
    reap_released,
    reserve_lab,
    spawn,
    wait_for,
)
from mremapctl.backends.live.libc import Syscalls
from mremapctl.engine import Engine, crashed_step
from mremapctl.errors import BatchInterrupted, MremapctlError, Unavailable
from mremapctl.kernel import running_release
from mremapctl.lab import LAB_SIZE
from mremapctl.platforms import host_arch
from mremapctl.primitives import RunOptions
from mremapctl.results import Run
from mremapctl.scenario.load import Scenario

ZYGOTE_FROM = 50  # scenarios in a batch: below that, starting the zygote costs more than it saves
# Scenarios handed to one child at most when children are shared: enough to spread the cost of
# a fork, few enough that the children of a batch end together.
SHARED_CHILD_RUNS = 32


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

    def run_batch(
        self,
        scenarios: Sequence[Scenario],
        options: Optional[RunOptions] = None,
        *,
        parallel: Optional[int] = None,
        on_result: Optional[Callable[[int, Run], None]] = None,
    ) -> List[Run]:
        """The batch every backend runs (a scenario that cannot be carried out is a run that says
        so): from a zygote when it is big enough to pay for one, and in shared children when its
        runs take no maps snapshots (whose parsing grows a child's heap and so ends it anyway)."""
        options = options or RunOptions()
        return self.run_many(
            scenarios,
            options,
            parallel=parallel or 1,
            on_result=on_result,
            errors="record",
            via_zygote=len(scenarios) >= ZYGOTE_FROM,
            share_children=not options.snapshots,
        )

    def run_many(
        self,
        scenarios: Sequence[Scenario],
        options: Optional[RunOptions] = None,
        parallel: int = 1,
        on_result: Optional[Callable[[int, Run], None]] = None,
        errors: str = "raise",
        via_zygote: bool = False,
        meanwhile: Optional[Callable[[], None]] = None,
        share_children: bool = False,
    ) -> List[Run]:
        """Each scenario in a child, up to ``parallel`` children at a time; results in scenario order.

        ``errors="record"``: a scenario that cannot be carried out (an unavailable kind) becomes
        a run whose failure says so, instead of stopping the batch. Ctrl-C kills the children
        and raises BatchInterrupted with the runs finished so far. ``via_zygote``: fork them from a
        small helper process instead of this one. ``share_children``: a child runs several
        scenarios in turn while it can put the process back between them (reuse.py).
        """
        options = options or RunOptions()
        if via_zygote:  # forks from a small process are much cheaper (see zygote.py)
            from mremapctl.backends.live import zygote

            return zygote.run_batch(scenarios, options, parallel, errors, on_result, share_children)
        if len(scenarios) > 1:  # one import here rather than one in each child
            import mremapctl.backends.live.machine  # noqa: F401
        runs: List[Optional[Run]] = [None] * len(scenarios)
        waiting = list(range(len(scenarios)))
        lanes = max(1, parallel)
        share = min(SHARED_CHILD_RUNS, -(-len(scenarios) // lanes)) if share_children else 1
        if share > 1:
            reuse.prepare()
        active: Dict[Child, _Lane] = {}
        try:
            while waiting or active:
                while waiting and len(active) < lanes:
                    batch = reuse.next_batch(waiting, scenarios, share)
                    del waiting[: len(batch)]
                    lane = self._start(batch, scenarios, options, errors == "record")
                    active[lane.child] = lane
                if meanwhile:
                    meanwhile()
                    meanwhile = None
                for lane in _feed_or_time_out(active):
                    for index, run in lane.finished:
                        runs[index] = run
                        if on_result:
                            on_result(index, run)
                    lane.finished = []
                    if lane.done:
                        del active[lane.child]
                        waiting[:0] = lane.queue  # what a child that stopped early did not start
                reap_released(block=False)
        except KeyboardInterrupt:
            for lane in active.values():
                lane.child.kill()
            raise BatchInterrupted(runs) from None
        finally:
            reap_released(block=True)
        return [r for r in runs if r is not None]

    def _start(self, indices: List[int], scenarios: Sequence[Scenario], options: RunOptions, record: bool) -> _Lane:
        def body(send: Send) -> None:  # pragma: no cover - runs in the child
            # Imported by the child of a single run, on the other core while this process
            # carries on; already here when run_many starts several children.
            from mremapctl.backends.live.machine import LiveMachine

            before = reuse.ProcessState() if len(indices) > 1 else None
            for n, index in enumerate(indices):
                engine = Engine(LiveMachine(self.sys, force=options.force), scenarios[index], self.lab, options)
                try:
                    for result in engine.run():
                        send(("step", result))
                    maps_before, maps_after = engine.final_maps()
                    send(("end", maps_before, maps_after, engine.other_mappings))
                except MremapctlError as err:
                    send(failure(err))
                if before is not None and n + 1 < len(indices) and not before.restore_after(engine, self.sys):
                    send(("retire",))
                    return

        child = spawn(body, self.lab, self.sys, options.timeout)
        return _Lane(child, indices, scenarios, self._new_run, record)

    def _new_run(self) -> Run:
        run = Run("live", self.kernel, self.page_size, self.lab.start, self.lab.end)
        run.kernel_version = self.kernel_version
        run.arch = host_arch()
        run.notes.append(f"syscalls through {self.sys.flavour}")
        return run


class _Lane:
    """One child seen from the parent: the scenarios handed to it, in order, and the run of the
    one it is on. Runs move to ``finished`` as they end; ``queue`` keeps those not yet ended."""

    def __init__(
        self, child: Child, queue: List[int], scenarios: Sequence[Scenario], new_run: Callable[[], Run], record: bool
    ) -> None:
        self.child, self.queue, self.scenarios, self.new_run = child, list(queue), scenarios, new_run
        self.record_errors = record
        self.run = new_run()
        self.finished: List[Tuple[int, Run]] = []
        self.done = False  # its slot is free

    def feed(self) -> None:
        frames = self.child.frames()
        if frames is None:
            self.finish()
            return
        for frame in frames:
            self.apply(frame)
            if self.done:
                return

    def apply(self, frame: Tuple[Any, ...]) -> None:
        tag = frame[0]
        if tag == "step":
            self.run.steps.append(frame[1])
        elif tag == "end":
            self.run.maps_before, self.run.maps_after, self.run.other_mappings = frame[1], frame[2], frame[3]
            self.next_run()
        elif tag == "error" and self.record_errors:
            err = error_from(frame)
            self.run.failure = f"{'unavailable' if isinstance(err, Unavailable) else 'bad input'}: {err}"
            self.next_run()
        elif tag == "retire":  # it could not put the process back: the rest go to a new child
            self.release()
        else:
            self.child.kill()
            self.done = True
            raise_failure(frame, "the live child")

    def next_run(self) -> None:
        """The current run has ended: on to the next scenario, or free the slot."""
        self.finished.append((self.queue.pop(0), self.run))
        if not self.queue:
            self.release()
            return
        self.run = self.new_run()
        self.child.deadline = time.monotonic() + self.child.timeout  # each experiment has its own time-out

    def release(self) -> None:
        self.child.release()  # the child is reaped later: an aio context's teardown waits for RCU
        self.done = True

    def finish(self) -> None:
        """The pipe closed without a word: the current run failed (the signal says how, if one
        ended the child); the scenarios after it go back to the batch."""
        reason = self.child.reap()
        self.done = True
        self.fail(f"the experiment's child {reason or 'exited without reporting'}")
        self.finished.append((self.queue.pop(0), self.run))

    def time_out(self) -> None:
        step = len(self.run.steps) + 1
        self.fail(
            f"timed out after {self.child.timeout:g} s during step {step} (the child was killed); "
            "give it longer with --timeout SECONDS"
        )
        self.child.kill()
        self.done = True
        self.finished.append((self.queue.pop(0), self.run))

    def fail(self, reason: str) -> None:
        if self.run.failure:
            return
        self.run.failure = reason
        index = len(self.run.steps) + 1
        steps = self.scenarios[self.queue[0]].steps
        if index <= len(steps):
            self.run.steps.append(crashed_step(index, steps[index - 1].op, reason))


def _feed_or_time_out(active: Dict[Child, _Lane]) -> List[_Lane]:
    """Feed the lanes that have data, time out the late ones; returns those with news."""
    late, readable = wait_for(list(active))
    for child in late:
        active[child].time_out()
    for child in readable:
        active[child].feed()
    return [lane for lane in active.values() if lane.finished or lane.done]
