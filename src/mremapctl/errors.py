"""The failures a user can be told about, mapped onto the exit-code contract, and the Ctrl-C
that carries the runs a batch finished."""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

if TYPE_CHECKING:
    from mremapctl.results import Run


class MremapctlError(Exception):
    """Base of every error the CLI reports as one line instead of a traceback."""

    exit_code = 1


class BadInput(MremapctlError):
    """The user gave a value we refuse (exit 2): the message names the value."""

    exit_code = 2


class Unavailable(MremapctlError):
    """The experiment cannot be carried out here (exit 1), e.g. a kind this kernel lacks."""

    exit_code = 1


class Interrupted(MremapctlError):
    """Ctrl-C, after a partial report was printed (exit 130, as the shell reports a SIGINT)."""

    exit_code = 130


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C during a backend's batch: carries the runs, by scenario index (None: not finished)."""

    def __init__(self, runs: List[Optional[Run]]) -> None:
        super().__init__()
        self.runs = runs
