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


def test_without_colour_progress_is_plain_lines_with_no_escape_sequence(monkeypatch: pytest.MonkeyPatch) -> None:
    console = Console(file=io.StringIO(), width=100, color_system=None, force_terminal=True)
    line = ProgressLine(lambda: console, True, "experiments", 580, plain=True)
    line.advance()
    line.advance(5)  # within PLAIN_EVERY of the first line: not repeated
    line.update(text="booting 7.2")  # a new phase is always said
    monkeypatch.setattr(ProgressLine, "PLAIN_EVERY", 0.0)
    line.advance(94)
    line.close()
    line.advance()
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "\x1b" not in text and line.bar is None
    assert text.splitlines() == [
        "experiments: 1 of 580",
        "experiments: booting 7.2, 6 of 580",
        "experiments: booting 7.2, 100 of 580",
    ]


def test_no_color_chooses_plain_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with Output(color=False).progress("survey") as line:
        assert line.plain and line.shown
    monkeypatch.setenv("NO_COLOR", "1")
    with Output().progress("survey") as line:
        assert line.plain
