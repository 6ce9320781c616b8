"""A survey: this machine's live matrix against every kernel model.

"Behaves like" is the newest model with no deviation, or failing that the model with the
fewest (the newest of those); each deviation is one cell where live and model answer
differently, with the rule the model applied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mremapctl.errors import BadInput
from mremapctl.survey.matrix import Cell

Key = Tuple[str, str, Tuple[str, ...], str]


@dataclass(frozen=True)
class Deviation:
    cell: Key
    live: str
    model: str
    rule: Optional[str]

    def to_json(self) -> Dict[str, Any]:
        kind, variant, flags, size = self.cell
        return {
            "kind": kind,
            "variant": variant,
            "flags": list(flags),
            "size_rel": size,
            "live": self.live,
            "model": self.model,
            "rule": self.rule,
        }


@dataclass
class Survey:
    kernel: str
    behaves_like: str
    exact: bool  # zero deviations from that model
    deviations: List[Deviation]
    per_model: Dict[str, int]  # model -> deviations
    unavailable: Dict[str, str]  # kind -> why
    cells: List[Cell] = field(default_factory=list)
    seconds: float = 0.0
    cut_short: str = ""  # "interrupted after N of M experiments": the verdict is partial

    def to_json(self) -> Dict[str, Any]:
        return {
            "tool": "mremapctl",
            "schema": 1,
            "kind": "survey",
            "kernel": self.kernel,
            "behaves_like": self.behaves_like,
            "exact": self.exact,
            "deviations": [d.to_json() for d in self.deviations],
            "per_model": self.per_model,
            "unavailable": [{"kind": k, "reason": v} for k, v in self.unavailable.items()],
            "experiments": len(self.cells),
            "interrupted": bool(self.cut_short),
            "cut_short": self.cut_short or None,
            "seconds": round(self.seconds, 3),
            "cells": [c.to_json() for c in self.cells],
        }


def compared(cell: Cell) -> bool:
    return cell.result not in ("unavailable", "failed")


def deviations(live: Sequence[Cell], model: Sequence[Cell]) -> List[Deviation]:
    predicted = {c.key: c for c in model}
    out = []
    for cell in live:
        other = predicted.get(cell.key)
        if other is None or not compared(cell):
            continue
        if cell.answer != other.answer:
            out.append(Deviation(cell.key, cell.answer, other.answer, other.rule))
    return out


def survey(
    kernel: str, live: List[Cell], models: Dict[str, List[Cell]], seconds: float = 0.0, cut_short: str = ""
) -> Survey:
    """Compare the live cells with each model's (models in ascending version order)."""
    found = {name: deviations(live, cells) for name, cells in models.items()}
    per_model = {name: len(d) for name, d in found.items()}
    exact = [name for name, count in per_model.items() if count == 0]
    if exact:
        best = exact[-1]
    else:
        fewest = min(per_model.values())
        best = [name for name, count in per_model.items() if count == fewest][-1]
    unavailable = {c.kind: (c.reason or c.result) for c in live if c.result == "unavailable" and c.variant == "plain"}
    return Survey(kernel, best, bool(exact), found[best], per_model, unavailable, live, seconds, cut_short)


def load_survey(path: Path) -> Dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except OSError as err:
        raise BadInput(f"cannot read {str(path)!r}: {err.strerror}") from None
    except json.JSONDecodeError as err:
        raise BadInput(f"{str(path)!r} is not JSON: {err.msg} (line {err.lineno})") from None
    if not isinstance(data, dict) or data.get("tool") != "mremapctl" or data.get("kind") != "survey":
        raise BadInput(f"{str(path)!r} is not a mremapctl survey (make one with `mremapctl survey --json`)")
    return data


def compare_surveys(a: Dict[str, Any], b: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Cells whose answers differ between two machines' surveys."""

    def answers(data: Dict[str, Any]) -> Dict[Key, str]:
        return {Cell.from_json(c).key: Cell.from_json(c).answer for c in data.get("cells", [])}

    left, right = answers(a), answers(b)
    out = []
    for key in left:
        if key in right and left[key] != right[key]:
            kind, variant, flags, size = key
            out.append(
                {
                    "kind": kind,
                    "variant": variant,
                    "flags": list(flags),
                    "size_rel": size,
                    "a": left[key],
                    "b": right[key],
                }
            )
    return out
