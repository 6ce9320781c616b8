"""Run the grid on one or more (backend, kernel) groups and collect one Cell per experiment."""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple

from mremapctl.errors import BatchInterrupted
from mremapctl.frozen import frozen
from mremapctl.primitives import RunOptions
from mremapctl.results import Run
from mremapctl.survey.grid import Column, Row, scenario_for

if TYPE_CHECKING:
    from mremapctl.backends.base import Backend

# One more child than cores: while one is in the kernel tearing down, another runs.
DEFAULT_PARALLEL = (os.cpu_count() or 1) + 1
FAST = RunOptions(per_step_maps=False, vm_flags=False, snapshots=False, timeout=10.0)
Advance = Callable[[int], None]  # told how many more experiments just finished


@frozen
class Cell:
    kind: str
    variant: str
    flags: Tuple[str, ...]
    size_rel: str
    kernel: str
    backend: str
    result: str  # "ok", an errno name, "unavailable" (setup impossible) or "failed" (child died, time-out)
    moved: bool
    rule: Optional[str] = None
    reason: Optional[str] = None  # why unavailable or failed

    @property
    def key(self) -> Tuple[str, str, Tuple[str, ...], str]:
        """Which experiment this is, whatever ran it."""
        return (self.kind, self.variant, self.flags, self.size_rel)

    @property
    def answer(self) -> str:
        """What a person compares: "moved", "in place" or the errno."""
        if self.result == "ok":
            return "moved" if self.moved else "in place"
        return self.result

    def to_json(self) -> Dict[str, Any]:
        data = asdict(self)
        data["flags"] = list(self.flags)
        return data

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> Cell:
        return cls(**{**data, "flags": tuple(data["flags"])})


def cell_from_run(row: Row, column: Column, run: Run, kernel: str, backend: str) -> Cell:
    def cell(result: str, moved: bool = False, rule: Optional[str] = None, reason: Optional[str] = None) -> Cell:
        flags = tuple(column.flags.split("|")) if column.flags != "none" else ()
        return Cell(row.kind, row.variant, flags, column.size, kernel, backend, result, moved, rule, reason)

    if run.failure:
        return cell("unavailable" if run.failure.startswith("unavailable:") else "failed", reason=run.failure)
    mremap = next((s for s in run.steps if s.op == "mremap"), None)
    setup = next((s for s in run.steps if s.op != "mremap" and not s.ok), None)
    if mremap is None or mremap.status == "skipped" or setup is not None:  # e.g. mseal before 6.10: ENOSYS
        return cell("unavailable", reason=f"{setup.op}: {setup.outcome}" if setup else "setup failed")
    return cell(mremap.outcome, mremap.ok and mremap.address != run.steps[0].address, mremap.rule)


class MatrixInterrupted(KeyboardInterrupt):
    """Ctrl-C: carries the cells finished so far."""

    def __init__(self, cells: List[Cell]) -> None:
        super().__init__()
        self.cells = cells


def run_group(
    backend: Backend,
    rows: Sequence[Row],
    columns: Sequence[Column],
    progress: Optional[Advance] = None,
    parallel: Optional[int] = None,
) -> List[Cell]:
    """Every cell on one backend; a kind this backend cannot make becomes an 'unavailable' row."""
    pairs = [(row, column) for row in rows for column in columns]
    scenarios = [scenario_for(row, column, backend.page_size) for row, column in pairs]
    try:
        runs = backend.run_batch(
            scenarios,
            FAST,
            parallel=parallel or DEFAULT_PARALLEL,
            on_result=lambda i, r: progress(1) if progress else None,
        )
    except BatchInterrupted as stop:
        done = [(pair, run) for pair, run in zip(pairs, stop.runs) if run is not None]
        raise MatrixInterrupted(
            [cell_from_run(r, c, run, backend.kernel, backend.name) for (r, c), run in done]
        ) from None
    return [cell_from_run(row, column, run, backend.kernel, backend.name) for (row, column), run in zip(pairs, runs)]


@dataclass
class Matrix:
    cells: List[Cell]
    seconds: float
    planned: int  # experiments asked for; fewer cells when interrupted
    interrupted: bool = False

    @property
    def cut_short(self) -> str:
        """ "interrupted after N of M experiments", or "" for a complete matrix."""
        return f"interrupted after {len(self.cells)} of {self.planned} experiments" if self.interrupted else ""


def run_matrix(
    backends: Sequence[Any],
    rows: Sequence[Row],
    columns: Sequence[Column],
    progress: Optional[Advance] = None,
    parallel: Optional[int] = None,
) -> Matrix:
    """All groups; Ctrl-C keeps the cells finished so far."""
    started = time.monotonic()
    planned = len(backends) * len(rows) * len(columns)
    cells: List[Cell] = []
    try:
        for backend in backends:
            cells += run_group(backend, rows, columns, progress, parallel)
    except MatrixInterrupted as stop:
        return Matrix(cells + stop.cells, time.monotonic() - started, planned, interrupted=True)
    except KeyboardInterrupt:
        return Matrix(cells, time.monotonic() - started, planned, interrupted=True)
    return Matrix(cells, time.monotonic() - started, planned)
