"""``mremapctl bench``: mremap latency against size, placement and population, measured live.

The point is the page-table levels: a move of a populated region relinks whole PUD (1 GiB
with 4 KiB pages, 64 GiB with 16 KiB) or PMD (2 MiB; 32 MiB) entries where source and
destination allow it, and PTEs one by one where they do not. ``cases`` says what is measured
and where, ``measure`` times it in a lab child, ``report`` summarises, ``render`` (with
``chart`` and ``notes``) shows it to people and exports it for scripts.
"""

from mremapctl.bench.cases import Case, Selection, build_cases
from mremapctl.bench.measure import Settings
from mremapctl.bench.report import BenchReport, CaseStats
from mremapctl.bench.run import run_bench

__all__ = ["BenchReport", "Case", "CaseStats", "Selection", "Settings", "build_cases", "run_bench"]
