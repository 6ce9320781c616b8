"""Write a scenario back as TOML (``try --save-scenario``): a replayable, editable experiment.

A writer of our own: the scenario format needs strings, integers, booleans and lists of
strings only, not worth a dependency.
"""

from __future__ import annotations

import json
from typing import Any

from mremapctl.scenario.load import Scenario


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return hex(value) if value > 9 else str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string is a JSON string for our characters
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):  # per-kernel expectations: an inline table
        return "{ " + ", ".join(f"{json.dumps(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def dump_scenario(scenario: Scenario) -> str:
    lines = []
    if scenario.description:
        lines += [f"description = {_value(scenario.description)}", ""]
    for step in scenario.steps:
        lines.append("[[step]]")
        for key, value in step.to_table().items():
            lines.append(f"{key} = {_value(value)}")
        lines.append("")
    return "\n".join(lines)
