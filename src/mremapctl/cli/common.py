"""Options shared by the commands that run experiments, and the consoles they print to."""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from dataclasses import dataclass
from typing import Any, Callable, Optional, TypeVar

import click

from mremapctl.cli.params import SECONDS, OutputFile

F = TypeVar("F", bound=Callable[..., Any])

PIPE_WIDTH = 132


@dataclass
class Output:
    """Where and how to print: rich for people, JSON for scripts (stdout only)."""

    json: bool
    color: Optional[bool]
    width: Optional[int] = None
    record: bool = False  # keep what is printed, for --svg / --html

    def console(self) -> Any:
        no_color = self.color is False or (self.color is None and bool(os.environ.get("NO_COLOR")))
        console = _console_class()(
            file=NoTrailingSpaces(sys.stdout),
            no_color=no_color,
            force_terminal=True if self.color else None,
            width=self.width,
            highlight=False,
            soft_wrap=False,
            record=self.record,
        )
        if self.width is None and not console.is_terminal and "COLUMNS" not in os.environ:
            console.width = PIPE_WIDTH  # a pipe or file: keep table rows on one line each
        return console

    def emit_json(self, data: Any) -> None:
        json.dump(data, sys.stdout, indent=2)
        sys.stdout.write("\n")


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


def run_options(func: F) -> F:
    """--json, --color, --timeout, --force, --full-maps: how to run and show an experiment."""
    options = [
        click.option(
            "--backend",
            type=click.Choice(["auto", "live", "sim", "vm"]),
            default="auto",
            show_default=True,
            help="live: real syscalls here; sim: a model of --kernel; vm: a real Debian --kernel under qemu; "
            "auto: live when possible.",
        ),
        click.option(
            "--kernel",
            metavar="VERSION",
            help="The kernel to simulate, e.g. 5.12 (default: this machine's, else the newest model).",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print the run as JSON (schema 1) instead of tables."),
        click.option(
            "--color/--no-color",
            default=None,
            help="Force colours on or off (default: when a terminal; NO_COLOR is honoured).",
        ),
        click.option(
            "--timeout",
            type=SECONDS,
            default=10.0,
            show_default=True,
            metavar="SECONDS",
            help="Kill an experiment's child that runs longer than this.",
        ),
        click.option("--force", is_flag=True, help="Populate memory beyond the safe share of MemAvailable."),
        click.option("--full-maps", is_flag=True, help="Show every mapping of the process, not only the lab's."),
        click.option(
            "--explain",
            "explain",
            is_flag=True,
            help="After each step, a few sentences on what the kernel did and why (for students).",
        ),
        click.option(
            "--show-c",
            is_flag=True,
            help="Print the experiment as a complete C program (cc -O2 -o exp exp.c && ./exp) instead of running it.",
        ),
        click.option(
            "--tables/--no-tables",
            default=True,
            show_default=True,
            help="Print the maps tables (without: the calls and the picture only).",
        ),
        click.option(
            "--picture/--no-picture",
            default=True,
            show_default=True,
            help="Draw the lab as a band of regions, before and after.",
        ),
        click.option(
            "--svg",
            type=OutputFile(),
            metavar="FILE",
            help="Also save the whole output as an SVG image (for slides).",
        ),
        click.option(
            "--html",
            type=OutputFile(),
            metavar="FILE",
            help="Also save the whole output as an HTML page.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func
