"""One child for several experiments, but only while the process is back as it was.

A matrix cell is about 0.1 ms of syscalls; forking the Python that runs it and tearing it down
costs about 3.5 ms of CPU. So a child of a batch goes on to the next experiment, after putting
the process back: the lab and every region moved out of it unmapped, the files the experiment
opened closed. Then it checks, rather than trusts: the open files and the whole of
/proc/self/maps must be what they were before its first experiment. What it cannot put back (an
aio context, a moved vDSO, a limit or a capability given up, a sealed range, a helper thread, or
anything the check finds) ends the child instead, and the next experiment gets a fresh one.
"""

from __future__ import annotations

import gc
import os
from typing import List, Sequence, Set

from mremapctl.backends.live.libc import Syscalls
from mremapctl.engine import Engine
from mremapctl.kinds import KINDS
from mremapctl.scenario import steps as S
from mremapctl.scenario.load import Scenario


def changes_the_process(scenario: Scenario) -> bool:
    """Whether the scenario leaves state that unmapping the lab does not undo: it ends its child."""
    return any(
        step.outlives_unmap or (isinstance(step, S.Mmap) and step.kind is not None and KINDS[step.kind].outlives_unmap)
        for step in scenario.steps
    )


def prepare() -> None:
    """In the parent, before the children: import what the makers import on first use (a
    temporary file's module), so every child starts with those libraries mapped and pays once."""
    import tempfile  # noqa: F401


def next_batch(waiting: List[int], scenarios: Sequence[Scenario], most: int) -> List[int]:
    """The next scenarios for one child: up to ``most``, ending at the first that changes the process."""
    taken = []
    for index in waiting[:most]:
        taken.append(index)
        if changes_the_process(scenarios[index]):
            break
    return taken


class ProcessState:
    """The child's open files and maps before its first experiment."""

    def __init__(self) -> None:
        self.fds = _open_fds()
        self.maps = _maps()

    def restore_after(self, engine: Engine, syscalls: Syscalls) -> bool:
        """Undo what the experiment mapped and opened; whether the process is now as it was."""
        if changes_the_process(engine.scenario) or _threads() > 1:
            return False
        for start, end in engine.spans():
            if syscalls.call("munmap", start, end - start)[0] != 0:  # it will not go: the check below would fail too
                return False
        for fd in _open_fds() - self.fds:
            os.close(fd)
        gc.collect()  # the run's buffers, held in cycles; only what the child made (spawn froze the rest)
        return _open_fds() == self.fds and _maps() == self.maps


def _open_fds() -> Set[int]:
    """The process's open file descriptors (the one listing them is closed again by then)."""
    found = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            os.fstat(int(name))
        except OSError:
            continue
        found.add(int(name))
    return found


def _maps() -> str:
    """/proc/self/maps without the [heap] line: glibc's brk heap appears and grows with the child's
    own allocations (whether it exists at the fork depends on what the parent happened to
    allocate), never with an experiment's mappings, which stay in the lab and the regions it moved."""
    with open("/proc/self/maps") as f:
        return "".join(line for line in f if not line.rstrip().endswith("[heap]"))


def _threads() -> int:
    import threading  # loaded already (click imports it); a read's helper thread would show here

    return threading.active_count()
