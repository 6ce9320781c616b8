"""Errors of the vm backend, each one line a user can act on.

They derive from the package's error classes so the CLI prints them as one line
(exit 1 for "can't be done here", exit 2 for a kernel spec we refuse).
"""

from __future__ import annotations

from mremapctl.errors import BadInput, Unavailable


class VMError(Unavailable):
    """Base: booting a kernel under qemu did not work out."""


class PrerequisiteError(VMError):
    """A host tool is missing; the message says what to install."""


class MirrorUnavailable(VMError):
    """The Debian mirrors could not be reached and nothing usable is cached."""


class FetchFailed(VMError):
    """A downloaded package could not be unpacked or prepared; nothing of it was kept."""


class KernelNotFound(BadInput):
    """No Debian kernel package matches the requested spec."""


class UnsupportedKernel(BadInput):
    """The kernel exists but cannot host a run here (e.g. no 9p in the cloud flavour)."""


class GuestTimeout(VMError):
    """The VM ran past its time-out and was killed."""

    def __init__(self, message: str, console_tail: str = "", seconds: float = 0.0) -> None:
        super().__init__(message)
        self.console_tail = console_tail
        self.seconds = seconds


class GuestCrashed(VMError):
    """The VM stopped without reporting the command's exit status."""

    def __init__(self, message: str, console_tail: str = "") -> None:
        super().__init__(message)
        self.console_tail = console_tail
