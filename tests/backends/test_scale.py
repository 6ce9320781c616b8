"""Size does not change the answer: the same experiment at 16 KiB and at 64 GiB (simulated) or
1 GiB (live) gives the same rules, the same maps and the same content runs, scaled."""

from __future__ import annotations

from typing import Any, List, Tuple

import pytest

from mremapctl.backends.select import open_sim
from mremapctl.experiment import TryOptions, build
from mremapctl.lab import GiB, Lab
from mremapctl.primitives import RunOptions
from mremapctl.results import Run

VARIANTS = {
    "dontunmap": {"dontunmap": True},
    "grow": {"maymove": True, "grow": True},
    "shrink": {"shrink": True},
    "fixed": {"fixed": ""},
    "duplicate": {"old_size": "0", "maymove": True},
}
KINDS = ("anon", "memfd", "shmem")


def shape(run: Run, size: int) -> List[Tuple[Any, ...]]:
    """What the run says, with every size and page count divided by the region's size."""
    page = run.page_size
    steps = [(s.op, s.outcome, s.rule, tuple((v, c * page / size) for v, c in s.runs or ())) for s in run.steps]
    maps = [(e.size / size, e.perms, e.vm_flags, e.label) for e in sorted(run.maps_after, key=lambda e: e.start)]
    return [*steps, *maps]


def experiment(kind: str, variant: str, size: str, fill: bool) -> Any:
    options = TryOptions(kind=kind, size=size, fill="A" if fill else None, **VARIANTS[variant])  # type: ignore[arg-type]
    return build(options, 4096)[0]


# old_size 0 of private memory is EINVAL at any size (the rules cover it): not an anon variant
CASES = [(kind, variant) for kind in KINDS for variant in VARIANTS if (kind, variant) != ("anon", "duplicate")]


@pytest.mark.parametrize(("kind", "variant"), CASES)
def test_64_gib_simulated_is_16_kib_scaled(kind: str, variant: str) -> None:
    sim = open_sim("6.18", lab_size=256 * GiB)
    sim.facts.total_ram = 1 << 40  # a machine where 64 GiB of private memory may be charged
    small = sim.run(experiment(kind, variant, "4p", fill=False))
    big = sim.run(experiment(kind, variant, "64G", fill=False))
    assert big.failure is None
    assert shape(big, 64 * GiB) == shape(small, 4 * 4096)


@pytest.mark.parametrize("variant", ["dontunmap", "grow", "fixed"])
def test_1_gib_live_is_16_kib_scaled(live_backend: Any, variant: str) -> None:
    options = RunOptions(timeout=60)
    small = live_backend.run(experiment("anon", variant, "4p", fill=True), options)
    big = live_backend.run(experiment("anon", variant, "1G", fill=True), options)
    assert big.failure is None, big.failure
    assert shape(big, GiB) == shape(small, 4 * 4096)


def test_a_larger_lab_holds_what_the_default_one_refuses() -> None:
    from mremapctl.errors import BadInput

    with pytest.raises(BadInput, match="reaches outside the lab"):
        open_sim("6.18").run(experiment("anon", "dontunmap", "64G", fill=False))
    assert open_sim("6.18", lab_size=128 * GiB).lab == Lab(size=128 * GiB)


# Regions where every page answers alike: the live backend asks one page for all of them.
ALIKE = {
    "no access": ('prot = "none"', "SIGSEGV"),
    "past a file's end": ('kind = "memfd"\nfile_size = "4K"', "SIGBUS"),
    "read-only, written": ('prot = "r"', "SIGSEGV"),
}


def alike_scenario(setup: str, size: str, write: bool) -> Any:
    from mremapctl.scenario.load import parse_scenario

    touch = '[[step]]\nop = "write"\nat = "A"\nbyte = "B"\n' if write else '[[step]]\nop = "read"\nat = "A"\n'
    return parse_scenario(f'[[step]]\nop = "mmap"\nname = "A"\nsize = "{size}"\n{setup}\n\n{touch}')


@pytest.mark.parametrize("case", ALIKE)
def test_1_gib_that_faults_alike_answers_in_a_moment(live_backend: Any, case: str) -> None:
    """A faulting GiB once took a fault and a maps read per page (minutes); now it is one question."""
    import time

    setup, signal = ALIKE[case]
    write = case.endswith("written")
    start = time.perf_counter()
    big = live_backend.run(alike_scenario(setup, "1G", write), RunOptions(timeout=60))
    elapsed = time.perf_counter() - start
    sim = open_sim("6.18").run(alike_scenario(setup, "1G", write))
    assert big.failure is None, big.failure
    first_page = 1 if case == "past a file's end" else 0
    assert big.steps[-1].runs[first_page:] == [(signal, GiB // 4096 - first_page)]
    assert shape(big, GiB) == shape(sim, GiB), "live and the model agree"
    assert elapsed < 5, f"{elapsed:.1f} s for a GiB that faults alike"


UFFD_GIB = """
[[step]]
op = "mmap"
name = "A"
size = "1G"
fill = "A"

[[step]]
op = "mmap"
name = "H"
size = "1G"

[[step]]
op = "uffd_register"
at = "A"
size = "1G"

[[step]]
op = "uffd_register"
at = "H"
size = "1G"

[[step]]
op = "read"
at = "A"
size = "1G"

[[step]]
op = "read"
at = "H"
size = "1G"
"""


def test_1_gib_registered_with_userfaultfd_reads_in_a_moment(live_backend: Any) -> None:
    """A page that is there cannot wait for a handler: only the holes need a bounded read, one per hole."""
    import time

    from mremapctl.scenario.load import parse_scenario

    scenario = parse_scenario(UFFD_GIB)
    start = time.perf_counter()
    live = live_backend.run(scenario, RunOptions(timeout=60))
    elapsed = time.perf_counter() - start
    assert live.failure is None, live.failure
    assert [s.runs for s in live.steps[-2:]] == [[("data:A", GiB // 4096)], [("uffd", GiB // 4096)]]
    assert shape(live, GiB) == shape(open_sim("6.18").run(scenario), GiB), "live and the model agree"
    assert elapsed < 5, f"{elapsed:.1f} s"
