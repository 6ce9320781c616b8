"""A survey: this machine's live matrix and the lessons against every kernel model.

"Behaves like" is the model with no deviation (the kernel's own when it is one of them, else the
newest), or failing that the model with the fewest (the newest of those); each deviation is one
cell where live and model answer differently, with the rule the model applied, or one lesson
step that answers differently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mremapctl.errors import BadInput, Interrupted
from mremapctl.frozen import frozen
from mremapctl.kinds import KINDS
from mremapctl.survey import grid
from mremapctl.survey.lessons import Answers, StepDeviation, run_lessons, step_deviations
from mremapctl.survey.matrix import Advance, Cell

Key = Tuple[str, str, Tuple[str, ...], str]


@frozen
class Deviation:
    cell: Key
    live: str
    model: str
    rule: Optional[str]


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
    step_deviations: List[StepDeviation] = field(default_factory=list)  # lessons that answer otherwise


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
    kernel: str,
    live: List[Cell],
    models: Dict[str, List[Cell]],
    seconds: float = 0.0,
    cut_short: str = "",
    lessons: Optional[Tuple[Dict[str, Answers], Dict[str, Dict[str, Answers]]]] = None,
) -> Survey:
    """Compare the live cells (and lesson answers: here, per model) with each model's (models in
    ascending version order)."""
    found = {name: deviations(live, cells) for name, cells in models.items()}
    steps = {name: step_deviations(lessons[0], lessons[1][name]) if lessons else [] for name in models}
    per_model = {name: len(found[name]) + len(steps[name]) for name in models}
    exact = [name for name, count in per_model.items() if count == 0]
    own = _own_model(kernel)
    if exact:
        best = own if own in exact else exact[-1]
    else:
        fewest = min(per_model.values())
        best = [name for name, count in per_model.items() if count == fewest][-1]
    unavailable = {c.kind: (c.reason or c.result) for c in live if c.result == "unavailable" and c.variant == "plain"}
    result = Survey(kernel, best, bool(exact), found[best], per_model, unavailable, live, seconds, cut_short)
    result.step_deviations = steps[best]
    return result


def _own_model(kernel: str) -> Optional[str]:
    """The name of the model that stands for ``kernel`` (None for a string that is no version)."""
    from mremapctl.kernel import model_for, parse_version

    try:
        return model_for(parse_version(kernel)).name
    except BadInput:
        return None


def run_survey(backend: Any, parallel: Optional[int] = None, progress: Optional[Advance] = None) -> Survey:
    """The whole grid on ``backend``, then through every model; Ctrl-C during the live part keeps
    a partial survey (its ``cut_short`` says so), during the models there is no verdict at all."""
    from mremapctl.backends.select import open_sim
    from mremapctl.kernel import models as every_model
    from mremapctl.survey.matrix import run_matrix

    rows, columns = _grid()
    matrix = run_matrix([backend], rows, columns, progress, parallel)
    here = run_lessons(backend) if not matrix.cut_short else {}
    models, lessons = {}, {}
    for model in every_model():
        sim = open_sim(model.name)
        predicted = run_matrix([sim], rows, columns, progress)
        if predicted.interrupted:  # a partial model would hide deviations
            raise Interrupted(f"interrupted while comparing with the {model.name} model; no verdict")
        models[model.name] = predicted.cells
        lessons[model.name] = run_lessons(sim) if here else {}
    kernel = getattr(backend, "kernel_version", None) or backend.kernel
    return survey(kernel, matrix.cells, models, matrix.seconds, matrix.cut_short, (here, lessons))


def planned_experiments() -> int:
    """How many experiments :func:`run_survey` runs: the grid live, and once per model."""
    from mremapctl.kernel import models

    rows, columns = _grid()
    return len(rows) * len(columns) * (1 + len(models()))


def _grid() -> Tuple[List[grid.Row], Sequence[grid.Column]]:
    """Every kind in every variant, against every column."""
    return grid.rows_for(list(KINDS), grid.VARIANTS), grid.COLUMNS


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
