"""A bench run as data: each cell's statistics net of the timing path's own cost.

Statistics are nearest-rank over the samples after subtracting the median per-call
overhead measured just before the cell (clamped at zero). A cell is "overhead-dominated" when that overhead is at least
half of what was measured: its net figure is then mostly the difference of two noises.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import List, Optional

from mremapctl.backends.live.timing import Overhead
from mremapctl.bench.cases import Case
from mremapctl.bench.measure import Measured, Settings
from mremapctl.bench.system import SystemInfo

NOISY_SPREAD = 1.5  # p90 / median of a cell's raw samples above this: the cell is noisy


def percentile(values: List[int], q: float) -> int:
    """Nearest-rank percentile of sorted ``values`` (q in 0..1)."""
    return values[max(0, math.ceil(q * len(values)) - 1)]


@dataclass
class CaseStats:
    """One cell of the bench: what was measured (``case``) and its statistics."""

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
    def from_measured(cls, measured: Measured, overhead: Overhead) -> CaseStats:
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


@dataclass
class BenchReport:
    kernel: str
    flavour: str
    overhead: Overhead
    settings: Settings
    system: SystemInfo
    cells: List[CaseStats] = field(default_factory=list)
