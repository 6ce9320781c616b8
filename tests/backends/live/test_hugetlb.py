"""hugetlb mappings: huge-page alignment, no growth, no DONTUNMAP (they are VM_DONTEXPAND)."""

from __future__ import annotations

from typing import Any

import pytest

from mremapctl.errors import Unavailable
from tests.backends.live.helpers import try_live


def test_unavailable_without_reserved_pages(live_backend: Any) -> None:
    with open("/proc/sys/vm/nr_hugepages") as f:
        if int(f.read()) != 0:
            pytest.skip("huge pages are reserved on this machine")
    with pytest.raises(Unavailable, match=r"no huge pages reserved \(vm.nr_hugepages = 0\)"):
        try_live(live_backend, kind="hugetlb", dontunmap=True)


def test_hugetlb_rules(live_backend: Any, huge_pages: int) -> None:
    dontunmap = try_live(live_backend, kind="hugetlb", dontunmap=True)
    assert dontunmap.result == "EINVAL"
    assert {"ht", "de"} <= set(dontunmap.entry("old").vm_flags or ())  # type: ignore[union-attr]
    moved = try_live(live_backend, kind="hugetlb", fixed="")
    assert moved.result == "ok" and moved.new == ["data:A"] * 512 * 2
    assert try_live(live_backend, kind="hugetlb", maymove=True, grow=True).result == "EINVAL"
    assert try_live(live_backend, kind="hugetlb", maymove=True, fixed="lab+1G+1p").result == "EINVAL"
    shrunk = try_live(live_backend, kind="hugetlb", shrink=True)
    assert shrunk.result == "ok" and shrunk.entry("old").size == 2 << 20  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", ["memfd", "shmem"])
def test_huge_memfd_and_shmem_refuse_dontunmap(live_backend: Any, huge_pages: int, kind: str) -> None:
    out = try_live(live_backend, kind=kind, hugetlb=True, size="2M", dontunmap=True)
    assert out.result == "EINVAL"
