"""Shared children: several experiments per child, and never a result that sharing changed.

They run with the matrix's options (FAST): no maps snapshots, whose parsing grows the child's
Python heap by new anonymous arenas, which the check would rightly take for a change and end the
child.
"""

from __future__ import annotations

from typing import Any, List, Tuple

import pytest

from mremapctl.backends.live import reuse, runner
from mremapctl.errors import Unavailable
from mremapctl.kinds import KINDS
from mremapctl.results import Run
from mremapctl.scenario import parse_scenario
from mremapctl.survey import grid
from mremapctl.survey.matrix import FAST

STAY = """
[[step]]
op = "mmap"
name = "a"
kind = "anon"
size = "2p"
fill = "A"

[[step]]
op = "mremap"
name = "b"
old = "a"
new_size = "2p"
flags = ["MAYMOVE", "FIXED"]
new_address = "lab+1G"

[[step]]
op = "read"
at = "b"
size = "2p"
"""

# An mremap without a name, kept from growing in place, moves the range out of the lab where the
# engine does not track it: unmapping the lab leaves it behind, and only the child's check notices.
LEAK = """
[[step]]
op = "mmap"
name = "a"
kind = "anon"
size = "2p"

[[step]]
op = "mmap"
name = "wall"
kind = "anon"
size = "2p"
at = "a + 2p"

[[step]]
op = "mremap"
old = "a"
new_size = "64p"
flags = ["MAYMOVE"]
"""


def counting_forks(monkeypatch: Any) -> List[int]:
    forks: List[int] = []
    real = runner.spawn

    def spawn(*args: Any, **kwargs: Any) -> Any:
        forks.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "spawn", spawn)
    return forks


def outcomes(run: Run) -> List[Tuple[Any, ...]]:
    """What a run found, step by step (addresses included: a leftover would move them)."""
    return [(s.op, s.outcome, s.address, s.rule, tuple(s.runs or ())) for s in run.steps] + [(run.failure,)]


def test_the_whole_grid_answers_alike_in_shared_and_in_fresh_children(live_backend: Any) -> None:
    rows = grid.rows_for(list(KINDS), grid.VARIANTS)
    scenarios = [grid.scenario_for(r, c, live_backend.page_size) for r in rows for c in grid.COLUMNS]
    fresh = live_backend.run_many(scenarios, FAST, parallel=3, errors="record")
    shared = live_backend.run_many(scenarios, FAST, parallel=3, errors="record", share_children=True)
    assert len(shared) == len(fresh) == len(scenarios) > 500
    differ = [i for i, (a, b) in enumerate(zip(fresh, shared)) if outcomes(a) != outcomes(b)]
    assert not differ, [scenarios[i].steps[0] for i in differ[:3]]


def test_a_child_runs_many_scenarios_but_one_that_changes_the_process_ends_it(
    live_backend: Any, monkeypatch: Any
) -> None:
    forks = counting_forks(monkeypatch)
    stay = parse_scenario(STAY)
    runs = live_backend.run_many([stay] * 40, FAST, parallel=1, share_children=True)
    assert len(forks) < 5 and all(outcomes(r) == outcomes(runs[0]) for r in runs)
    assert runs[0].steps[2].runs == [("data:A", 2)]

    forks.clear()
    vdso = grid.scenario_for(grid.Row("vdso"), grid.Column("MAYMOVE", "same"), live_backend.page_size)
    live_backend.run_many([vdso, stay, vdso, stay], FAST, parallel=1, share_children=True)
    assert len(forks) == 3  # [vdso], [stay, vdso], [stay]: a vDSO move ends its child


def test_what_the_child_cannot_put_back_ends_it_and_the_next_run_is_clean(live_backend: Any, monkeypatch: Any) -> None:
    forks = counting_forks(monkeypatch)
    leak, stay = parse_scenario(LEAK), parse_scenario(STAY)
    alone = live_backend.run(stay, FAST)
    runs = live_backend.run_many([leak, stay, leak, stay], FAST, parallel=1, share_children=True)
    assert runs[0].steps[2].ok and not live_backend.lab.contains(runs[0].steps[2].address, runs[0].steps[2].address)
    assert outcomes(runs[1]) == outcomes(runs[3]) == outcomes(alone)
    assert len(forks) == 1 + 3  # the lone run, then [leak], [stay, leak], [stay]: a leak ends its child


def test_an_error_in_a_shared_child_is_its_run_only(live_backend: Any, monkeypatch: Any) -> None:
    from mremapctl.backends.live.makers import Makers

    def unavailable(self: Any, req: Any, prot: int) -> Any:
        raise Unavailable("memfd unavailable: not on this pretend machine")

    monkeypatch.setattr(Makers, "make_memfd", unavailable)  # the children are forked from this process
    missing, stay = parse_scenario(STAY.replace('kind = "anon"', 'kind = "memfd"')), parse_scenario(STAY)
    runs = live_backend.run_many([missing, stay, missing, stay], FAST, errors="record", share_children=True)
    assert [r.failure for r in runs] == ["unavailable: memfd unavailable: not on this pretend machine", None] * 2
    assert outcomes(runs[1]) == outcomes(runs[3]) == outcomes(live_backend.run(stay, FAST))
    with pytest.raises(Unavailable, match="pretend machine"):
        live_backend.run_many([stay, missing, stay], FAST, share_children=True)


def test_a_hang_in_a_shared_child_times_out_its_run_and_the_rest_still_run(live_backend: Any, monkeypatch: Any) -> None:
    import time
    from dataclasses import replace

    from mremapctl.backends.live.machine import LiveMachine

    real = LiveMachine.mremap

    def hangs_on_grow(self: Any, old: int, old_size: int, new_size: int, flags: int, new_addr: int) -> Any:
        if new_size > old_size:
            time.sleep(30)
        return real(self, old, old_size, new_size, flags, new_addr)

    monkeypatch.setattr(LiveMachine, "mremap", hangs_on_grow)
    leak, stay = parse_scenario(LEAK), parse_scenario(STAY)
    runs = live_backend.run_many([stay, leak, stay], replace(FAST, timeout=0.5), parallel=1, share_children=True)
    assert runs[1].failure == (
        "timed out after 0.5 s during step 3 (the child was killed); give it longer with --timeout SECONDS"
    )
    assert outcomes(runs[0]) == outcomes(runs[2]) and not runs[2].failure


def test_the_allocators_own_heap_is_not_taken_for_a_change() -> None:
    """glibc's brk heap appears and grows with the process's own allocations, whatever the parent
    had allocated before the fork: only mappings an experiment left may end a shared child."""
    before = reuse.ProcessState()
    held = [bytes(10_000) for _ in range(2000)]  # 20 MB in malloc's brk heap (each object one malloc)
    assert len(held) == 2000 and reuse._maps() == before.maps
