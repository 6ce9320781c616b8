"""A bench run as data: each cell's statistics net of the timing path's own cost, and exports.

Statistics are nearest-rank over the samples after subtracting the median per-call
overhead measured just before the cell (clamped at zero). A cell is "overhead-dominated" when that overhead is at least
half of what was measured: its net figure is then mostly the difference of two noises.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from mremapctl.backends.live.timing import Overhead
from mremapctl.bench.cases import Case
from mremapctl.bench.measure import Measured, Settings
from mremapctl.bench.system import SystemInfo

NOISY_SPREAD = 1.5  # p90 / median of a cell's raw samples above this: the cell is noisy
CSV_FIELDS = ["op", "mapping", "size", "placement", "populated", "min_ns", "median_ns", "p90_ns", "samples"]


def percentile(values: List[int], q: float) -> int:
    """Nearest-rank percentile of sorted ``values`` (q in 0..1)."""
    return values[max(0, math.ceil(q * len(values)) - 1)]


@dataclass
class Cell:
    case: Case
    samples: int
    min_ns: Optional[int] = None
    median_ns: Optional[int] = None
    p90_ns: Optional[int] = None
    raw_median_ns: Optional[int] = None
    overhead_ns: Optional[int] = None  # what was subtracted
    spread: Optional[float] = None  # raw p90 / raw median
    overhead_dominated: bool = False
    error: Optional[str] = None
    huge_share: Optional[float] = None

    @classmethod
    def from_measured(cls, measured: Measured, overhead: Overhead) -> Cell:
        raw = sorted(measured.raw)
        cost = measured.overhead_ns if measured.overhead_ns is not None else overhead.median_ns
        cell = cls(measured.case, len(raw), error=measured.error, huge_share=measured.huge_share, overhead_ns=cost)
        if not raw:
            return cell
        net = [max(0, value - cost) for value in raw]
        raw_median = round(statistics.median(raw))
        cell.min_ns, cell.median_ns, cell.p90_ns = net[0], round(statistics.median(net)), percentile(net, 0.9)
        cell.raw_median_ns = raw_median
        cell.spread = percentile(raw, 0.9) / raw_median if raw_median else None
        cell.overhead_dominated = cost * 2 >= raw_median
        return cell

    @property
    def noisy(self) -> bool:
        return self.spread is not None and self.spread > NOISY_SPREAD

    def to_json(self) -> Dict[str, Any]:
        c = self.case
        data: Dict[str, Any] = {
            "op": c.op,
            "mapping": c.mapping,
            "size": c.size,
            "placement": c.placement,
            "populated": c.populated,
            "min_ns": self.min_ns,
            "median_ns": self.median_ns,
            "p90_ns": self.p90_ns,
            "samples": self.samples,
            "overhead_ns": self.overhead_ns,
            "overhead_dominated": self.overhead_dominated,
        }
        if self.huge_share is not None:
            data["huge_share"] = round(self.huge_share, 3)
        if self.error:
            data["error"] = self.error
        return data


@dataclass
class BenchReport:
    kernel: str
    flavour: str
    overhead: Overhead
    settings: Settings
    system: SystemInfo
    cells: List[Cell] = field(default_factory=list)

    def cell(self, case: Case) -> Optional[Cell]:
        return next((c for c in self.cells if c.case == case), None)

    def to_json(self) -> Dict[str, Any]:
        from mremapctl.bench.notes import notes

        return {
            "kind": "bench",
            "kernel": self.kernel,
            "overhead_ns": _overhead_json(self.overhead),
            "timer": f"time.perf_counter_ns around syscall() through {self.flavour}",
            "thp": self.settings.thp,
            "system": self.system.to_json(),
            "notes": [text for _, text in notes(self)],
            "cases": [cell.to_json() for cell in self.cells],
        }

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, [*CSV_FIELDS, "overhead_ns", "overhead_dominated", "error"], lineterminator="\n")
        writer.writeheader()
        for cell in self.cells:
            row = cell.to_json()
            row["populated"] = int(row["populated"])
            row["overhead_dominated"] = int(row["overhead_dominated"])
            writer.writerow({key: row.get(key, "") for key in writer.fieldnames})
        return out.getvalue()


def _overhead_json(overhead: Overhead) -> Dict[str, int]:
    return {"min": overhead.min_ns, "median": overhead.median_ns, "p90": overhead.p90_ns}
