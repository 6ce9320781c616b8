"""``mremapctl survey``: this machine's kernel against every model, in about a minute or less;
or several machines' saved surveys side by side."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Tuple

import click

from mremapctl.cli import complete
from mremapctl.cli.common import vm_target
from mremapctl.cli.output import Output, output_options, refuse_together


@click.command("survey", context_settings={"max_content_width": 100})
@click.argument("files", nargs=-1, type=click.Path(path_type=Path), metavar="[SURVEY.json]...")
@click.option("--markdown", is_flag=True, help="Print Markdown, for a bug report (a comparison too).")
@click.option(
    "--compare",
    is_flag=True,
    help="Compare saved surveys (two or more, one per machine) instead of running one: a column per machine.",
)
@click.option(
    "--changes-only", is_flag=True, help="With --compare: only the experiments the machines answer differently."
)
@click.option(
    "--parallel", type=click.IntRange(min=1), metavar="N", help="Live experiments at a time. [default: cores + 1]"
)
@click.option(
    "--backend",
    type=click.Choice(["live", "vm", "sim"]),
    default="live",
    show_default=True,
    help="Survey this machine, a real Debian kernel booted under qemu, or a kernel model (both with --kernel).",
)
@click.option(
    "--kernel",
    metavar="VERSION",
    shell_complete=complete.kernels,
    help="The kernel for --backend vm or sim, e.g. 5.10.",
)
@vm_target
@output_options("markdown")
def survey_cmd(
    files: Tuple[Path, ...],
    markdown: bool,
    compare: bool,
    changes_only: bool,
    parallel: Optional[int],
    backend: str,
    kernel: Optional[str],
    arch: Optional[str],
    page_size: Optional[str],
    output: Output,
) -> None:
    """Run the whole matrix live here, compare it with every kernel model, and say which
    mainline release this kernel behaves like, and every experiment where it differs. The report
    says what a bug report needs: the tool, architecture, page size, syscall layer, kernel, the
    config facts that matter (soft-dirty, secretmem, mseal), the date and the command.

    \b
    Examples:
      mremapctl survey
      mremapctl survey --markdown > report.md
      mremapctl survey --json > phone.json         # on each machine, then:
      mremapctl survey --compare phone.json board.json laptop.json --changes-only
      mremapctl survey --backend vm --kernel 5.10  # a real Debian 5.10, in one boot
      mremapctl survey --backend vm --arch arm64 --page-size 16K --kernel 7.2
    """
    if compare:
        refuse_together({"compare": compare, "parallel": parallel, "kernel": kernel}, "compare", "parallel", "kernel")
        _compare(output, list(files), changes_only, markdown)
        return
    if files or changes_only:
        what = "saved surveys" if files else "--changes-only"
        raise click.UsageError(f"{what} belong to --compare (survey --compare A.json B.json …)")
    from mremapctl.backends.select import open_backend
    from mremapctl.errors import Interrupted
    from mremapctl.render.survey import render_survey, survey_json, survey_markdown
    from mremapctl.survey.about import describe
    from mremapctl.survey.survey import planned_experiments, run_survey

    with output.progress("experiments", total=planned_experiments()) as progress:
        surveyed, _ = open_backend(backend, kernel, progress.say, arch=arch, page_size=page_size)
        result = run_survey(surveyed, parallel, progress.advance)
    machine = describe(surveyed, result.cells, _command_line())
    if markdown:
        click.echo(survey_markdown(result, machine))
    else:
        output.show(survey_json(result, machine), render_survey, result, machine)
    if result.cut_short:
        raise Interrupted(result.cut_short)


def _command_line() -> List[str]:
    """The arguments as typed (main() keeps them on the root context), for the report."""
    obj = click.get_current_context().find_root().obj
    return list(obj.get("argv", [])) if isinstance(obj, dict) else []


def _compare(output: Output, files: List[Path], changes_only: bool, markdown: bool) -> None:
    from mremapctl.render.fleet import fleet_json, fleet_markdown, render_fleet
    from mremapctl.survey.fleet import compare

    fleet = compare(files)
    if markdown:
        click.echo(fleet_markdown(fleet, changes_only))
    else:
        output.show(fleet_json(fleet, changes_only), render_fleet, fleet, changes_only)
