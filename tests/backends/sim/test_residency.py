"""The model's smaps counters: what it knows of the pages present, and None where it does not."""

from __future__ import annotations

from typing import Optional

import pytest

from mremapctl.backends.select import open_sim
from mremapctl.experiment import TryOptions, build
from mremapctl.results import MemoryUse, Run
from mremapctl.scenario import parse_scenario


def memory(run: Run, label: str, after: bool = True) -> Optional[MemoryUse]:
    entries = run.maps_after if after else run.maps_before
    return next(e.memory for e in entries if e.label == label)


def tried(**opts: object) -> Run:
    return open_sim("6.18").run(build(TryOptions(**opts), 4096)[0])  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["anon", "memfd", "shmem", "file"])
def test_dontunmap_takes_the_pages_to_the_new_range(kind: str) -> None:
    run = tried(kind=kind, dontunmap=True)
    # no THP in the model: AnonHugePages is unknown, not 0
    assert memory(run, "old", after=False) == MemoryUse(16384, 16384, 0, 0, None)
    assert memory(run, "old") == MemoryUse(0, 0, 0, 0, None)
    assert memory(run, "new") == MemoryUse(16384, 16384, 0, 0, None)


def test_shared_pages_split_their_pss_and_a_read_maps_its_cached_neighbours() -> None:
    run = open_sim("6.18").run(
        parse_scenario(
            '[[step]]\nop = "mmap"\nname = "A"\nkind = "memfd"\nsize = "20p"\nfill = "A"\n'
            '[[step]]\nop = "mmap"\nname = "B"\nkind = "memfd"\nsame_as = "A"\nsize = "20p"\nat = "lab+1G"\n'
            '[[step]]\nop = "read"\nat = "B+17p"\nsize = "1p"\n'
            '[[step]]\nop = "mprotect"\nat = "B"\nprot = "r"\n'  # the maps after: a snapshot after a call
        )
    )
    # the read fault maps B's pages 16-19: the aligned block of 16 around page 17, cut at B's end
    assert memory(run, "B") == MemoryUse(4 * 4096, 4 * 2048, 0, 0, None)
    assert memory(run, "A") == MemoryUse(20 * 4096, 16 * 4096 + 4 * 2048, 0, 0, None)


def test_the_zero_page_a_read_maps_is_not_resident_but_a_written_zero_is() -> None:
    run = open_sim("6.18").run(
        parse_scenario(
            '[[step]]\nop = "mmap"\nname = "A"\nkind = "anon"\nsize = "4p"\n'
            '[[step]]\nop = "read"\nat = "A"\n'
            '[[step]]\nop = "write"\nat = "A"\nsize = "1p"\nbyte = "0x00"\n'
            '[[step]]\nop = "mprotect"\nat = "A"\nprot = "r"\n'
        )
    )
    assert memory(run, "A") == MemoryUse(4096, 4096, 0, 0, None)


def test_unknown_where_the_kernel_populates_and_the_model_does_not() -> None:
    assert memory(tried(kind="anon", mlock=True, fill=None), "old", after=False) is None  # mlock populates
    assert memory(tried(kind="perf", fill=None), "old", after=False) is None  # the ring maps its own pages


def test_hugetlb_is_never_in_rss() -> None:
    run = open_sim("6.18").run(
        parse_scenario('[[step]]\nop = "mmap"\nname = "H"\nkind = "hugetlb"\nsize = "2M"\nfill = "H"\n'),
    )
    assert memory(run, "H") == MemoryUse(0, 0, 0, 0, 0)
