"""Forked children: the one way live work runs, so that nothing it does can hurt the tool.

The parent only ever holds the lab's PROT_NONE reservation. A child gets a copy of the
process, frees the lab, does the work (an experiment, a bench, the GC demo) and reports up a
pipe in frames. A SIGSEGV, a moved vDSO, a bad MREMAP_FIXED or a hang can only hurt the
child: the parent turns its death or its silence into a one-line failure. The errors a user
is told about cross the pipe as the class they were raised as; anything else crosses as a
traceback and is raised as a bug.
"""

from __future__ import annotations

import faulthandler
import gc
import os
import select
import signal
import time
from typing import Any, Callable, List, NoReturn, Optional, Sequence, Tuple

from mremapctl import flags as F
from mremapctl.backends.live.frames import split_frames, write_frame
from mremapctl.backends.live.libc import Syscalls
from mremapctl.errors import BadInput, MremapctlError, Unavailable
from mremapctl.lab import DEFAULT_LAB_START, FALLBACK_LAB_STARTS, LAB_SIZE, Lab
from mremapctl.units import format_size

Send = Callable[[Any], None]
BUG_EXIT = 70  # EX_SOFTWARE: the child hit a bug (reported as a traceback)
_ERRORS = {cls.__name__: cls for cls in (BadInput, Unavailable)}
_RESERVED: Optional[Lab] = None
_RELEASED: List[int] = []  # children that reported everything and may still be exiting


# -- errors across the pipe --------------------------------------------------------------


def failure(err: BaseException) -> Tuple[str, ...]:
    """The frame that reports ``err``: an error for the user by class and message, else a bug."""
    if isinstance(err, MremapctlError):
        return ("error", type(err).__name__, str(err))
    import traceback  # a bug's report only: not a cost of every run

    return ("bug", "".join(traceback.format_exception(type(err), err, err.__traceback__)))


def error_from(frame: Sequence[Any]) -> MremapctlError:
    """The error an ``error`` frame reports, as the class it was raised as."""
    return _ERRORS.get(frame[1], Unavailable)(frame[2])


def raise_failure(frame: Sequence[Any], who: str) -> NoReturn:
    """Raise what an ``error`` or ``bug`` frame from ``who`` reports."""
    if frame[0] == "error":
        raise error_from(frame)
    raise RuntimeError(f"{who} hit a bug:\n{frame[1]}")


# -- the lab -----------------------------------------------------------------------------


def reserve_lab(syscalls: Syscalls, size: int = LAB_SIZE) -> Lab:
    """Reserve the lab (PROT_NONE, no memory charged) so nothing of ours ever lands in it.

    Once per process: every user of the lab in this process shares the reservation (a command
    asks for one size, --lab-size or the default).
    """
    global _RESERVED
    if _RESERVED is None:
        _RESERVED = _map_lab(syscalls, size)
    return _RESERVED


def _map_lab(syscalls: Syscalls, size: int) -> Lab:
    flags = F.MAP_PRIVATE | F.MAP_ANONYMOUS | F.MAP_NORESERVE | F.MAP_FIXED_NOREPLACE
    reasons = []
    for start in (DEFAULT_LAB_START, *FALLBACK_LAB_STARTS):
        addr, err = syscalls.call("mmap", start, size, F.PROT_NONE, flags, -1, 0)
        if addr == start:
            return Lab(start, size)
        if addr != -1:
            syscalls.call("munmap", addr, size)
            err = 17  # EEXIST: the kernel placed it elsewhere (before 4.17, no FIXED_NOREPLACE)
        reasons.append(f"{start:#x}: {os.strerror(err)}")
    raise Unavailable("live backend unavailable: cannot reserve the lab (" + "; ".join(reasons) + ")")


# -- the child's side ----------------------------------------------------------------------


def spawn(body: Callable[[Send], None], lab: Lab, syscalls: Syscalls, timeout: float) -> Child:
    """Fork a child that frees the lab and runs ``body(send)``; the parent gets its handle.

    The child never returns: whatever ``body`` raises is sent as a failure frame, then it exits.
    """
    rfd, wfd = os.pipe()
    gc.freeze()  # the child's collector must not walk (and so copy) every page of the parent's heap
    # Ctrl-C waits until the child has its own SIGINT disposition: a KeyboardInterrupt raised in
    # the child's after-fork hooks would print "Exception ignored in: …" under the error line.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, reported through the pipe
            os.close(rfd)
            _child(wfd, body, lab, syscalls)
        os.close(wfd)
        return Child(pid, rfd, timeout)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _child(wfd: int, body: Callable[[Send], None], lab: Lab, syscalls: Syscalls) -> NoReturn:  # pragma: no cover
    code = 0
    try:
        gc.disable()  # short-lived: a collection would copy-on-write most of the heap, or land in a timing
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the child quietly; the parent reports
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        faulthandler.disable()  # a crash is reported by the parent, in one line
        syscalls.call("munmap", lab.start, lab.size)  # the lab is free for the work
        body(lambda message: write_frame(wfd, message))
    except BaseException as err:
        write_frame(wfd, failure(err))
        code = 0 if isinstance(err, MremapctlError) else BUG_EXIT
    finally:
        os._exit(code)


