"""``mremapctl survey``: this machine's kernel against every model, in about a minute or less."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple

import click

from mremapctl.cli.output import Output, output_options


@click.command("survey", context_settings={"max_content_width": 100})
@click.option("--markdown", is_flag=True, help="Print Markdown, for a bug report.")
@click.option(
    "--compare",
    nargs=2,
    type=click.Path(path_type=Path),
    metavar="A.json B.json",
    help="Compare two saved surveys (two machines) instead of running one.",
)
@click.option(
    "--parallel", type=click.IntRange(min=1), metavar="N", help="Live experiments at a time. [default: cores + 1]"
)
@click.option(
    "--backend",
    type=click.Choice(["live", "vm"]),
    default="live",
    show_default=True,
    help="Survey this machine, or a real Debian kernel booted under qemu (with --kernel).",
)
@click.option("--kernel", metavar="VERSION", help="The kernel for --backend vm, e.g. 5.10.")
@output_options("markdown")
def survey_cmd(
    markdown: bool,
    compare: Optional[Tuple[Path, Path]],
    parallel: Optional[int],
    backend: str,
    kernel: Optional[str],
    output: Output,
) -> None:
    """Run the whole matrix live here, compare it with every kernel model, and say which
    mainline release this kernel behaves like, and every experiment where it differs.

    \b
    Examples:
      mremapctl survey
      mremapctl survey --markdown > report.md
      mremapctl survey --json > phone.json && mremapctl survey --compare phone.json laptop.json
      mremapctl survey --backend vm --kernel 5.10          # a real Debian 5.10, in one boot
    """
    if compare:
        _compare(output, *compare)
        return
    from mremapctl.backends.select import open_backend, open_sim
    from mremapctl.backends.sim.versions import MODELS
    from mremapctl.cli.matrix_cmd import _with_progress
    from mremapctl.errors import Interrupted
    from mremapctl.kinds import KINDS
    from mremapctl.survey import grid
    from mremapctl.survey.matrix import run_matrix
    from mremapctl.survey.survey import survey

    rows = grid.rows_for(list(KINDS), grid.VARIANTS)
    live, _ = open_backend(backend, kernel)
    matrix = _with_progress(
        output,
        lambda progress: run_matrix([live], rows, grid.COLUMNS, progress, parallel),
        len(rows) * len(grid.COLUMNS),
    )
    models = {}
    for model in MODELS:
        predicted = run_matrix([open_sim(model.name)], rows, grid.COLUMNS)
        if predicted.interrupted:  # a partial model would hide deviations: no verdict at all
            raise Interrupted(f"interrupted while comparing with the {model.name} model; no verdict")
        models[model.name] = predicted.cells
    result = survey(live.kernel, matrix.cells, models, matrix.seconds, matrix.cut_short)
    if output.json:
        output.emit_json(result.to_json())
    elif markdown:
        from mremapctl.render.survey import survey_markdown

        click.echo(survey_markdown(result))
    else:
        from mremapctl.render.survey import render_survey

        render_survey(output.console(), result)
    if matrix.interrupted:
        raise Interrupted(matrix.cut_short)


def _compare(output: Output, a: Path, b: Path) -> None:
    from mremapctl.survey.survey import compare_surveys, load_survey

    left, right = load_survey(a), load_survey(b)
    diff = compare_surveys(left, right)
    if output.json:
        output.emit_json(
            {
                "tool": "mremapctl",
                "schema": 1,
                "kind": "survey-comparison",
                "a": left["kernel"],
                "b": right["kernel"],
                "differences": diff,
            }
        )
        return
    from mremapctl.render.survey import render_comparison

    render_comparison(output.console(), left, right, diff)
