from mremapctl.experiment import TryOptions, build
from mremapctl.scenario import dump_scenario, parse_scenario
from tests.scenario.test_load import GOOD


def test_round_trip_keeps_every_step() -> None:
    scenario = parse_scenario(GOOD)
    again = parse_scenario(dump_scenario(scenario))
    assert again == scenario


def test_try_scenarios_round_trip() -> None:
    for opts in (
        TryOptions(kind="memfd", dontunmap=True),
        TryOptions(raw_flags=0x9, offset="1p", old_size="4097"),
        TryOptions(kind="perf", fixed="", fill=None),
    ):
        scenario, _ = build(opts, 4096)
        assert parse_scenario(dump_scenario(scenario)) == scenario