# -- the parent's side ---------------------------------------------------------------------


class Child:
    """A forked child seen from its parent: its pipe, its deadline, whether it is still ours to wait for."""

    def __init__(self, pid: int, rfd: int, timeout: float) -> None:
        self.pid, self.rfd, self.timeout = pid, rfd, timeout
        self.deadline = time.monotonic() + timeout
        self.buffer = b""
        self.open = True  # the read end of the pipe
        self.waited = False  # reaped, or handed to reap_released

    def frames(self) -> Optional[List[Any]]:
        """The frames that have arrived (one read); None when the child closed the pipe."""
        chunk = os.read(self.rfd, 1 << 20)
        if not chunk:
            return None
        messages, self.buffer = split_frames(self.buffer + chunk)
        return messages

    def reap(self) -> Optional[str]:
        """Wait for the child to exit; "died of SIG…" when a signal ended it."""
        _, status = os.waitpid(self.pid, 0)
        self.waited = True
        self.close()
        return f"died of {signal.Signals(os.WTERMSIG(status)).name}" if os.WIFSIGNALED(status) else None

    def kill(self) -> None:
        """SIGKILL and reap it, unless that is done already (a time-out, Ctrl-C, an error it sent)."""
        if not self.waited:
            os.kill(self.pid, signal.SIGKILL)
            self.reap()
        self.close()

    def release(self) -> None:
        """It has reported everything: free the pipe now and reap it later (reap_released).

        It may still be exiting: an aio context's teardown waits for an RCU grace period.
        """
        self.close()
        self.waited = True
        _RELEASED.append(self.pid)

    def close(self) -> None:
        if self.open:
            os.close(self.rfd)
            self.open = False


def wait_for(children: Sequence[Child]) -> Tuple[List[Child], List[Child]]:
    """Wait until a child has something to read or a deadline passes: (the late, the readable)."""
    now = time.monotonic()
    late = [c for c in children if c.deadline <= now]
    if late or not children:
        return late, []
    timeout = min(c.deadline for c in children) - now
    readable, _, _ = select.select([c.rfd for c in children], [], [], timeout)
    return [], [c for c in children if c.rfd in readable]


def reap_released(block: bool) -> None:
    """Reap the released children that have exited (``block``: wait for all of them)."""
    for pid in list(_RELEASED):
        done, _ = os.waitpid(pid, 0 if block else os.WNOHANG)
        if done:
            _RELEASED.remove(pid)


# -- one child for work that is not a scenario (bench, demo gc) ------------------------------


def run_in_lab(
    work: Callable[[Lab, Send], Any],
    *,
    what: str,
    idle_timeout: float,
    on_message: Optional[Send] = None,
    lab_size: int = LAB_SIZE,
) -> Any:
    """Fork; the child frees the lab and returns ``work(lab, send)``; that value is returned here.

    ``send(obj)`` in the child delivers ``obj`` to ``on_message`` in the parent as it happens
    (progress, streamed results). The child is killed when it sends nothing for
    ``idle_timeout`` seconds. BadInput and Unavailable raised in the child are re-raised here.
    """
    syscalls = Syscalls()
    lab = reserve_lab(syscalls, lab_size)
    if lab.size < lab_size:
        raise Unavailable(f"{what}: needs a {format_size(lab_size)} lab; this process reserved {format_size(lab.size)}")

    def body(send: Send) -> None:
        send(("done", work(lab, lambda obj: send(("msg", obj)))))

    child = spawn(body, lab, syscalls, idle_timeout)
    try:
        return _collect(child, what, on_message or (lambda _: None))
    finally:
        child.kill()


def _collect(child: Child, what: str, on_message: Send) -> Any:
    while True:
        late, readable = wait_for([child])
        if late:
            child.kill()
            raise Unavailable(
                f"{what}: no progress for {child.timeout:g} s; the child was killed (--timeout waits longer)"
            )
        if not readable:
            continue
        frames = child.frames()
        if frames is None:
            raise Unavailable(f"{what}: the child {child.reap() or 'exited without reporting'}")
        child.deadline = time.monotonic() + child.timeout  # the time-out is for silence
        for frame in frames:
            if frame[0] == "msg":
                on_message(frame[1])
                continue
            child.reap()
            if frame[0] == "done":
                return frame[1]
            raise_failure(frame, f"{what}: the child")
