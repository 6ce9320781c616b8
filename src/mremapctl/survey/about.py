"""What a survey says about the machine it ran on: what a bug report needs (the tool, the
architecture, the page size, the syscall layer, the kernel and the config facts mremap's answers
depend on, the date and the exact command), and a label that tells machines apart in a fleet.

Config facts come from what the machine did rather than from a config file a target may lack:
secretmem and mseal from the survey's own experiments, soft-dirty from this process's VmFlags.
"""

from __future__ import annotations

import platform
import shlex
import socket
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any, Dict, Optional, Sequence

from mremapctl import __version__
from mremapctl.frozen import frozen
from mremapctl.kinds import KINDS
from mremapctl.survey.matrix import Cell


@frozen
class Machine:
    """One surveyed machine; None where this backend cannot tell (a vm guest, a model)."""

    hostname: str
    kernel: str
    backend: str  # live | vm | sim
    architecture: Optional[str]
    page_size: int
    syscall_layer: Optional[str]  # "cffi" or "ctypes": how this process makes its syscalls
    soft_dirty: Optional[bool]  # CONFIG_MEM_SOFT_DIRTY: new mappings carry VmFlag sd (it decides merges)
    secretmem: Optional[bool]  # memfd_secret() works (5.14+, on by default from 6.5)
    mseal: Optional[bool]  # mseal() exists (6.10+)
    tool_version: str
    date: str  # UTC, ISO 8601
    command: str

    @property
    def label(self) -> str:
        """How a fleet comparison heads this machine's column."""
        return f"{self.hostname} · {self.kernel}"

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> Machine:
        known: Dict[str, Any] = {name: data.get(name) for name in cls.__dataclass_fields__}
        return cls(**known)


def describe(backend: Any, cells: Sequence[Cell], argv: Sequence[str]) -> Machine:
    """The machine ``backend`` surveyed, from the backend and the survey's ``cells``."""
    live = backend.name == "live"
    host = socket.gethostname()
    hostname = {"live": host, "vm": f"qemu on {host}", "sim": "model"}.get(backend.name, backend.name)
    return Machine(
        hostname=hostname,
        kernel=backend.kernel,
        backend=backend.name,
        architecture=platform.machine() if backend.name in ("live", "vm") else None,
        page_size=backend.page_size,
        syscall_layer=getattr(getattr(backend, "sys", None), "flavour", None) if live else None,
        soft_dirty=own_soft_dirty() if live else None,
        secretmem=_works(cells, lambda c: KINDS[c.kind].secret and c.variant == "plain"),
        mseal=_works(cells, lambda c: c.variant == "sealed"),
        tool_version=__version__,
        date=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        command=shlex.join(["mremapctl", *argv]),
    )


def _works(cells: Sequence[Cell], which: Any) -> Optional[bool]:
    """Whether the experiments ``which`` picks could be set up here; None when none ran."""
    chosen = [c for c in cells if which(c)]
    if not chosen:
        return None
    return any(c.result != "unavailable" for c in chosen)


def own_soft_dirty() -> Optional[bool]:
    """With CONFIG_MEM_SOFT_DIRTY every new mapping carries VmFlag sd: this process's show it."""
    try:
        with open("/proc/self/smaps") as f:
            flags = [line.split()[1:] for line in f if line.startswith("VmFlags:")]
    except OSError:
        return None
    return any("sd" in line for line in flags) if flags else None
