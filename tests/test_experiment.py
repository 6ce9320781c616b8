import pytest

from mremapctl.errors import BadInput
from mremapctl.experiment import TryOptions, build
from mremapctl.scenario import Mremap


def mremap_of(opts: TryOptions) -> Mremap:
    scenario, _ = build(opts, 4096)
    step = next(s for s in scenario.steps if isinstance(s, Mremap))
    return step


def test_dontunmap_adds_maymove_and_says_so() -> None:
    scenario, notes = build(TryOptions(kind="memfd", dontunmap=True), 4096)
    assert mremap_of(TryOptions(dontunmap=True)).flag_bits == 5
    assert any("implies MREMAP_MAYMOVE" in n for n in notes)
    assert [s.op for s in scenario.steps] == ["mmap", "mremap", "read", "read"]


def test_raw_flags_are_exact() -> None:
    assert mremap_of(TryOptions(raw_flags=0x4)).flag_bits == 0x4
    with pytest.raises(BadInput, match="--raw-flags"):
        build(TryOptions(raw_flags=0x4, dontunmap=True), 4096)


def test_grow_shrink_offset_and_fixed_default() -> None:
    grow = mremap_of(TryOptions(grow=True, maymove=True))
    assert str(grow.new_size) == "8p"
    assert str(mremap_of(TryOptions(shrink=True)).new_size) == "2p"
    offset = mremap_of(TryOptions(offset="1p"))
    assert (str(offset.old), str(offset.old_size)) == ("old+1p", "3p")
    assert str(mremap_of(TryOptions(fixed="")).new_address) == "lab+1G"
    assert str(mremap_of(TryOptions(fixed="lab+2G+4096")).new_address) == "lab+2G+4096"


def test_old_size_zero_and_bytes() -> None:
    assert str(mremap_of(TryOptions(old_size="0", maymove=True)).old_size) == "0"
    assert str(mremap_of(TryOptions(old_size="4097")).old_size) == "4097"


def test_conflicts() -> None:
    with pytest.raises(BadInput, match="exclude"):
        build(TryOptions(grow=True, shrink=True), 4096)
    with pytest.raises(BadInput, match="kernel-chosen size"):
        build(TryOptions(kind="vdso", grow=True), 4096)
