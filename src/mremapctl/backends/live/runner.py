"""Run a scenario live in a forked child and bring its results back as data.

The child gets a copy of the process with the lab reserved; it frees the lab, runs the
engine against real syscalls, and streams each step's result up a pipe. A SIGSEGV, a
moved vDSO or a bad MREMAP_FIXED can only ever hurt the child: the parent reports what
happened (the signal, or a time-out) as the run's failure.
"""

from __future__ import annotations

import faulthandler
import gc
import os
import platform
import select
import signal
import time
import traceback
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from mremapctl import flags as F
from mremapctl.backends.base import RunOptions
from mremapctl.backends.live.frames import split_frames, write_frame
from mremapctl.backends.live.libc import Syscalls
from mremapctl.backends.live.machine import LiveMachine  # imported here, not in every child
from mremapctl.engine import Engine, crashed_step
from mremapctl.errors import BadInput, MremapctlError, Unavailable
from mremapctl.lab import DEFAULT_LAB_START, FALLBACK_LAB_STARTS, LAB_SIZE, Lab
from mremapctl.results import Run
from mremapctl.scenario.load import Scenario

_RESERVED: Optional[Lab] = None


class LiveBackend:
    """Owns the lab reservation in this (parent) process; runs scenarios in children."""

    name = "live"

    def __init__(self, sys: Optional[Syscalls] = None) -> None:
        self.sys = sys or Syscalls()
        self.lab = self._reserve()
        self.kernel = platform.release()
        self.page_size = os.sysconf("SC_PAGE_SIZE")

    def _reserve(self) -> Lab:
        """Reserve the lab (PROT_NONE, no memory charged) so nothing of ours ever lands in it.

        Once per process: every backend object of this process shares the reservation.
        """
        global _RESERVED
        if _RESERVED is None:
            _RESERVED = self._map_lab()
        return _RESERVED

    def _map_lab(self) -> Lab:
        flags = F.MAP_PRIVATE | F.MAP_ANONYMOUS | F.MAP_NORESERVE | F.MAP_FIXED_NOREPLACE
        reasons = []
        for start in (DEFAULT_LAB_START, *FALLBACK_LAB_STARTS):
            addr, err = self.sys.call("mmap", start, LAB_SIZE, F.PROT_NONE, flags, -1, 0)
            if addr == start:
                return Lab(start, LAB_SIZE)
            if addr != -1:
                self.sys.call("munmap", addr, LAB_SIZE)
                err = 17
            reasons.append(f"{start:#x}: {os.strerror(err)}")
        raise Unavailable("live backend unavailable: cannot reserve the lab (" + "; ".join(reasons) + ")")

    def run(self, scenario: Scenario, options: Optional[RunOptions] = None) -> Run:
        return self.run_many([scenario], options)[0]

    def run_many(
        self,
        scenarios: Sequence[Scenario],
        options: Optional[RunOptions] = None,
        parallel: int = 1,
        on_result: Optional[Callable[[int, Run], None]] = None,
        errors: str = "raise",
        via_zygote: bool = False,
    ) -> List[Run]:
        """Each scenario in its own child, up to ``parallel`` at a time; results in scenario order.

        ``errors="record"``: a scenario that cannot be carried out (an unavailable kind) becomes
        a run whose failure says so, instead of stopping the batch. Ctrl-C kills the children
        and raises Interrupted with the runs finished so far. ``via_zygote``: fork them from a
        small helper process instead of this one.
        """
        options = options or RunOptions()
        if via_zygote:  # forks from a small process are much cheaper (see zygote.py)
            from mremapctl.backends.live import zygote

            return zygote.run_batch(scenarios, options, parallel, errors, on_result)
        runs: List[Optional[Run]] = [None] * len(scenarios)
        waiting = list(enumerate(scenarios))
        active: Dict[int, _Child] = {}
        try:
            while waiting or active:
                while waiting and len(active) < max(1, parallel):
                    index, scenario = waiting.pop(0)
                    child = self._start(index, scenario, options)
                    child.record_errors = errors == "record"
                    active[child.rfd] = child
                for child in _wait(list(active.values())):
                    if child.done:
                        del active[child.rfd]
                        runs[child.index] = child.run
                        if on_result:
                            on_result(child.index, child.run)
                _reap(block=False)
        except KeyboardInterrupt:
            for child in active.values():
                child.kill()
            raise Interrupted(runs) from None
        finally:
            _reap(block=True)
        return [r for r in runs if r is not None]

    def _start(self, index: int, scenario: Scenario, options: RunOptions) -> _Child:
        run = Run("live", self.kernel, self.page_size, self.lab.start, self.lab.end)
        run.notes.append(f"syscalls through {self.sys.flavour}")
        rfd, wfd = os.pipe()
        gc.freeze()  # the child's collector must not walk (and so copy) every page of the parent's heap
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, reported through the pipe
            os.close(rfd)
            self._child(wfd, scenario, options)
        os.close(wfd)
        return _Child(index, pid, rfd, run, scenario, time.monotonic() + options.timeout, options.timeout)

    # -- child ---------------------------------------------------------------------------

    def _child(self, wfd: int, scenario: Scenario, options: RunOptions) -> None:  # pragma: no cover
        code = 0
        try:
            gc.disable()  # short-lived: a collection would copy-on-write most of the heap
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            faulthandler.disable()  # a crash is reported by the parent, in one line
            self.sys.call("munmap", self.lab.start, self.lab.size)  # the lab is free for the experiment
            machine = LiveMachine(self.sys, force=options.force)
            engine = Engine(machine, scenario, self.lab, options)
            for result in engine.run():
                write_frame(wfd, ("step", result))
            before, after = engine.final_maps()
            write_frame(wfd, ("end", before, after, engine.other_mappings))
        except MremapctlError as err:
            write_frame(wfd, ("error", type(err).__name__, str(err)))
        except BaseException:
            write_frame(wfd, ("bug", traceback.format_exc()))
            code = 70
        finally:
            os._exit(code)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a batch: carries the runs, by scenario index (None: not finished)."""

    def __init__(self, runs: List[Optional[Run]]) -> None:
        super().__init__()
        self.runs = runs


class _Child:
    """One experiment's child, seen from the parent: its pipe, its deadline, its Run so far."""

    def __init__(
        self, index: int, pid: int, rfd: int, run: Run, scenario: Scenario, deadline: float, timeout: float
    ) -> None:
        self.index, self.pid, self.rfd, self.run, self.scenario = index, pid, rfd, run, scenario
        self.deadline, self.timeout = deadline, timeout
        self.buffer = b""
        self.ended = False
        self.done = False
        self.record_errors = False

    def feed(self) -> None:
        chunk = os.read(self.rfd, 1 << 20)
        if not chunk:
            self.finish()
            return
        self.buffer += chunk
        messages, self.buffer = split_frames(self.buffer)
        for message in messages:
            self.apply(message)
        if self.ended and not self.done:
            # The run is complete: free the slot now. The child may still be exiting (an aio
            # context's teardown waits for an RCU grace period); it is reaped later.
            os.close(self.rfd)
            self.done = True
            _EXITING.append(self.pid)

    def apply(self, message: Tuple[Any, ...]) -> None:
        tag = message[0]
        if tag == "step":
            self.run.steps.append(message[1])
        elif tag == "end":
            self.run.maps_before, self.run.maps_after, self.run.other_mappings = message[1], message[2], message[3]
            self.ended = True
        elif tag == "error" and self.record_errors:
            self.run.failure = f"{'unavailable' if message[1] == 'Unavailable' else 'bad input'}: {message[2]}"
            self.ended = True
        elif tag == "error":
            self.kill()
            raise (BadInput if message[1] == "BadInput" else Unavailable)(message[2])
        elif tag == "bug":
            self.kill()
            raise RuntimeError("the live child hit a bug:\n" + message[1])

    def finish(self) -> None:
        _, status = os.waitpid(self.pid, 0)
        os.close(self.rfd)
        self.done = True
        if os.WIFSIGNALED(status) and not self.run.failure:
            self.fail(f"the experiment's child died of {signal.Signals(os.WTERMSIG(status)).name}")
        elif not self.ended and not self.run.failure:
            self.fail("the experiment's child exited without reporting")

    def time_out(self) -> None:
        self.fail(f"timed out after {self.timeout:g} s (killed)")
        os.kill(self.pid, signal.SIGKILL)
        self.finish()

    def kill(self) -> None:
        if not self.done:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            os.close(self.rfd)
            self.done = True

    def fail(self, reason: str) -> None:
        self.run.failure = reason
        index = len(self.run.steps) + 1
        if index <= len(self.scenario.steps):
            self.run.steps.append(crashed_step(index, self.scenario.steps[index - 1].op, reason))


_EXITING: List[int] = []  # children that reported everything and are still exiting


def _reap(block: bool) -> None:
    for pid in list(_EXITING):
        done, _ = os.waitpid(pid, 0 if block else os.WNOHANG)
        if done:
            _EXITING.remove(pid)


def _wait(children: List[_Child]) -> List[_Child]:
    """Feed the children that have data; time out the late ones. Returns the children touched."""
    now = time.monotonic()
    late = [c for c in children if c.deadline <= now]
    for child in late:
        child.time_out()
    alive = [c for c in children if not c.done]
    if not alive:
        return late
    timeout = max(0.0, min(c.deadline for c in alive) - now)
    ready, _, _ = select.select([c.rfd for c in alive], [], [], timeout)
    touched = list(late)
    for child in alive:
        if child.rfd in ready:
            child.feed()
            touched.append(child)
    return touched
