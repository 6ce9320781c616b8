"""``mremapctl batch``: run many scenarios live, print their runs as one JSON document ("kind": "runs").

The vm backend calls it inside the guest kernel, so one boot serves a whole batch.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict

import click

from mremapctl.errors import BadInput


@click.command("batch", hidden=True)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def batch_cmd(path: Path) -> None:
    """Run {"scenarios": [TOML text, ...]} live and print their schema-1 runs as one "runs" document."""
    from mremapctl.backends.select import open_live
    from mremapctl.documents import runs_json
    from mremapctl.errors import MremapctlError
    from mremapctl.primitives import RunOptions
    from mremapctl.scenario.load import parse_scenario

    request = _request(path)
    try:
        options = RunOptions(**request.get("options", {}))
    except TypeError as err:
        raise BadInput(f"{path}: bad options: {err}") from None
    backend = open_live()
    scenarios = []
    for i, text in enumerate(request["scenarios"]):
        try:
            scenarios.append(parse_scenario(text, f"scenario {i}"))
        except MremapctlError as err:
            raise click.ClickException(f"scenario {i} does not parse in the guest: {err}") from None
    runs = backend.run_many(scenarios, options, parallel=1, errors="record")
    json.dump(runs_json(runs), sys.stdout)


def _request(path: Path) -> Dict[str, Any]:
    """The batch file: {"scenarios": [TOML text, ...], "options": {...}}, or one line saying what is wrong."""
    from mremapctl.scenario.load import decode

    try:
        request = json.loads(decode(path.read_bytes(), str(path)))
    except json.JSONDecodeError as err:
        raise BadInput(f"{path}: not a batch (JSON): {err.msg} at line {err.lineno}") from None
    scenarios = request.get("scenarios") if isinstance(request, dict) else None
    if not isinstance(scenarios, list) or not all(isinstance(s, str) for s in scenarios):
        raise BadInput(f'{path}: not a batch: expected {{"scenarios": [TOML text, ...]}}')
    if not isinstance(request.get("options", {}), dict):
        raise BadInput(f"{path}: not a batch: options must be an object")
    return dict(request)
