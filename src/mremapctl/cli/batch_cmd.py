"""``mremapctl batch``: run many scenarios live, print their runs as one JSON list.

The vm backend calls it inside the guest kernel, so one boot serves a whole batch.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.command("batch", hidden=True)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def batch_cmd(path: Path) -> None:
    """Run {"scenarios": [TOML text, ...]} live and print a JSON list of schema-1 runs."""
    from mremapctl.backends.base import RunOptions
    from mremapctl.backends.select import open_live
    from mremapctl.errors import MremapctlError
    from mremapctl.render.jsonout import run_json
    from mremapctl.scenario.load import parse_scenario

    request = json.loads(path.read_text())
    options = RunOptions(**request.get("options", {}))
    backend = open_live()
    runs = []
    scenarios = []
    for i, text in enumerate(request["scenarios"]):
        try:
            scenarios.append(parse_scenario(text, f"scenario {i}"))
        except MremapctlError as err:
            raise click.ClickException(f"scenario {i} does not parse in the guest: {err}") from None
    for run in backend.run_many(scenarios, options, parallel=1, errors="record"):
        runs.append(run_json(run))
    json.dump(runs, sys.stdout)
