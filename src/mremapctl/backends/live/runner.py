"""Run a scenario live in a forked child and bring its results back as data.

The child gets a copy of the process with the lab reserved; it frees the lab, runs the
engine against real syscalls, and streams each step's result up a pipe. A SIGSEGV, a
moved vDSO or a bad MREMAP_FIXED can only ever hurt the child: the parent reports what
happened (the signal, or a time-out) as the run's failure.
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import platform
import select
import signal
import struct
import time
import traceback
from typing import Any, List, Optional, Tuple

from mremapctl import flags as F
from mremapctl.backends.base import RunOptions
from mremapctl.backends.live.libc import Syscalls
from mremapctl.backends.live.machine import LiveMachine  # imported here, not in every child
from mremapctl.engine import Engine, crashed_step
from mremapctl.errors import BadInput, MremapctlError, Unavailable
from mremapctl.lab import DEFAULT_LAB_START, FALLBACK_LAB_STARTS, LAB_SIZE, Lab
from mremapctl.results import Run
from mremapctl.scenario.load import Scenario

_LEN = struct.Struct("<I")
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
        options = options or RunOptions()
        run = Run("live", self.kernel, self.page_size, self.lab.start, self.lab.end)
        run.notes.append(f"syscalls through {self.sys.flavour}")
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, reported through the pipe
            os.close(rfd)
            self._child(wfd, scenario, options)
        os.close(wfd)
        try:
            self._collect(pid, rfd, run, scenario, options.timeout)
        finally:
            os.close(rfd)
        return run

    # -- child ---------------------------------------------------------------------------

    def _child(self, wfd: int, scenario: Scenario, options: RunOptions) -> None:  # pragma: no cover
        code = 0
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            faulthandler.disable()  # a crash is reported by the parent, in one line
            self.sys.call("munmap", self.lab.start, self.lab.size)  # the lab is free for the experiment
            machine = LiveMachine(self.sys, force=options.force)
            engine = Engine(machine, scenario, self.lab, options)
            for result in engine.run():
                _send(wfd, ("step", result))
            before, after = engine.final_maps()
            _send(wfd, ("end", before, after, engine.other_mappings))
        except MremapctlError as err:
            _send(wfd, ("error", type(err).__name__, str(err)))
        except BaseException:
            _send(wfd, ("bug", traceback.format_exc()))
            code = 70
        finally:
            os._exit(code)

    # -- parent --------------------------------------------------------------------------

    def _collect(self, pid: int, rfd: int, run: Run, scenario: Scenario, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        buffer = b""
        ended = False
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._fail(run, scenario, f"timed out after {timeout:g} s (killed)")
                    os.kill(pid, signal.SIGKILL)
                    break
                ready, _, _ = select.select([rfd], [], [], remaining)
                if not ready:
                    continue
                chunk = os.read(rfd, 1 << 20)
                if not chunk:
                    break
                buffer += chunk
                messages, buffer = _frames(buffer)
                for message in messages:
                    ended |= self._apply(run, message)
        except KeyboardInterrupt:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status) and not run.failure:
            sig = signal.Signals(os.WTERMSIG(status)).name
            self._fail(run, scenario, f"the experiment's child died of {sig}")
        elif not ended and not run.failure:
            self._fail(run, scenario, "the experiment's child exited without reporting")

    def _apply(self, run: Run, message: Tuple[Any, ...]) -> bool:
        tag = message[0]
        if tag == "step":
            run.steps.append(message[1])
        elif tag == "end":
            run.maps_before, run.maps_after, run.other_mappings = message[1], message[2], message[3]
            return True
        elif tag == "error":
            raise (BadInput if message[1] == "BadInput" else Unavailable)(message[2])
        elif tag == "bug":
            raise RuntimeError("the live child hit a bug:\n" + message[1])
        return False

    def _fail(self, run: Run, scenario: Scenario, reason: str) -> None:
        run.failure = reason
        index = len(run.steps) + 1
        if index <= len(scenario.steps):
            run.steps.append(crashed_step(index, scenario.steps[index - 1].op, reason))


def _send(fd: int, message: Tuple[Any, ...]) -> None:  # pragma: no cover - child side
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    payload = _LEN.pack(len(data)) + data
    while payload:
        payload = payload[os.write(fd, payload) :]


def _frames(buffer: bytes) -> Tuple[List[Tuple[Any, ...]], bytes]:
    messages = []
    while len(buffer) >= _LEN.size:
        (length,) = _LEN.unpack_from(buffer)
        if len(buffer) < _LEN.size + length:
            break
        messages.append(pickle.loads(buffer[_LEN.size : _LEN.size + length]))
        buffer = buffer[_LEN.size + length :]
    return messages, buffer
