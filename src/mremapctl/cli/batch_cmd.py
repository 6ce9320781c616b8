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
    from mremapctl.results import Run
    from mremapctl.scenario.load import parse_scenario

    request = json.loads(path.read_text())
    options = RunOptions(timeout=request.get("timeout", 10.0), full_maps=request.get("full_maps", False))
    backend = open_live()
    runs = []
    for i, text in enumerate(request["scenarios"]):
        try:
            runs.append(run_json(backend.run(parse_scenario(text, f"scenario {i}"), options)))
        except MremapctlError as err:  # one bad scenario must not sink the batch
            failed = Run("live", backend.kernel, backend.page_size, backend.lab.start, backend.lab.end)
            failed.failure = f"{type(err).__name__}: {err}"
            runs.append(run_json(failed))
    json.dump(runs, sys.stdout)
