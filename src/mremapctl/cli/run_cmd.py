"""``mremapctl run``: a scenario file, or a bundled one by name."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import click

from mremapctl.cli import complete
from mremapctl.cli.common import run_options
from mremapctl.cli.output import Output


@click.command("run", context_settings={"max_content_width": 100})
@click.argument("scenario", required=False, metavar="FILE.toml|NAME|-", shell_complete=complete.scenarios)
@click.option("--check", is_flag=True, help="Exit 1 when a step's `expect` is not met.")
@click.option("--list", "list_bundled", is_flag=True, help="List the bundled scenarios.")
@run_options
def run_cmd(scenario: Optional[str], check: bool, list_bundled: bool, output: Output, **opts: Any) -> None:
    """Run a multi-step scenario: each step's call and result, and the maps after each change.

    \b
    Examples:
      mremapctl run --list                     # the bundled scenarios
      mremapctl run dontunmap-memfd            # one of them, by name
      mremapctl run my.toml --check            # exit 1 if an `expect` is not met
      generate-scenario | mremapctl run -      # a scenario on stdin
      mremapctl try --memfd --dontunmap --save-scenario my.toml && mremapctl run my.toml
    """
    if list_bundled:
        _list(output)
        return
    if scenario is None:
        raise click.UsageError("give a scenario file or a bundled scenario name (see --list)")
    from mremapctl.cli.execute import run_and_show

    loaded = _load(scenario)
    run_and_show(output, opts, lambda page: (loaded, []), check=check)


def _load(name: str) -> Any:
    from mremapctl.scenario.load import load_scenario, parse_scenario

    if name == "-":
        return parse_scenario(_stdin_text(), "<stdin>")
    path = Path(name)
    if path.suffix == ".toml" or path.exists():
        return load_scenario(path)
    from mremapctl.examples import load_bundled

    return load_bundled(name)


def _stdin_text() -> str:
    from mremapctl.scenario.load import decode

    return decode(sys.stdin.buffer.read(), "<stdin>")


def _list(output: Output) -> None:
    from mremapctl.examples import bundled
    from mremapctl.render.listings import render_scenarios, scenarios_json

    scenarios = bundled()
    output.show(scenarios_json(scenarios), render_scenarios, scenarios)
