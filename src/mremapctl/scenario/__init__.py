"""Scenarios: the steps of an experiment, loaded from and saved to the TOML contract."""

from mremapctl.scenario.dump import dump_scenario
from mremapctl.scenario.load import Scenario, load_scenario, parse_scenario
from mremapctl.scenario.steps import OPS, Mmap, Mremap, Read, Step

__all__ = ["OPS", "Mmap", "Mremap", "Read", "Scenario", "Step", "dump_scenario", "load_scenario", "parse_scenario"]
