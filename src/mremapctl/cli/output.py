"""The output layer every command shares: its options (``--json``, ``--color``) and where it prints.

stdout carries the result: tables for people, or one JSON document for scripts. stderr carries
the rest (progress, warnings, the ``check:`` line, the contract's error line), so that a pipe or a
file gets the result alone.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, Optional, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

PIPE_WIDTH = 132


@dataclass
class Output:
    """How a command prints, chosen by :func:`output_options`."""

    json: bool = False
    color: Optional[bool] = None
    record: bool = False  # keep what is printed, for --svg / --html

    def console(self) -> Any:
        """The console for the result, on stdout."""
        console = _console_class()(
            file=NoTrailingSpaces(sys.stdout),
            **self._colours(),
            highlight=False,
            emoji=False,  # we print ⚠ and ✓ ourselves; :name: codes would only cost an import
            soft_wrap=False,
            record=self.record,
        )
        if not console.is_terminal and "COLUMNS" not in os.environ:
            console.width = PIPE_WIDTH  # a pipe or file: keep table rows on one line each
        return console

    def stderr_console(self) -> Any:
        """The console for everything that is not the result; its lines are never wrapped."""
        return _console_class()(
            file=sys.stderr,
            **self._colours(),
            highlight=False,
            emoji=False,
            soft_wrap=True,
        )

    def _no_color(self) -> bool:
        return self.color is False or (self.color is None and bool(os.environ.get("NO_COLOR")))

    def _colours(self) -> Dict[str, Any]:
        """--no-color and NO_COLOR: no escape sequence at all (rich's no_color keeps bold and dim)."""
        if self._no_color():
            return {"color_system": None}
        return {"force_terminal": True if self.color else None}

    def show(self, document: Dict[str, Any], render: Callable[..., None], *args: Any) -> None:
        """The result: ``document`` for scripts (an ``envelope``, docs/json.md), or
        ``render(console, *args)`` for people."""
        if self.json:
            json.dump(document, sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            render(self.console(), *args)

    def note(self, line: str) -> None:
        """A line for a person, beside the result (never in it); a script asked for the result only."""
        if not self.json:
            self.stderr_console().print(line, markup=False)

    @contextmanager
    def progress(self, what: str, total: Optional[int] = None) -> Iterator[ProgressLine]:
        """Progress of long work on stderr: a rich bar on a terminal; nothing on a pipe or with
        --json, where only the result is wanted."""
        shown = not self.json and sys.stderr.isatty()
        line = ProgressLine(self.stderr_console, shown, what, total, plain=self._no_color())
        try:
            yield line
        finally:
            line.close()


class ProgressLine:
    """One transient progress bar, started at the first report: work that reports nothing (a live
    `try`) shows nothing. Without colour (``plain``) a bar's cursor codes are escape sequences
    too, so plain lines say the same: each new phase, and the count every few seconds."""

    WARNING = "warning:"  # the library's progress lines that must stay, wherever stderr goes
    PLAIN_EVERY = 2.0  # seconds between plain count lines

    def __init__(
        self, console: Callable[[], Any], shown: bool, what: str, total: Optional[int], plain: bool = False
    ) -> None:
        self.make_console, self.shown, self.what, self.total = console, shown, what, total
        self.plain = plain
        self.console: Any = None  # made at the first line shown: rich is not imported for silent work
        self.bar: Any = None
        self.task: Any = None
        self.closed = False
        self.done = 0
        self.text: Optional[str] = None
        self.said_at = 0.0

    def advance(self, n: int = 1) -> None:
        """``n`` more units of the total done."""
        self.done += n
        if self._started():
            self.bar.advance(self.task, n)

    def update(self, done: Optional[int] = None, total: Optional[int] = None, text: Optional[str] = None) -> None:
        """Where the work is: units done, a new total, what it is doing now."""
        if total is not None:
            self.total = total
        if done is not None:
            self.done = done
        changed = text is not None and text != self.text
        self.text = text if text is not None else self.text
        if self._started():
            description = f"{self.what} · {text}" if text else self.what
            self.bar.update(self.task, completed=done, total=self.total, description=description)
        elif self.plain and self.shown and not self.closed:
            self._plain_line(force=changed)

    def say(self, line: str) -> None:
        """A line from the library about its current step: shown in the bar; a warning stays."""
        if line.startswith(self.WARNING):
            self._console().print(line, markup=False)
        else:
            self.update(text=line)

    def _plain_line(self, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self.said_at < self.PLAIN_EVERY:
            return
        self.said_at = now
        count = f"{self.done} of {self.total}" if self.total else (str(self.done) if self.done else "")
        parts = [part for part in (self.text, count) if part]
        self._console().print(f"{self.what}: {', '.join(parts)}" if parts else f"{self.what} …", markup=False)

    def _started(self) -> bool:
        """Whether the bar is drawn (started now, at the first report)."""
        if self.plain and self.shown and not self.closed:
            self._plain_line(force=False)
            return False
        if not self.shown or self.closed:
            return False
        if self.bar is None:
            self.bar = _progress_bar(self._console())
            self.bar.start()
            self.task = self.bar.add_task(self.what, total=self.total)
        return True

    def _console(self) -> Any:
        if self.console is None:
            self.console = self.make_console()
        return self.console

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
        self.closed = True


def _progress_bar(console: Any) -> Any:
    """Without a total (a vm download, the demo's phases) the bar pulses and the share is blank."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    return Progress(*columns, console=console, transient=True)


class NoTrailingSpaces:
    """stdout without the spaces rich pads lines with: piped output stays diff- and grep-friendly."""

    TRAILING = re.compile(r" +(?=\n)")

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(self.TRAILING.sub("", text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@functools.cache
def _console_class() -> Any:
    """rich's Console, except that a closed pipe reaches main() (rich would exit 1 by itself)."""
    from rich.console import Console

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError

    return PipeConsole


def output_options(*contradicting_json: str) -> Callable[[F], F]:
    """``--json`` and ``--color/--no-color``, handed to the command as one ``output: Output``.

    ``contradicting_json`` names (by parameter name) the command's own options that make no sense
    with --json (another format, a file of the human output): given together they are refused.
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def command(*args: Any, as_json: bool, color: Optional[bool], **kwargs: Any) -> Any:
            refuse_together({"as_json": as_json, **kwargs}, "as_json", *contradicting_json)
            return func(*args, output=Output(json=as_json, color=color), **kwargs)

        with_color = click.option(
            "--color/--no-color",
            default=None,
            help="Force colours on or off (default: when a terminal; NO_COLOR is honoured).",
        )(command)
        with_json = click.option("--json", "as_json", is_flag=True, help="Print one JSON document (docs/json.md).")
        return with_json(with_color)  # type: ignore[return-value]

    return decorate


def refuse_together(given: Dict[str, Any], first: str, *others: str) -> None:
    """Options that contradict each other, by parameter name: when ``first`` and one of ``others``
    are both given, exit 2 with one line naming both."""
    if not given.get(first):
        return
    for other in others:
        if given.get(other):
            raise click.UsageError(f"{option_name(first)} and {option_name(other)} exclude each other: choose one")


def option_name(param: str) -> str:
    """How the user wrote the option a parameter stands for: "as_csv" → "--csv"."""
    command = click.get_current_context().command
    found = next((p for p in command.params if p.name == param), None)
    return found.opts[0] if found is not None else f"--{param.replace('_', '-')}"
