"""Pick the backend a command asked for, importing only that one."""

from __future__ import annotations

import sys

from mremapctl.backends.base import Backend
from mremapctl.errors import Unavailable

BACKENDS = ("live",)


def open_backend(name: str = "live") -> Backend:
    if name == "live":
        if not sys.platform.startswith("linux"):
            raise Unavailable(f"live backend unavailable: this is {sys.platform}, not Linux")
        from mremapctl.backends.live.runner import LiveBackend

        return LiveBackend()
    raise Unavailable(f"unknown backend {name!r} (known: {', '.join(BACKENDS)})")
