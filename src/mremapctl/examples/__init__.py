"""Bundled scenarios: `mremapctl run --list` shows them, `mremapctl run NAME` runs one."""

from __future__ import annotations

from importlib import resources
from typing import Dict, List, Tuple

from mremapctl.errors import BadInput
from mremapctl.scenario.load import Scenario, parse_scenario


def _files() -> Dict[str, str]:
    folder = resources.files(__name__)
    return {entry.name[:-5]: entry.read_text() for entry in folder.iterdir() if entry.name.endswith(".toml")}


def bundled_names() -> List[str]:
    """The bundled scenarios' names, without reading them (shell completion asks on every Tab)."""
    return sorted(entry.name[:-5] for entry in resources.files(__name__).iterdir() if entry.name.endswith(".toml"))


def bundled() -> List[Tuple[str, str]]:
    """(name, one-line description) of every bundled scenario, sorted by name."""
    return sorted((name, parse_scenario(text, name).description or "") for name, text in _files().items())


def load_bundled(name: str) -> Scenario:
    files = _files()
    if name not in files:
        raise BadInput(f"no scenario file or bundled scenario named {name!r} (see `mremapctl run --list`)")
    return parse_scenario(files[name], name)
