"""``mremapctl bench``: mremap latency against size and alignment, live."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Dict

import click

from mremapctl.cli.output import Output, output_options
from mremapctl.cli.params import SECONDS, SECONDS_OR_ZERO

if TYPE_CHECKING:
    from mremapctl.bench import Selection, Settings

QUICK_SAMPLES, QUICK_MAX_TIME = 6, 0.1


@click.command("bench", context_settings={"max_content_width": 100})
@click.option(
    "--sizes",
    metavar="LIST",
    help="Region sizes, comma-separated (4K … 8G). [default: 4K,16K,64K,256K,1M,2M,4M,16M,64M,256M,1G]",
)
@click.option("--ops", default="move,dontunmap,grow,shrink", show_default=True, metavar="LIST", help="Which calls.")
@click.option(
    "--placements",
    default="pud,pmd,mutual,misaligned",
    show_default=True,
    metavar="LIST",
    help="pud: both ends PUD-aligned (1 GiB with 4K pages); pmd: PMD-aligned (2 MiB); mutual: same offset "
    "within a PMD; misaligned: different offsets. Sizes follow the page size (16K pages: 32 MiB PMD, 64 GiB "
    "PUD). (grow/shrink have one address: no mutual.)",
)
@click.option(
    "--mappings",
    metavar="LIST",
    help="anon, memfd: for every op. [default: dontunmap both, the other ops anon]",
)
@click.option(
    "--populated",
    type=click.Choice(["both", "yes", "no"]),
    default="both",
    show_default=True,
    help="Fault every page in before measuring (page tables to move), or not.",
)
@click.option("--samples", type=click.IntRange(2, 100000), help="Timed calls per cell. [default: 30; --quick: 6]")
@click.option(
    "--max-time",
    type=SECONDS_OR_ZERO,
    metavar="SECONDS",
    help="Stop a cell early after this long (with at least 4 samples); 0: never. [default: 1; --quick: 0.1]",
)
@click.option(
    "--thp",
    type=click.Choice(["system", "huge", "none"]),
    default="system",
    show_default=True,
    help="Transparent huge pages for the regions: the system's choice, MADV_HUGEPAGE, or MADV_NOHUGEPAGE.",
)
@click.option("--quick", is_flag=True, help="A small fast run (sizes 4K, 64K, 2M, 8M; 6 samples): for CI.")
@click.option("--detail", is_flag=True, help="One row per cell with min, median, p90 and samples.")
@click.option("--chart", "chart_spec", metavar="OP[:MAPPING]", help="What to chart (e.g. dontunmap:memfd), or none.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV, one row per cell.")
@output_options("as_csv")
@click.option("--force", is_flag=True, help="Populate beyond the safe share (half) of MemAvailable.")
@click.option(
    "--timeout",
    type=SECONDS,
    default=120.0,
    show_default=True,
    metavar="SECONDS",
    help="Kill the measuring child when one cell takes longer than this.",
)
def bench_cmd(output: Output, **opts: Any) -> None:
    """Measure mremap latency for region sizes 4 KiB … 1 GiB (whole pages of this machine):
    MAYMOVE|FIXED moves with both ends PUD-aligned (1 GiB with 4 KiB pages, 64 GiB with 16 KiB),
    PMD-aligned (2 MiB; 32 MiB), mutually aligned or misaligned, DONTUNMAP moves of
    private anonymous and memfd-shared regions, and in-place grow and shrink; populated or not.
    Prints medians (net of the timer's own cost) and a log–log chart where the PTE, PMD and PUD
    page-table moves separate; --json and --csv for plotting elsewhere.

    \b
    Examples:
      mremapctl bench                                   # everything, about a minute
      mremapctl bench --quick                           # seconds: 4K, 64K, 2M, 8M
      mremapctl bench --ops move --populated yes        # the page-table levels only
      mremapctl bench --ops dontunmap --chart dontunmap:memfd
      mremapctl bench --sizes 2M,64M,1G --thp huge      # THP: huge PMDs move as one entry
      mremapctl bench --detail                          # min, median, p90, samples per cell
      mremapctl bench --json > bench.json               # {"kind": "bench", "cases": [...]}
    """
    from mremapctl.bench import run_bench
    from mremapctl.bench.render import bench_csv, bench_json, parse_chart_spec, render_report

    if opts["chart_spec"]:
        parse_chart_spec(opts["chart_spec"])  # bad input before a minute of measuring
    with output.progress("bench") as progress:
        report = run_bench(
            _selection(opts),
            _settings(opts),
            force=opts["force"],
            idle_timeout=opts["timeout"],
            progress=lambda done, total, case: progress.update(done, total, case.label),
        )
    if opts["as_csv"]:
        sys.stdout.write(bench_csv(report))
    else:
        output.show(bench_json(report), render_report, report, opts["detail"], opts["chart_spec"])


def _selection(opts: Dict[str, Any]) -> Selection:
    from mremapctl.bench import Selection
    from mremapctl.bench.cases import MAPPINGS, OPS, PLACEMENTS, default_sizes, parse_choice, parse_sizes

    return Selection(
        sizes=parse_sizes(opts["sizes"]) if opts["sizes"] else default_sizes(opts["quick"]),
        ops=parse_choice(opts["ops"], OPS, "op"),
        placements=parse_choice(opts["placements"], PLACEMENTS, "placement"),
        mappings=parse_choice(opts["mappings"], MAPPINGS, "mapping") if opts["mappings"] else None,
        populated={"both": (False, True), "yes": (True,), "no": (False,)}[opts["populated"]],
    )


def _settings(opts: Dict[str, Any]) -> Settings:
    from mremapctl.bench import Settings

    samples, max_time = (QUICK_SAMPLES, QUICK_MAX_TIME) if opts["quick"] else (Settings.samples, Settings.max_time)
    return Settings(
        samples=opts["samples"] or samples,
        max_time=max_time if opts["max_time"] is None else opts["max_time"],
        thp=opts["thp"],
    )
