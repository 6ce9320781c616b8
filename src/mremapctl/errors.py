"""The two kinds of failure a user can be told about, mapped onto the exit-code contract."""

from __future__ import annotations


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
