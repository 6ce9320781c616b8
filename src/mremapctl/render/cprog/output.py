"""The lines a generated program prints, defined once: for its header comment and for parsing.

Each step prints one line on stdout, in order::

    step <n> <op> <outcome> [<details>]

``<outcome>`` is what ``StepResult.outcome`` says for the same step: ``ok``, the errno name
the call failed with (``EINVAL``), ``skipped`` (the step needs a region whose creating step
failed, so it did not run), or for a write the first fault (``SIGSEGV``). Details:

- ``mmap`` / ``mremap`` that worked: the address the call returned, in hex (``0x100000000000``);
- ``read``: one result per page touched — ``data:<c>``, ``data:0xNN``, ``zero``, ``SIGSEGV``,
  ``SIGBUS``, ``uffd`` (blocked in a userfaultfd), or ``error:<errno>``;
- ``write``: one result per page — ``ok``, ``SIGSEGV``, ``SIGBUS`` or ``error:<n>``.

Results are separated by one space. A page holding a space byte reads ``data: `` (the
tool's own word for it), so split the results with ``RESULT`` rather than on spaces.
Messages go to stderr. Exit status: 0 the experiment ran (an errno is a result), 1 it
could not be carried out here, 2 bad input — the tool's own exit codes.
"""

from __future__ import annotations

import re
from typing import List, Optional

from mremapctl.frozen import frozen

# One page result, then a separator (a space, or the end of the line).
RESULT = re.compile(r"(data:0x[0-9a-f]{2}|data:.|zero|SIGSEGV|SIGBUS|uffd|ok|error:\w+)(?: |$)")
_LINE = re.compile(r"step (\d+) (\w+) (\S+)(?: (.*))?$")

FORMAT_LINES = (
    "Output, one line per step:  step <n> <op> <outcome> [<details>]",
    "  <outcome>: ok, the errno name (EINVAL ...), skipped (a region it needs was not created),",
    "             or for a write the first page's fault (SIGSEGV, SIGBUS)",
    "  mmap, mremap: the address returned, in hex",
    "  read:  one result per page: data:<c> data:0xNN zero SIGSEGV SIGBUS uffd",
    "  write: one result per page: ok SIGSEGV SIGBUS",
    "Exit status: 0 the experiment ran (an errno is a result), 1 it could not be carried out",
    "here, 2 bad input: the tool's own exit codes. Messages go to stderr.",
)


@frozen
class ProgramStep:
    """One output line of a generated program."""

    index: int
    op: str
    outcome: str
    address: Optional[int] = None
    pages: Optional[List[str]] = None


def parse_line(line: str) -> ProgramStep:
    """One ``step ...`` line.

    >>> parse_line("step 3 read ok data:A data:  zero").pages
    ['data:A', 'data: ', 'zero']
    >>> parse_line("step 2 mremap ok 0x7f0000000000").address == 0x7F0000000000
    True
    """
    match = _LINE.match(line)
    if not match:
        raise ValueError(f"not a step line: {line!r}")
    index, op, outcome, rest = int(match[1]), match[2], match[3], match[4] or ""
    if op in ("mmap", "mremap") and outcome == "ok":
        return ProgramStep(index, op, outcome, address=int(rest, 16))
    if op in ("read", "write") and outcome != "skipped":
        pages = [m[1] for m in RESULT.finditer(rest)]
        if " ".join(pages) != rest:
            raise ValueError(f"unreadable page results in {line!r}")
        return ProgramStep(index, op, outcome, pages=pages)
    return ProgramStep(index, op, outcome)


def parse_output(stdout: str) -> List[ProgramStep]:
    """Every step line a program printed, in order."""
    return [parse_line(line) for line in stdout.splitlines() if line.startswith("step ")]
