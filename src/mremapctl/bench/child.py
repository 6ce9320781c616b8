"""Run a piece of live work in a forked child that owns the freed lab, and bring back its messages.

``bench`` and ``demo gc`` are not scenarios, so they do not go through the engine, but they
need the same guarantees as a live run: the parent only ever holds the lab's PROT_NONE
reservation, every mapping is made by a child that can crash or hang without hurting the
tool, and a crash or a stall becomes a one-line failure (exit 1) instead of a hang.
"""

from __future__ import annotations

import faulthandler
import os
import select
import signal
import time
import traceback
from typing import Any, Callable, Optional, Tuple

from mremapctl.backends.live.frames import split_frames, write_frame
from mremapctl.errors import BadInput, MremapctlError, Unavailable
from mremapctl.lab import Lab

Send = Callable[[Any], None]
Work = Callable[[Lab, Send], Any]


def reserve_lab() -> Lab:
    """The lab, reserved in this process (once; shared with every live backend of the process).

    bench and demo gc place regions by 2 MiB and 1 GiB page-table units, which are those sizes
    only with 4 KiB pages: other page sizes (arm64 16K/64K kernels) are refused here.
    """
    from mremapctl.backends.select import open_live
    from mremapctl.units import host_page_size

    if host_page_size() != 4096:
        raise Unavailable(f"needs 4 KiB pages (PMD 2 MiB, PUD 1 GiB); this kernel uses {host_page_size()} B pages")
    return open_live().lab


def run_in_lab(
    work: Work,
    *,
    what: str,
    idle_timeout: float,
    on_message: Optional[Callable[[Any], None]] = None,
) -> Any:
    """Fork; the child frees the lab and returns ``work(lab, send)``; that value is returned here.

    ``send(obj)`` in the child delivers ``obj`` to ``on_message`` in the parent as it happens
    (progress, streamed results). The child is killed when it sends nothing for
    ``idle_timeout`` seconds. BadInput and Unavailable raised in the child are re-raised here.
    """
    lab = reserve_lab()
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, reported through the pipe
        os.close(rfd)
        _child(wfd, lab, work)
    os.close(wfd)
    try:
        return _collect(pid, rfd, what, idle_timeout, on_message or (lambda _: None))
    finally:
        os.close(rfd)


def _child(wfd: int, lab: Lab, work: Work) -> None:  # pragma: no cover - child side
    code = 0
    try:
        from mremapctl.backends.live.libc import Syscalls

        signal.signal(signal.SIGINT, signal.SIG_DFL)
        faulthandler.disable()  # a crash is reported by the parent, in one line
        Syscalls().call("munmap", lab.start, lab.size)  # the lab is free for the work
        result = work(lab, lambda obj: write_frame(wfd, ("msg", obj)))
        write_frame(wfd, ("done", result))
    except MremapctlError as err:
        write_frame(wfd, ("error", type(err).__name__, str(err)))
    except BaseException:
        write_frame(wfd, ("bug", traceback.format_exc()))
        code = 70
    finally:
        os._exit(code)


def _collect(pid: int, rfd: int, what: str, idle_timeout: float, on_message: Callable[[Any], None]) -> Any:
    deadline = time.monotonic() + idle_timeout
    buffer = b""
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise Unavailable(
                    f"{what}: no progress for {idle_timeout:g} s; the child was killed (--timeout waits longer)"
                )
            ready, _, _ = select.select([rfd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(rfd, 1 << 20)
            if not chunk:
                break
            buffer += chunk
            deadline = time.monotonic() + idle_timeout
            messages, buffer = split_frames(buffer)
            for message in messages:
                if message[0] == "msg":
                    on_message(message[1])
                else:
                    os.waitpid(pid, 0)
                    return _final(message, what)
    except BaseException:
        _reap(pid)
        raise
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        raise Unavailable(f"{what}: the child died of {signal.Signals(os.WTERMSIG(status)).name}")
    raise Unavailable(f"{what}: the child exited without reporting")


def _final(message: Tuple[Any, ...], what: str) -> Any:
    tag = message[0]
    if tag == "done":
        return message[1]
    if tag == "error":
        raise (BadInput if message[1] == "BadInput" else Unavailable)(message[2])
    raise RuntimeError(f"{what}: the child hit a bug:\n{message[1]}")


def _reap(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
