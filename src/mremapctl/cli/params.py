"""Click parameter types over the scenario's converters: one parser for each value.

An option error then names the option and the value (``Invalid value for '--fill-byte':
bad byte '0x100' …``), in the words the scenario loader uses for the same mistake.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Optional

import click

from mremapctl.errors import BadInput
from mremapctl.expr import AddrExpr, SizeExpr

if TYPE_CHECKING:
    from pathlib import Path


class ScenarioValue(click.ParamType):  # type: ignore[type-arg]  # generic only from click 8.2
    """A click type that reads its value with a scenario converter."""

    def __init__(self, convert: Callable[[Any], Any], name: str) -> None:
        self.convert_value = convert
        self.name = name

    def convert(self, value: Any, param: Optional[click.Parameter], ctx: Optional[click.Context]) -> Any:
        try:
            return self.convert_value(value)
        except BadInput as err:
            self.fail(str(err), param, ctx)


def _size(value: Any) -> str:
    return SizeExpr.of(value).text


def _address(value: Any) -> str:
    return AddrExpr.of(value).text


# What an option that takes an optional value (`--fixed`, `--file`) gets when given bare; click
# passes it through the type as well, so the types let exactly this text through.
BARE = "<bare>"


def or_bare(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: value if value == BARE else convert(value)


SIZE = ScenarioValue(_size, "SIZE")
ADDRESS = ScenarioValue(_address, "ADDR")


class OutputFile(click.Path):
    """A file the command will write: its folder must exist and be writable, checked before any
    experiment runs (not after a minute of work)."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False)

    def convert(self, value: Any, param: Optional[click.Parameter], ctx: Optional[click.Context]) -> Any:
        from pathlib import Path  # only when an output file is asked for: pathlib costs 2-3 ms to import

        path = Path(os.fsdecode(super().convert(value, param, ctx)))
        folder = path.parent
        if not folder.is_dir():
            self.fail(f"{str(folder)!r} is not an existing folder", param, ctx)
        if not os.access(folder, os.W_OK):
            self.fail(f"cannot write into {str(folder)!r}", param, ctx)
        return path


def write_text(path: Path, text: str, what: str) -> None:
    """Write an output file; a failure (a full disk, a vanished folder) is one line naming it."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise BadInput(f"cannot write the {what} to {str(path)!r}: {err.strerror}") from None


MAX_SECONDS = 7 * 24 * 3600.0  # beyond a week a time-out is no time-out, and timers overflow


def _seconds(value: Any, zero: bool = False) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise BadInput(f"bad duration {value!r}: expected seconds, such as 10 or 0.5") from None
    if not (seconds >= 0 if zero else seconds > 0) or not seconds <= MAX_SECONDS:  # nan fails both
        least = "0" if zero else "more than 0"
        raise BadInput(f"bad duration {value!r}: give {least} and at most {MAX_SECONDS:g} seconds")
    return seconds


SECONDS = ScenarioValue(_seconds, "SECONDS")
SECONDS_OR_ZERO = ScenarioValue(lambda value: _seconds(value, zero=True), "SECONDS")
