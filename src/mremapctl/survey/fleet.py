"""Saved surveys of several machines (phones, boards, distro kernels) side by side: every
experiment with each machine's answer, and which experiments the machines answer differently."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mremapctl.errors import BadInput
from mremapctl.frozen import frozen
from mremapctl.survey.about import Machine
from mremapctl.survey.matrix import Cell
from mremapctl.survey.survey import Key, load_survey


@frozen
class Surveyed:
    """One saved survey: where it came from, what ran it, and its answer to each experiment."""

    path: Path
    kernel: str
    behaves_like: str
    machine: Optional[Machine]  # None: saved before surveys described their machine
    answers: Dict[Key, str]

    @property
    def label(self) -> str:
        return self.machine.label if self.machine else f"{self.path.stem} · {self.kernel}"


@frozen
class Row:
    experiment: Key
    answers: Tuple[Optional[str], ...]  # one per machine; None: that survey lacks the experiment

    @property
    def differs(self) -> bool:
        return len({a for a in self.answers if a is not None}) > 1


@frozen
class Fleet:
    surveys: List[Surveyed]
    rows: List[Row]  # every experiment any survey has, in the first survey's order

    @property
    def labels(self) -> List[str]:
        """Column heads, made unique: two surveys of one machine and kernel get their file names too."""
        plain = [s.label for s in self.surveys]
        return [
            f"{label} ({s.path.name})" if plain.count(label) > 1 else label for label, s in zip(plain, self.surveys)
        ]

    def changes(self) -> List[Row]:
        return [row for row in self.rows if row.differs]


def read(path: Path) -> Surveyed:
    data = load_survey(path)
    machine = data.get("machine")
    cells = [Cell.from_json(c) for c in data.get("cells", [])]
    return Surveyed(
        path,
        str(data.get("kernel", "?")),
        str(data.get("behaves_like", "?")),
        Machine.from_json(machine) if isinstance(machine, dict) else None,
        {cell.key: cell.answer for cell in cells},
    )


def compare(paths: Sequence[Path]) -> Fleet:
    """The surveys saved in ``paths`` (two or more), experiment by experiment."""
    if len(paths) < 2:
        raise BadInput("--compare needs two or more saved surveys (`mremapctl survey --json > NAME.json` on each)")
    surveys = [read(path) for path in paths]
    order: Dict[Key, None] = {}
    for survey in surveys:
        order.update(dict.fromkeys(survey.answers))
    rows = [Row(key, tuple(s.answers.get(key) for s in surveys)) for key in order]
    return Fleet(surveys, rows)


def experiment_name(key: Key) -> str:
    """ "memfd private: MAYMOVE|DONTUNMAP same" — how a person names one experiment."""
    kind, variant, flags, size = key
    label = kind + ("" if variant == "plain" else f" {variant}")
    return f"{label}: {'|'.join(flags) or 'no flags'} {size}"


def experiment_json(key: Key) -> Dict[str, Any]:
    """Which experiment, as the JSON documents name one (a matrix cell's fields)."""
    kind, variant, flags, size = key
    return {"kind": kind, "variant": variant, "flags": list(flags), "size_rel": size}


def row_json(row: Row) -> Dict[str, Any]:
    return {
        **experiment_json(row.experiment),
        "answers": list(row.answers),
        "differs": row.differs,
        # the two-survey form's fields, kept: the first two machines' answers
        "a": row.answers[0],
        "b": row.answers[1],
    }
