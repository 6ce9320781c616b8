"""The output layer: progress shows on a terminal only, warnings always, the result never mixed in."""

from __future__ import annotations

import io
import sys

import pytest
from rich.console import Console

from mremapctl.cli.output import Output, ProgressLine


def terminal() -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=100, _environ={})


def test_a_bar_on_a_terminal_gone_at_the_end() -> None:
    console = terminal()
    line = ProgressLine(lambda: console, True, "experiments", 4)
    line.advance(2)
    line.update(text="booting 5.10")
    assert line.bar is not None and line.bar.tasks[0].completed == 2
    assert line.bar.tasks[0].description == "experiments · booting 5.10"
    line.close()
    assert not line.bar.live.is_started


def test_nothing_reported_nothing_shown() -> None:
    console = terminal()
    ProgressLine(lambda: console, True, "experiment", None).close()
    assert console.file.getvalue() == ""  # type: ignore[attr-defined]


def test_hidden_progress_keeps_its_warnings() -> None:
    console = Console(file=io.StringIO(), width=100)
    line = ProgressLine(lambda: console, False, "vm", None)
    line.say("downloading linux-image-5.10.0-46-amd64")
    line.say("warning: Debian mirrors unreachable; listing cached kernels only")
    line.advance()
    line.close()
    assert line.bar is None
    assert console.file.getvalue() == "warning: Debian mirrors unreachable; listing cached kernels only\n"  # type: ignore[attr-defined]


@pytest.mark.parametrize(("as_json", "tty", "shown"), [(False, True, True), (True, True, False), (False, False, False)])
def test_progress_is_for_a_terminal_without_json(
    monkeypatch: pytest.MonkeyPatch, as_json: bool, tty: bool, shown: bool
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: tty)
    with Output(json=as_json).progress("bench") as line:
        assert line.shown == shown


def test_notes_are_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    Output().note("check: all 3 expectations met")
    Output(json=True).note("check: all 3 expectations met")
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "check: all 3 expectations met\n")
