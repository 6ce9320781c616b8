"""Run the console examples in the documentation, and keep their outputs true.

A console example is a fenced block whose info string starts with ``console``::

    ```console
    $ mremapctl try --memfd --dontunmap --backend sim --kernel 5.12
    ...the exact output...
    ```

Every line that starts with ``$ `` is a command; the lines up to the next command (or the end
of the block) are its output. A command must be ``mremapctl …``, optionally followed by
``| head -n N`` (keep the first N lines of stdout) and/or ``; echo $?`` (print the exit status
as a last line). Without ``echo $?`` the command must exit 0. The commands of one block run in
order, in one fresh temporary directory, so a block may save a scenario and run it; blocks are
independent of each other.

A block marked ```` ```console {illustrative} ```` is an example that is not run (a full
survey, a timing); the test allows at most two of them.

The CLI runs in-process, through ``mremapctl.cli.main``, with the console a pipe gets:
``COLUMNS=132`` and ``NO_COLOR=1``. Before comparing, both sides are normalised for what
legitimately changes from run to run (see ``normalise``).

Used by ``scripts/update_docs.py`` (rewrite the outputs), ``scripts/gen_docs.py`` (fill the
examples of the generated pages) and ``tests/test_docs.py`` (fail when an output is stale).
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
ENV = {"COLUMNS": "132", "NO_COLOR": "1"}
MAX_ILLUSTRATIVE = 2

_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<info>.*?)\s*$")
_COMMAND = re.compile(
    r"^\$ (?P<cli>mremapctl(?:\s.*?)?)(?:\s*\|\s*head -n (?P<head>\d+))?(?P<status>\s*;\s*echo \$\?)?\s*$"
)

# -- what legitimately varies ----------------------------------------------------------------

# Addresses the kernel chooses (a MAYMOVE move without FIXED lands near the top of the user
# address space); the lab's addresses are fixed and never match.
_MMAP_ADDRESS = re.compile(r"\b0x7[ef][0-9a-f]{10}\b")
# The running kernel's release: "kernel 6.18.44-fc-v595", a matrix column "6.1.0-18-amd64".
# Model names ("5.13") have two parts and never match.
_RELEASE_AFTER_KERNEL = re.compile(r"(?<=kernel )\d+\.\d+\.\d+\S*")
_RELEASE = re.compile(r"\b\d+\.\d+\.\d+-[\w.+~-]+")
# "116 experiments in 0.01 s (9,639/s)", "580 live experiments in 3.4 s"
_TIMING = re.compile(r"\bin \d+(?:\.\d+)? s\b(?: \([\d,]+/s\))?")
_OTHER_MAPPINGS = re.compile(r"^\d+ other mappings of the process", re.M)
_PID_IN_NAME = re.compile(r"mremapctl\.\d+\.")
_SPACES = re.compile(r" {2,}")


def normalise(text: str, live: bool = False) -> str:
    """The parts of an output that must match, with what varies replaced by placeholders.

    >>> normalise("= 0x7f442d860000  \\n153 other mappings of the process are not shown")
    '= <mmap address>\\n<n> other mappings of the process are not shown'
    >>> normalise("backend live · kernel 6.18.44-fc-v595 · page 4 KiB")
    'backend live · kernel <release> · page 4 KiB'
    >>> normalise("116 experiments in 0.01 s (9,639/s)")
    '116 experiments <time>'

    A live output also has its runs of spaces collapsed, since a placeholder of a different
    width (a longer release string, a pid) moves the columns of a table.
    """
    text = _MMAP_ADDRESS.sub("<mmap address>", text)
    text = _RELEASE_AFTER_KERNEL.sub("<release>", text)
    text = _RELEASE.sub("<release>", text)
    text = _TIMING.sub("<time>", text)
    text = _OTHER_MAPPINGS.sub("<n> other mappings of the process", text)
    text = _PID_IN_NAME.sub("mremapctl.<pid>.", text)
    lines = [line.rstrip() for line in text.splitlines()]
    if live:
        lines = [_SPACES.sub("  ", line) for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


# -- the examples in a Markdown file ----------------------------------------------------------


@dataclass
class Command:
    line: str  # as written after "$ "
    args: List[str]  # for mremapctl, without the program name
    head: Optional[int]  # "| head -n N"
    show_status: bool  # "; echo $?"
    expected: List[str] = field(default_factory=list)  # the output lines in the file

    @property
    def live(self) -> bool:
        return is_live(self.args)


@dataclass
class Block:
    path: Path
    open_line: int  # 0-based index of the opening fence
    close_line: int  # 0-based index of the closing fence
    info: str
    commands: List[Command]

    @property
    def illustrative(self) -> bool:
        return "illustrative" in self.info

    @property
    def live(self) -> bool:
        return any(c.live for c in self.commands)

    @property
    def where(self) -> str:
        try:
            name = str(self.path.relative_to(ROOT))
        except ValueError:
            name = str(self.path)
        return f"{name}:{self.open_line + 1}"


class ExampleError(Exception):
    """A console block that cannot be run as written."""


def is_live(args: Sequence[str]) -> bool:
    """Whether a command runs real syscalls here (and so depends on this machine)."""
    if not args or args[0] not in ("try", "run", "kinds", "matrix", "survey", "demo", "bench"):
        return False
    if any(a in ("--list", "-h", "--help") for a in args):
        return False
    backend = _option(args, "--backend") or "auto"
    if "live" in backend.split(","):
        return True
    if backend != "auto":
        return False
    return _option(args, "--kernel") is None and _option(args, "--kernels") is None


def _option(args: Sequence[str], name: str) -> Optional[str]:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def parse_command(text: str, where: str) -> Command:
    match = _COMMAND.match(text)
    if not match:
        raise ExampleError(
            f"{where}: a console example may only run `mremapctl …` (optionally `| head -n N`, `; echo $?`): {text!r}"
        )
    args = shlex.split(match.group("cli"))[1:]
    head = int(match.group("head")) if match.group("head") else None
    return Command(text[2:], args, head, bool(match.group("status")))


def blocks_in(path: Path, text: Optional[str] = None) -> List[Block]:
    """Every console block of a Markdown file (blocks inside other fences are not examples)."""
    lines = (path.read_text() if text is None else text).splitlines()
    blocks: List[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            if _FENCE.match(lines[i].lstrip()) and lines[i].lstrip().lstrip("`~").startswith("console"):
                raise ExampleError(f"{path}:{i + 1}: a console example must not be indented (it would not be run)")
            i += 1
            continue
        fence, info = opening.group("fence"), opening.group("info")
        close = i + 1
        while close < len(lines) and not (
            lines[close].startswith(fence[0] * len(fence)) and not lines[close].strip(fence[0]).strip()
        ):
            close += 1
        if close >= len(lines):
            raise ExampleError(f"{path}:{i + 1}: a fenced block is never closed")
        if info.split(" ", 1)[0] == "console":
            block = Block(path, i, close, info, [])
            for line in lines[i + 1 : close]:
                if line.startswith("$ "):
                    block.commands.append(parse_command(line, block.where))
                elif block.commands:
                    block.commands[-1].expected.append(line)
                elif line.strip():
                    raise ExampleError(f"{block.where}: output before the first `$ ` command")
            if not block.commands:
                raise ExampleError(f"{block.where}: a console block without a `$ mremapctl …` command")
            blocks.append(block)
        i = close + 1
    return blocks


def doc_files() -> List[Path]:
    """The files whose examples are checked: docs/*.md and the README."""
    return [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]


def all_blocks() -> List[Block]:
    return [block for path in doc_files() for block in blocks_in(path)]


# -- running them -----------------------------------------------------------------------------


def run_cli(args: Sequence[str], cwd: Path) -> Tuple[int, str, str]:
    """mremapctl in this process, with a pipe's console: (exit status, stdout, stderr)."""
    from click.testing import CliRunner

    from mremapctl.cli import main

    before = os.getcwd()
    os.chdir(cwd)
    try:
        with CliRunner().isolation(env=ENV) as streams:
            try:
                main(list(args))
                code = 0
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
            sys.stdout.flush()
            sys.stderr.flush()
            out, err = streams[0].getvalue().decode(), streams[1].getvalue().decode()
    finally:
        os.chdir(before)
    return code, out, err


def output_of(command: Command, cwd: Path) -> List[str]:
    """What a terminal shows for the command: stdout, then stderr, then the status if asked."""
    code, out, err = run_cli(command.args, cwd)
    if code != 0 and not command.show_status:
        raise ExampleError(f"`{command.line}` exited {code} (add `; echo $?` to show a non-zero status):\n{err or out}")
    lines = out.splitlines()
    if command.head is not None:
        lines = lines[: command.head]
    lines += err.splitlines()
    if command.show_status:
        lines.append(str(code))
    lines = [line.rstrip() for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def run_block(block: Block) -> Iterator[Tuple[Command, List[str]]]:
    """Each command of the block with its output now, run in order in one temporary directory."""
    with tempfile.TemporaryDirectory(prefix="mremapctl-docs-") as tmp:
        for command in block.commands:
            yield command, output_of(command, Path(tmp))


def differences(block: Block) -> Optional[str]:
    """None when every output of the block still matches, else a readable diff."""
    reports = []
    for command, actual in run_block(block):
        want = normalise("\n".join(command.expected), command.live)
        got = normalise("\n".join(actual), command.live)
        if want != got:
            diff = difflib.unified_diff(want.splitlines(), got.splitlines(), "in the docs", "now", lineterm="", n=2)
            reports.append(f"$ {command.line}\n" + "\n".join(diff))
    if not reports:
        return None
    return f"{block.where}: the output changed (normalised diff below)\n" + "\n\n".join(reports)


def refreshed(block: Block) -> List[str]:
    """The block's inner lines with every output brought up to date.

    An output that still matches once normalised is kept as written, so a live example does
    not change (new addresses, new timings) each time the docs are updated.
    """
    lines: List[str] = []
    for command, actual in run_block(block):
        same = normalise("\n".join(command.expected), command.live) == normalise("\n".join(actual), command.live)
        lines.append(f"$ {command.line}")
        lines.extend(command.expected if same else actual)
    return lines


def update_text(path: Path, text: str) -> str:
    """The Markdown text with every console example's output brought up to date."""
    lines = text.splitlines()
    for block in reversed(blocks_in(path, text)):
        if not block.illustrative:
            lines[block.open_line + 1 : block.close_line] = refreshed(block)
    return "\n".join(lines) + "\n"


def recorded_release() -> Optional[str]:
    """The kernel release the live examples were recorded on, as the docs show it."""
    for block in all_blocks():
        for command in block.commands:
            if not command.live:
                continue
            for line in command.expected:
                found = _RELEASE_AFTER_KERNEL.search(line) or _RELEASE.search(line)
                if found:
                    return found.group(0)
    return None


def same_series(a: str, b: str) -> bool:
    """6.18.44-fc-v595 and 6.18.0-1-amd64 are the same series (the models go by MAJOR.MINOR)."""
    return a.split(".")[:2] == b.split(".")[:2]
