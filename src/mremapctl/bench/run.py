"""The parent side of ``bench``: refuse unsafe sizes, run the cells in a lab child, summarise."""

from __future__ import annotations

import platform
from typing import Any, Callable, List, Optional

from mremapctl.backends.live.timing import Overhead
from mremapctl.bench.cases import IN_PLACE_OPS, Case, Selection, build_cases, lab_size, populate_need
from mremapctl.bench.measure import Measured, Settings, measure_cases
from mremapctl.bench.report import BenchReport, CaseStats
from mremapctl.bench.system import SystemInfo
from mremapctl.errors import BadInput
from mremapctl.lab import Lab
from mremapctl.limits import POPULATE_SHARE
from mremapctl.units import format_size

Progress = Callable[[int, int, Case], None]


def check_memory(cases: List[Case], force: bool, available: Optional[int] = None) -> None:
    """Refuse (exit 2) a selection whose largest populated cell would not fit safely in memory."""
    need_case = max(cases, key=populate_need, default=None)
    if need_case is None or force or populate_need(need_case) == 0:
        return
    if available is None:
        from mremapctl.backends.live.makers import meminfo

        available = meminfo("MemAvailable")
    need = populate_need(need_case)
    if need > available * POPULATE_SHARE:
        held = " (grow/shrink hold 2 × size)" if need_case.op in IN_PLACE_OPS else ""
        raise BadInput(
            f"refusing size {format_size(need_case.size)} populated: it needs {format_size(need)}{held}, more than "
            f"half of MemAvailable ({format_size(available)}); choose smaller --sizes, --populated no, or --force"
        )


def run_bench(
    selection: Selection,
    settings: Settings,
    *,
    force: bool = False,
    idle_timeout: float = 120.0,
    progress: Optional[Progress] = None,
) -> BenchReport:
    """Measure every cell of ``selection`` live and return the summarised report."""
    from mremapctl.backends.live.child import run_in_lab

    cases = build_cases(selection)
    if not cases:
        raise BadInput("nothing to measure: the selected --ops, --placements and --mappings leave no cell")
    check_memory(cases, force)
    collector = _Collector(len(cases), progress)

    def work(lab: Lab, send: Callable[[Any], None]) -> None:
        measure_cases(lab.start, cases, settings, send)

    run_in_lab(work, what="bench", idle_timeout=idle_timeout, on_message=collector.take, lab_size=lab_size(cases))
    assert collector.overhead is not None
    report = BenchReport(platform.release(), collector.flavour, collector.overhead, settings, SystemInfo.read())
    by_case = {m.case: m for m in collector.measured}
    report.cells = [CaseStats.from_measured(by_case[case], collector.overhead) for case in cases if case in by_case]
    return report


class _Collector:
    """Receives the child's messages: the overhead first, then one measured cell at a time."""

    def __init__(self, total: int, progress: Optional[Progress]) -> None:
        self.total, self.progress = total, progress
        self.overhead: Optional[Overhead] = None
        self.flavour = "cffi"
        self.measured: List[Measured] = []

    def take(self, message: Any) -> None:
        tag = message[0]
        if tag == "overhead":
            self.overhead, self.flavour = message[1], message[2]
        elif tag == "cell":
            self.measured.append(message[1])
            if self.progress:
                self.progress(len(self.measured), self.total, message[1].case)
