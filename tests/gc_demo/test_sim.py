"""demo gc through the kernel models: where each kernel stops."""

from __future__ import annotations

import json

import pytest

from mremapctl.gc_demo.sim import walk
from tests.cli.conftest import invoke


@pytest.mark.parametrize(
    ("kernel", "heap", "stops_at", "outcome"),
    [
        ("5.4", "anon", "pause", "EINVAL"),
        ("5.6", "anon", "pause", "EINVAL"),
        ("5.6", "memfd", "pause", "EINVAL"),
        ("5.7", "anon", None, None),
        ("5.12", "anon", None, None),
        ("5.12", "memfd", "pause", "EINVAL"),
        ("5.13", "memfd", "register", "EINVAL"),  # DONTUNMAP works; MINOR on shmem is 5.14
        ("5.14", "memfd", None, None),
        ("6.18", "memfd", None, None),
        ("6.18", "anon", None, None),
    ],
)
def test_where_each_kernel_stops(kernel: str, heap: str, stops_at: str, outcome: str) -> None:
    result = walk(kernel, heap, 1 << 20)
    assert result.stops_at == stops_at
    steps = {s.name: s for s in result.steps}
    if stops_at:
        assert steps[stops_at].outcome == outcome
        later = result.steps[[s.name for s in result.steps].index(stops_at) + 1 :]
        assert later and all(s.outcome == "not reached" for s in later)
    else:
        assert steps["from-space"].outcome == "ok"  # the moved copy holds the heap
        assert steps["resolve"].outcome == "not modelled"


def test_the_rules_behind_the_refusals() -> None:
    assert {s.name: s.rule for s in walk("5.12", "memfd", 4096).steps}["pause"] == "dontunmap-private-anon-only"
    assert {s.name: s.rule for s in walk("5.6", "anon", 4096).steps}["pause"] == "flags-unknown"
    touch = {s.name: s for s in walk("6.18", "anon", 4096).steps}["touch"]
    assert touch.outcome == "uffd"  # a mutator's access waits for the handler


def test_cli_sim_text_and_json() -> None:
    result = invoke(["demo", "gc", "--heap", "memfd", "--backend", "sim", "--kernel", "5.12", "--size", "1M"])
    assert result.exit_code == 0, result.stderr
    assert "demo gc · sim · kernel 5.12" in result.stdout
    assert "5.12: the memfd flow stops at the pause: EINVAL" in result.stdout
    assert "dontunmap-private-anon-only" in result.stdout
    data = json.loads(invoke(["demo", "gc", "--heap", "anon", "--kernel", "5.6", "--json", "--size", "1M"]).stdout)
    assert data["kind"] == "gc" and data["backend"] == "sim" and data["stops_at"] == "pause"
    assert {"heap", "size", "pause_ns", "faults", "fault_ns_median", "contents_ok"} <= set(data)
    ok = json.loads(invoke(["demo", "gc", "--heap", "anon", "--backend", "sim", "--kernel", "6.18", "--json"]).stdout)
    assert ok["stops_at"] is None
