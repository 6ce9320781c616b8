"""Find out which kinds a backend can make, and the VmFlags each gets (``mremapctl kinds``)."""

from __future__ import annotations

from typing import Any, Dict, List

from mremapctl.backends.base import Backend, RunOptions
from mremapctl.errors import Unavailable
from mremapctl.kinds import KINDS
from mremapctl.scenario.load import Scenario
from mremapctl.scenario.steps import Mmap


def probe_kinds(backend: Backend) -> List[Dict[str, Any]]:
    rows = []
    for name, kind in KINDS.items():
        row: Dict[str, Any] = {
            "kind": name,
            "summary": kind.summary,
            "available": False,
            "reason": None,
            "vm_flags": None,
            "path": None,
        }
        try:
            run = backend.run(Scenario((Mmap(name="probe", kind=name),)), RunOptions(per_step_maps=False))
        except Unavailable as err:
            row["reason"] = str(err)
            rows.append(row)
            continue
        step = run.steps[0] if run.steps else None
        if step is None or not step.ok:
            row["reason"] = f"mmap failed: {step.errno if step else run.failure}"
        else:
            entries = [e for e in run.maps_after if e.label == "probe"]
            row["available"] = True
            row["vm_flags"] = list(entries[0].vm_flags or ()) if entries else None
            row["path"] = entries[0].path if entries else None
        rows.append(row)
    return rows
