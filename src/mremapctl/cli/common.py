"""Options shared by the commands that run experiments (``try``, ``run``)."""

from __future__ import annotations

from typing import Any, Callable, List, TypeVar

import click

from mremapctl.cli import complete
from mremapctl.cli.output import output_options
from mremapctl.cli.params import SECONDS, OutputFile, ScenarioValue
from mremapctl.lab import LAB_SIZE, lab_size

F = TypeVar("F", bound=Callable[..., Any])


def vm_target_options() -> List[Callable[[F], F]]:
    """--arch and --page-size: the machine the simulation models, or the Debian flavour the vm boots."""
    return [
        click.option(
            "--arch",
            metavar="ARCH",
            help="The machine's architecture, amd64 or arm64: simulated, or the vm's guest. [default: this machine's]",
        ),
        click.option(
            "--page-size",
            metavar="SIZE",
            help="Its page size: 4K, 16K or 64K (arm64) for the simulation; 4K or 16K (Debian's arm64-16k) for vm. "
            "[default: the architecture's smallest]",
        ),
    ]


def vm_target(func: F) -> F:
    """The --arch and --page-size options, for commands with their own --backend."""
    for option in reversed(vm_target_options()):
        func = option(func)
    return func


def run_options(func: F) -> F:
    """How to run an experiment (backend, kernel, time-out, force, full maps) and how to show it
    (--explain, --smaps, --show-c, tables, picture, --svg, --html, and the output options; --json
    refuses the options that shape the human output)."""
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
            "--lab-size",
            type=ScenarioValue(lab_size, "SIZE"),
            default=f"{LAB_SIZE >> 30}G",
            show_default=True,
            help="The reserved address range regions are placed in (live and sim): larger for regions over 16G.",
        ),
        click.option(
            "--kernel",
            metavar="VERSION",
            shell_complete=complete.kernels,
            help="The kernel to simulate, e.g. 5.12 or 6.18.8 (default: this machine's, else the newest, 7.3).",
        ),
        *vm_target_options(),
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
            "--smaps",
            is_flag=True,
            help="Also show each range's memory as smaps counts it: Rss, Pss, Swap, Locked, AnonHugePages, "
            "before → after (the JSON always has them).",
        ),
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
            help="Print the tables: maps, memory, contents (without: the calls and the picture only).",
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
    return output_options("show_c", "svg", "html")(func)
