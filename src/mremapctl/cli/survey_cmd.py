"""``mremapctl survey``: this machine's kernel against every model, in about a minute or less."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple

import click

from mremapctl.cli.common import vm_target
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
@vm_target
@output_options("markdown")
def survey_cmd(
    markdown: bool,
    compare: Optional[Tuple[Path, Path]],
    parallel: Optional[int],
    backend: str,
    kernel: Optional[str],
    arch: Optional[str],
    page_size: Optional[str],
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
      mremapctl survey --backend vm --arch arm64 --page-size 16K --kernel 7.2
    """
    if compare:
        _compare(output, *compare)
        return
    from mremapctl.backends.select import open_backend
    from mremapctl.errors import Interrupted
    from mremapctl.render.survey import render_survey, survey_json, survey_markdown
    from mremapctl.survey.survey import planned_experiments, run_survey

    with output.progress("experiments", total=planned_experiments()) as progress:
        live, _ = open_backend(backend, kernel, progress.say, arch=arch, page_size=page_size)
        result = run_survey(live, parallel, progress.advance)
    if markdown:
        click.echo(survey_markdown(result))
    else:
        output.show(survey_json(result), render_survey, result)
    if result.cut_short:
        raise Interrupted(result.cut_short)


def _compare(output: Output, a: Path, b: Path) -> None:
    from mremapctl.render.survey import comparison_json, render_comparison
    from mremapctl.survey.survey import compare_surveys, load_survey

    left, right = load_survey(a), load_survey(b)
    diff = compare_surveys(left, right)
    output.show(comparison_json(left, right, diff), render_comparison, left, right, diff)
