"""Find out which kinds a backend can make, and the VmFlags each gets (``mremapctl kinds``)."""

from __future__ import annotations

from typing import List, Optional, Tuple

from mremapctl.backends.base import Backend
from mremapctl.errors import Unavailable
from mremapctl.frozen import frozen
from mremapctl.kinds import KINDS
from mremapctl.primitives import RunOptions
from mremapctl.scenario.load import Scenario
from mremapctl.scenario.steps import Mmap


@frozen
class KindProbe:
    """One kind, mapped once: its VmFlags and path, or why it cannot be made here."""

    kind: str
    summary: str
    available: bool = False
    reason: Optional[str] = None
    vm_flags: Optional[Tuple[str, ...]] = None
    path: Optional[str] = None


def probe_kinds(backend: Backend) -> List[KindProbe]:
    return [_probe(backend, name, kind.summary) for name, kind in KINDS.items()]


def _probe(backend: Backend, name: str, summary: str) -> KindProbe:
    try:
        run = backend.run(Scenario((Mmap(name="probe", kind=name),)), RunOptions(per_step_maps=False))
    except Unavailable as err:
        return KindProbe(name, summary, reason=str(err))
    step = run.steps[0] if run.steps else None
    if step is None or not step.ok:
        return KindProbe(name, summary, reason=f"mmap failed: {step.errno if step else run.failure}")
    entry = next((e for e in run.maps_after if e.label == "probe"), None)
    if entry is None:
        return KindProbe(name, summary, available=True)
    return KindProbe(name, summary, True, vm_flags=tuple(entry.vm_flags or ()), path=entry.path)
