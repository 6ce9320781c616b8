"""The lab child bench and demo gc run in: results, messages, errors, crashes and hangs."""

from __future__ import annotations

import os
import signal
import time
from typing import Any, Callable, List

import pytest

from mremapctl import flags as F
from mremapctl.backends.live.child import error_from, failure, raise_failure, run_in_lab
from mremapctl.backends.live.libc import Syscalls
from mremapctl.errors import BadInput, Unavailable
from mremapctl.lab import Lab


def test_the_child_owns_the_freed_lab_and_streams_messages(live_backend: Any) -> None:
    def work(lab: Lab, send: Callable[[Any], None]) -> int:
        flags = F.MAP_PRIVATE | F.MAP_ANONYMOUS | F.MAP_FIXED_NOREPLACE
        addr, _ = Syscalls().call("mmap", lab.start + (1 << 30), 4096, F.PROT_READ, flags, -1, 0)
        for i in range(3):
            send(i)
        return int(addr)

    seen: List[Any] = []
    result = run_in_lab(work, what="test", idle_timeout=10, on_message=seen.append)
    assert result == live_backend.lab.start + (1 << 30) and seen == [0, 1, 2]


def test_errors_cross_as_the_same_kind(live_backend: Any) -> None:
    def bad(lab: Lab, send: Callable[[Any], None]) -> None:
        raise BadInput("bad value 7")

    def unavailable(lab: Lab, send: Callable[[Any], None]) -> None:
        raise Unavailable("no such thing here")

    with pytest.raises(BadInput, match="bad value 7"):
        run_in_lab(bad, what="test", idle_timeout=10)
    with pytest.raises(Unavailable, match="no such thing here"):
        run_in_lab(unavailable, what="test", idle_timeout=10)


def test_a_crash_or_a_hang_is_a_one_line_failure(live_backend: Any) -> None:
    def crash(lab: Lab, send: Callable[[Any], None]) -> None:
        os.kill(os.getpid(), signal.SIGSEGV)

    def hang(lab: Lab, send: Callable[[Any], None]) -> None:
        time.sleep(30)

    with pytest.raises(Unavailable, match="test: the child died of SIGSEGV"):
        run_in_lab(crash, what="test", idle_timeout=10)
    with pytest.raises(Unavailable, match=r"test: no progress for 0.3 s; the child was killed"):
        run_in_lab(hang, what="test", idle_timeout=0.3)


def test_failure_frames_rebuild_the_error_class_or_report_a_bug() -> None:
    for err in (BadInput("bad value 7"), Unavailable("no such thing here")):
        rebuilt = error_from(failure(err))
        assert type(rebuilt) is type(err) and str(rebuilt) == str(err)
    try:
        raise ValueError("not for users")
    except ValueError as err:
        frame = failure(err)
    assert frame[0] == "bug" and "ValueError: not for users" in frame[1]
    with pytest.raises(RuntimeError, match="the zygote hit a bug:\nTraceback"):
        raise_failure(frame, "the zygote")
