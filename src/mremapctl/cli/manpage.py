"""``mremapctl.1``, the manual page, written from the commands' own help: one page, a section per
command, so it says what ``--help`` says and cannot drift from it (a test compares the shipped page
with a fresh one; ``scripts/update_docs.py`` rewrites it)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Iterator, List, Optional

import click

from mremapctl import __version__

MANPAGE = Path(__file__).resolve().parents[1] / "man" / "mremapctl.1"  # shipped; installed to share/man/man1

SEE_ALSO = r"\fBmremap\fR(2), \fBmmap\fR(2), \fBuserfaultfd\fR(2), \fBproc\fR(5), \fBpmap\fR(1), \fBstrace\fR(1)"

EXIT_STATUS = [
    ("0", "The run was carried out; a call that returned an errno is a result, not a failure."),
    (
        "1",
        "The experiment could not be carried out (a kind unavailable here, a child that died), with one "
        "line saying why; also a --check whose expectations were not met.",
    ),
    ("2", "Bad usage or bad input: one line naming the bad value."),
    ("130", "Interrupted (Ctrl-C); a matrix or survey keeps and prints what it finished."),
]

ENVIRONMENT = [
    ("NO_COLOR", "When set, no colour and no other escape sequence (as --no-color)."),
    ("COLUMNS", "The width tables are fitted to; a pipe gets 132 columns without it."),
    ("CI", "The test suite's: live and vm tests must run rather than skip."),
    ("MREMAPCTL_VM_CACHE", "Where the vm backend keeps the Debian kernels it fetches."),
]


def roff(text: str) -> str:
    """Text as roff reads it literally: backslashes and hyphens escaped, no line read as a request."""
    text = text.replace("\\", r"\e").replace("-", r"\-")
    return "\n".join(r"\&" + line if line.startswith((".", "'")) else line for line in text.split("\n"))


def help_paragraphs(help_text: str) -> Iterator[str]:
    """A command's help as roff: paragraphs refilled, click's \\b blocks (examples) kept as typed."""
    for block in re.split(r"\n\s*\n", inspect.cleandoc(help_text)):
        if block.startswith("\b"):
            lines = block.split("\n")[1:]
            yield ".PP\n.nf\n" + roff("\n".join(line.rstrip() for line in lines)) + "\n.fi"
        else:
            yield ".PP\n" + roff(" ".join(block.split()))


def options(command: click.Command, ctx: click.Context) -> List[str]:
    out = []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx) if isinstance(param, click.Option) else None
        if record is None:  # hidden, or an argument (the synopsis names those)
            continue
        names, text = record
        out += [".TP", rf"\fB{roff(names)}\fR", roff(" ".join(text.split()))]
    return out


def context(command: click.Command, name: str, parent: Optional[click.Context] = None) -> click.Context:
    """A context as running the command makes one: its settings (-h beside --help) apply."""
    return click.Context(command, parent=parent, info_name=name, **command.context_settings)


def section(command: click.Command, ctx: click.Context, path: str) -> List[str]:
    """One command: its synopsis, its help, its options; a group's subcommands follow it."""
    usage = " ".join(command.collect_usage_pieces(ctx))
    lines = [f'.SS "{roff(path)}"', rf"\fB{roff(path)}\fR {roff(usage)}"]
    lines += help_paragraphs(command.help or command.short_help or "")
    lines += options(command, ctx)
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                lines += section(sub, context(sub, name, ctx), f"{path} {name}")
    return lines


def manual() -> str:
    """The page: NAME, SYNOPSIS, DESCRIPTION (the group's help and options), COMMANDS (each
    command's help and options, but not the internal ones, which have no summary), EXIT STATUS,
    ENVIRONMENT, SEE ALSO."""
    from mremapctl.cli import COMMANDS, cli

    ctx = context(cli, "mremapctl")
    listed = [name for name in cli.list_commands(ctx) if COMMANDS[name][2]]
    lines = [
        f'.TH MREMAPCTL 1 "" "mremapctl {__version__}" "User Commands"',
        ".SH NAME",
        r"mremapctl \- explore Linux mremap(2): map, remap, see the maps diff and the errno",
        ".SH SYNOPSIS",
        r"\fBmremapctl\fR [\fIOPTIONS\fR] \fICOMMAND\fR [\fIARGS\fR]...",
        ".SH DESCRIPTION",
        *help_paragraphs(cli.help or ""),
        *options(cli, ctx),
        ".SH COMMANDS",
    ]
    for name in listed:
        command = cli.get_command(ctx, name)
        if command is not None:
            lines += section(command, context(command, name, ctx), f"mremapctl {name}")
    lines.append(".SH EXIT STATUS")
    for code, text in EXIT_STATUS:
        lines += [".TP", rf"\fB{code}\fR", roff(text)]
    lines.append(".SH ENVIRONMENT")
    for name, text in ENVIRONMENT:
        lines += [".TP", rf"\fB{roff(name)}\fR", roff(text)]
    lines += [".SH SEE ALSO", SEE_ALSO, ""]
    return "\n".join(lines)
