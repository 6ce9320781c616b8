"""Every kind × the flag sets that matter, live on this machine, with the answers Linux ≥ 6.13 gives.

These are the facts of the reference (mremap-semantics.md §2.6, §4.1) made executable.
"""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from tests.backends.live.helpers import try_live

A4, Z4, SEGV4 = ["data:A"] * 4, ["zero"] * 4, ["SIGSEGV"] * 4

# (kind options, mremap options) -> (result, old range reads, new range reads)
DONTUNMAP_CASES: List[Any] = [
    ({"kind": "anon"}, "ok", Z4, A4),
    ({"kind": "shmem"}, "ok", A4, A4),
    ({"kind": "memfd"}, "ok", A4, A4),
    ({"kind": "memfd", "shared": False}, "ok", Z4, A4),  # the old range shows the (zero) file, not our writes
    ({"kind": "file"}, "ok", A4, A4),
    ({"kind": "file", "shared": False}, "ok", Z4, A4),
    ({"kind": "file", "dir": "/dev/shm"}, "ok", A4, A4),
    ({"kind": "devzero"}, "ok", Z4, A4),
    ({"kind": "devzero", "shared": True}, "ok", A4, A4),
    ({"kind": "sysvshm"}, "ok", A4, A4),
    ({"kind": "perf", "fill": None}, "EINVAL", None, []),
    ({"kind": "vdso", "fill": None}, "EINVAL", None, []),
    ({"kind": "aio", "fill": None}, "EINVAL", None, []),
]


@pytest.mark.parametrize(("kind", "result", "old", "new"), DONTUNMAP_CASES, ids=lambda v: str(v))
def test_dontunmap_by_kind(live_backend: Any, kind: Dict[str, Any], result: str, old: Any, new: Any) -> None:
    out = try_live(live_backend, dontunmap=True, **kind)
    assert out.result == result
    if result == "ok":
        assert out.moved
        assert out.old == old, "what the old range reads after DONTUNMAP"
        assert out.new == new
        assert out.entry("old") is not None, "DONTUNMAP keeps the old range mapped"
    else:
        assert out.new == []  # the read of "new" is skipped: the region was never created
        assert out.run.maps_after == out.run.maps_before, "a refused call changes nothing"


def test_secretmem_dontunmap(live_backend: Any) -> None:
    out = try_live(live_backend, kind="secretmem", dontunmap=True)
    assert out.result == "ok" and out.new == A4
    old = out.entry("old")
    assert old is not None and "lo" not in (old.vm_flags or ()), "the old range loses its permanent lock"
    assert "lo" in (out.entry("new").vm_flags or ())  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", ["anon", "memfd", "shmem", "file"])
def test_plain_move_unmaps_the_old_range(live_backend: Any, kind: str) -> None:
    out = try_live(live_backend, kind=kind, maymove=True, fixed="")
    assert out.result == "ok" and out.moved
    assert out.old == SEGV4 and out.new == A4
    assert out.entry("old") is None
    assert out.mremap.address == out.run.lab_start + (1 << 30)


def test_same_size_maymove_never_moves(live_backend: Any) -> None:
    out = try_live(live_backend, maymove=True)
    assert out.result == "ok" and not out.moved and out.old == A4


def test_grow_in_place_then_blocked(live_backend: Any) -> None:
    grown = try_live(live_backend, grow=True)
    assert grown.result == "ok" and not grown.moved
    assert grown.new == A4 + Z4
    new = grown.entry("new")
    assert new is not None and new.size == 8 * live_backend.page_size


def test_shrink_unmaps_the_tail(live_backend: Any) -> None:
    out = try_live(live_backend, shrink=True)
    assert out.result == "ok"
    assert out.old == ["data:A"] * 2 + ["SIGSEGV"] * 2


@pytest.mark.parametrize(
    ("opts", "errno"),
    [
        ({"raw_flags": 0x9}, "EINVAL"),  # an undefined bit
        ({"raw_flags": 0x2}, "EINVAL"),  # FIXED without MAYMOVE
        ({"raw_flags": 0x4}, "EINVAL"),  # DONTUNMAP without MAYMOVE
        ({"dontunmap": True, "new_size": "8p"}, "EINVAL"),  # DONTUNMAP needs equal lengths
        ({"offset": "1", "old_size": "1p"}, "EINVAL"),  # unaligned old address
        ({"new_size": "0"}, "EINVAL"),
        ({"old_size": "0", "maymove": True}, "EINVAL"),  # duplicating a private mapping
        ({"old_size": "8p", "new_size": "8p", "maymove": True, "fixed": ""}, "ok"),  # 6.17+: hole is fine
        ({"old_size": "8p", "new_size": "16p", "maymove": True}, "EFAULT"),  # the range leaves the VMA
        ({"dontunmap": True, "fixed": "old+1p"}, "EINVAL"),  # target overlaps the source
        ({"maymove": True, "fixed": "lab+1G+1"}, "EINVAL"),  # unaligned target
    ],
    ids=str,
)
def test_refusals(live_backend: Any, opts: Dict[str, Any], errno: str) -> None:
    assert try_live(live_backend, **opts).result == errno


def test_old_size_zero_duplicates_shared(live_backend: Any) -> None:
    out = try_live(live_backend, kind="shmem", old_size="0", maymove=True)
    assert out.result == "ok" and out.moved
    assert out.old == A4 and out.new == A4
    assert out.entry("old") is not None


@pytest.mark.parametrize("kind", ["perf", "vdso", "aio"])
def test_special_mappings_cannot_grow(live_backend: Any, kind: str) -> None:
    out = try_live(live_backend, kind=kind, fill=None, old_size="1p", new_size="4p", maymove=True)
    assert out.result == "EFAULT"


@pytest.mark.parametrize("kind", ["perf", "vdso", "aio"])
def test_special_mappings_move_whole(live_backend: Any, kind: str) -> None:
    out = try_live(live_backend, kind=kind, fill=None, fixed="")
    assert out.result == "ok" and out.moved
    assert out.entry("old") is None and out.entry("new") is not None


@pytest.mark.parametrize("kind", ["perf", "vdso"])
def test_special_mappings_refuse_splits(live_backend: Any, kind: str) -> None:
    out = try_live(live_backend, kind=kind, fill=None, old_size="2p", new_size="1p")
    assert out.result == "EINVAL"


def test_mlock_moves_with_dontunmap(live_backend: Any) -> None:
    out = try_live(live_backend, mlock=True, dontunmap=True)
    assert out.result == "ok"
    assert "lo" not in (out.entry("old").vm_flags or ())  # type: ignore[union-attr]
    assert "lo" in (out.entry("new").vm_flags or ())  # type: ignore[union-attr]


def test_map_locked(live_backend: Any) -> None:
    out = try_live(live_backend, locked=True, maymove=True)
    assert "lo" in (out.entry("old").vm_flags or ())  # type: ignore[union-attr]


@pytest.mark.parametrize("opts", [{"maymove": True, "fixed": ""}, {"shrink": True}, {"maymove": True}])
def test_sealed_regions_refuse_everything(live_backend: Any, opts: Dict[str, Any]) -> None:
    out = try_live(live_backend, mseal=True, **opts)
    assert out.result == "EPERM"
    assert "sl" in (out.entry("old").vm_flags or ())  # type: ignore[union-attr]


def test_prot_none_region_moves_and_reads_segv(live_backend: Any) -> None:
    out = try_live(live_backend, prot="none", maymove=True, fixed="")
    assert out.result == "ok" and out.new == SEGV4
    assert out.entry("new").perms == "---p"  # type: ignore[union-attr]
