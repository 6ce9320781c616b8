"""``mremapctl matrix``: every kind × flag set, on one or more kernels and backends."""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Tuple

import click

from mremapctl.cli import complete
from mremapctl.cli.common import vm_target
from mremapctl.cli.output import Output, output_options


@click.command("matrix", context_settings={"max_content_width": 100})
@click.option(
    "--kinds",
    multiple=True,
    metavar="K,K",
    shell_complete=complete.kind_list,
    help="Rows: mapping kinds (default: all).",
)
@click.option(
    "--variants",
    multiple=True,
    metavar="V,V",
    help="Row variants: plain, unpopulated, mlocked, sealed, prot-none (default: all).",
)
@click.option(
    "--flags",
    multiple=True,
    metavar="F,F",
    help="Columns by flag set: none, MAYMOVE, FIXED, DONTUNMAP, FIXED|DONTUNMAP (default: all).",
)
@click.option(
    "--sizes",
    multiple=True,
    metavar="S,S",
    help="Columns by size relation: same, grow, shrink, zero (old_size 0), onto (FIXED onto a mapping).",
)
@click.option(
    "--backend",
    "backends",
    default="auto",
    show_default=True,
    metavar="B,B",
    help="live, sim, vm, auto, or several (live,sim) to put them side by side.",
)
@click.option(
    "--kernel",
    "kernels",
    multiple=True,
    metavar="VERSION",
    shell_complete=complete.kernels,
    help="A kernel (repeatable) for sim and vm.",
)
@click.option("--kernels", "kernel_range", metavar="A..B", help="Every mainline model from A to B, e.g. 5.4..7.3.")
@vm_target
@click.option("--changes-only", is_flag=True, help="Only the rows whose cells differ across the groups.")
@click.option(
    "--parallel", type=click.IntRange(min=1), metavar="N", help="Live experiments at a time. [default: cores + 1]"
)
@output_options()
def matrix_cmd(
    kinds: Tuple[str, ...],
    variants: Tuple[str, ...],
    flags: Tuple[str, ...],
    sizes: Tuple[str, ...],
    backends: str,
    kernels: Tuple[str, ...],
    kernel_range: Optional[str],
    arch: Optional[str],
    page_size: Optional[str],
    changes_only: bool,
    parallel: Optional[int],
    output: Output,
) -> None:
    """Run every mapping kind (rows) against every flag set and size relation (columns), each
    cell one experiment in its own forked child, and print the grid: ✓ moved, ✓ in place, or
    the errno. Several kernels or backends become one grid per column, differences marked.

    \b
    Examples:
      mremapctl matrix                                   # live, here
      mremapctl matrix --kernel 5.12 --kernel 5.13 --flags DONTUNMAP --variants plain
      mremapctl matrix --kernels 5.4..6.18 --changes-only --sizes same
      mremapctl matrix --backend live,sim --kinds memfd,perf
      mremapctl matrix --json > here.json
    """
    from mremapctl.survey import grid
    from mremapctl.survey.matrix import run_matrix

    rows = grid.rows_for(_kinds(kinds), _variants(variants))
    columns = grid.columns_for(
        grid.select(flags, list(grid.FLAG_SETS), "flag set", "--flags"),
        grid.select(sizes, grid.SIZES, "size relation", "--sizes"),
    )
    with output.progress("experiments") as progress:
        groups = open_groups(backends, list(kernels), kernel_range, progress.say, (arch, page_size))
        progress.update(total=len(rows) * len(columns) * len(groups))
        matrix = run_matrix(groups, rows, columns, progress.advance, parallel)
    from mremapctl.render.matrix import differing_rows, matrix_json, render_matrix_result

    shown = differing_rows(matrix.cells, rows, columns) if changes_only else rows
    output.show(matrix_json(matrix), render_matrix_result, matrix, shown, columns)
    if matrix.interrupted:
        from mremapctl.errors import Interrupted

        raise Interrupted(matrix.cut_short)


def _kinds(kinds: Tuple[str, ...]) -> List[str]:
    from mremapctl.kinds import KINDS
    from mremapctl.survey.grid import select

    return select(kinds, list(KINDS), "kind", "--kinds")


def _variants(variants: Tuple[str, ...]) -> List[str]:
    from mremapctl.survey.grid import VARIANTS, select

    return select(variants, VARIANTS, "variant", "--variants")


def open_groups(
    backends: str,
    kernels: List[str],
    kernel_range: Optional[str],
    progress: Callable[[str], None],
    vm_target: Tuple[Optional[str], Optional[str]] = (None, None),
) -> List[Any]:
    """One backend object per column group: live here, sim or vm per kernel (``progress`` hears of
    vm downloads and boots; ``vm_target``: the vm's --arch and --page-size)."""
    from mremapctl.backends.select import open_backend
    from mremapctl.errors import BadInput
    from mremapctl.kernel import models_between
    from mremapctl.lab import LAB_SIZE

    if kernel_range:
        if ".." not in kernel_range:
            raise BadInput(f"bad --kernels {kernel_range!r}: expected A..B, e.g. 5.4..6.18")
        low, high = kernel_range.split("..", 1)
        kernels = kernels + [m.name for m in models_between(low, high)]
        if not kernels:
            raise BadInput(f"--kernels {kernel_range!r} holds no model")
    names = [b.strip() for b in backends.split(",") if b.strip()]
    if not names:
        raise BadInput(f"--backend {backends!r} names no backend: give live, sim, vm or auto")
    if vm_target != (None, None) and "vm" not in names:
        raise BadInput("--arch and --page-size choose the guest kernel of --backend vm, which is not among them")
    groups = []
    for name in names:
        if name in ("live",) or (name == "auto" and not kernels):
            groups.append(open_backend(name)[0])
        else:
            for kernel in kernels or [None]:  # type: ignore[list-item]
                guest = vm_target if name == "vm" else (None, None)
                groups.append(open_backend("sim" if name == "auto" else name, kernel, progress, LAB_SIZE, *guest)[0])
    return groups
