"""What a reader should know about a bench run: the timer's own cost, noise, and how the
THP and huge page settings of this machine shape the populated cells."""

from __future__ import annotations

from typing import List, Tuple

from mremapctl.bench.report import BenchReport
from mremapctl.platforms import host_platform
from mremapctl.units import format_ns, format_size

Note = Tuple[str, str]  # (level: "info" | "warn", one line)
NOISY_SHARE = 0.2  # warn when more than this share of cells is noisy
DRIFT = 0.25  # warn when the per-cell timer overhead varied this much over the run


def notes(report: BenchReport) -> List[Note]:
    return [*overhead_notes(report), *noise_notes(report), *thp_notes(report)]


def overhead_notes(report: BenchReport) -> List[Note]:
    o = report.overhead
    out: List[Note] = [
        (
            "info",
            f"per-call overhead of the timed path (getppid through {report.flavour}, same 5 arguments): "
            f"median {format_ns(o.median_ns)} (min {format_ns(o.min_ns)}, p90 {format_ns(o.p90_ns)}); measured again "
            "before each cell and subtracted from its samples",
        )
    ]
    dominated = [c for c in report.cells if c.overhead_dominated]
    if dominated:
        out.append(
            (
                "info",
                f"≈ marks {len(dominated)} of {len(report.cells)} cells where that overhead is at least half "
                "of the raw time: their net figures are mostly timer noise",
            )
        )
    return out


def noise_notes(report: BenchReport) -> List[Note]:
    out: List[Note] = []
    measured = [c for c in report.cells if c.spread is not None]
    noisy = [c for c in measured if c.noisy]
    if measured and len(noisy) > NOISY_SHARE * len(measured):
        worst = max(noisy, key=lambda c: c.spread or 0)
        out.append(
            (
                "warn",
                f"noisy machine: p90 exceeds 1.5 × median in {len(noisy)} of {len(measured)} cells "
                f"(worst {worst.case.label}: ×{worst.spread:.1f}); other load on these {report.system.cpus} CPUs "
                "moves the numbers: rerun on an idle machine or with more --samples",
            )
        )
    o = report.overhead
    costs = [c.overhead_ns for c in report.cells if c.overhead_ns]
    if costs and max(costs) > (1 + DRIFT) * min(costs):
        out.append(
            (
                "warn",
                f"the timer's own cost varied from {format_ns(min(costs))} to {format_ns(max(costs))} during the run "
                "(other load, or the host of this VM): each cell subtracts the cost measured just before it, but "
                "cells near that cost are unreliable",
            )
        )
    if o.p90_ns > 2 * o.median_ns:
        out.append(
            (
                "warn",
                f"the no-op syscall itself is noisy (p90 {format_ns(o.p90_ns)} vs median {format_ns(o.median_ns)})",
            )
        )
    return out


NO_SHMEM_THP = ("never", "deny")  # shmem_enabled values under which memfd pages are never huge


def thp_notes(report: BenchReport) -> List[Note]:
    s, thp = report.system, report.settings.thp
    here = host_platform()
    page, pmd, pud = (format_size(n) for n in (here.page, here.pmd, here.pud))
    shares = [c.huge_share for c in report.cells if c.huge_share is not None and c.case.mapping == "anon"]
    huge = max(shares, default=0.0)
    out: List[Note] = []
    if s.thp_enabled is None:
        out.append(("info", f"no transparent huge pages in this kernel: every populated region is {page} pages"))
    elif shares and huge == 0:
        how = {"system": "this run did not advise them", "none": "--thp none advised MADV_NOHUGEPAGE"}.get(thp, "")
        out.append(
            (
                "info",
                f"THP enabled=[{s.thp_enabled}], {how}: populated anonymous regions were {page} pages, so a move "
                f"carries PTE tables — one PMD entry per {pmd}, one PUD entry per {pud} where both ends are aligned, "
                "one PTE per page where they are not. --thp huge shows the huge-page picture",
            )
        )
    elif shares:
        out.append(
            (
                "info",
                f"THP enabled=[{s.thp_enabled}], --thp {thp}: up to {huge:.0%} of populated anonymous memory was "
                "PMD-mapped huge pages while sampling; a huge PMD moves as one entry where both ends are "
                f"{pmd}-aligned (like a PTE table at PMD placements), but a misaligned move splits it into PTEs "
                "first (paid in the discarded warm-up) and then moves each PTE",
            )
        )
    if any(c.case.mapping == "memfd" and c.case.populated for c in report.cells):
        out.append(
            (
                "info",
                f"memfd regions follow shmem_enabled=[{s.shmem_enabled}]"
                + (f": {page} pages, PTE tables as for anonymous memory" if s.shmem_enabled in NO_SHMEM_THP else ""),
            )
        )
    pages = s.nr_hugepages or 0
    out.append(
        (
            "info",
            f"hugetlb is not measured (vm.nr_hugepages = {pages}): hugetlb regions move huge PTEs with their own "
            f"page-table code and need both ends aligned to the huge page size ({pmd} by default here)",
        )
    )
    return out
