"""Which cells bench measures, and where their regions sit: the alignment is the experiment."""

from __future__ import annotations

import pytest

from mremapctl.bench.cases import (
    DEFAULT_SIZES,
    MAX_SIZE,
    PLACEMENTS,
    Case,
    Selection,
    addresses,
    build_cases,
    default_sizes,
    lab_size,
    parse_choice,
    parse_sizes,
    populate_need,
)
from mremapctl.errors import BadInput
from mremapctl.lab import DEFAULT_LAB_START, LAB_SIZE
from mremapctl.platforms import Platform

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30


def test_default_selection_covers_every_op_mapping_and_placement() -> None:
    cases = build_cases(Selection())
    series = {c.series for c in cases}
    # move 4 placements; dontunmap 2 mappings × 4; grow and shrink 3 each (no "mutual"): × populated 2
    assert len(series) == (4 + 8 + 3 + 3) * 2
    assert len(cases) == len(series) * len(DEFAULT_SIZES)
    assert {c.mapping for c in cases if c.op == "dontunmap"} == {"anon", "memfd"}
    assert not [c for c in cases if c.op in ("grow", "shrink") and c.placement == "mutual"]


def test_mappings_option_applies_to_every_op() -> None:
    cases = build_cases(Selection(sizes=(4096,), mappings=("memfd",), populated=(True,)))
    assert {c.mapping for c in cases} == {"memfd"}
    assert {c.op for c in cases} == {"move", "dontunmap", "grow", "shrink"}


SHAPES = [Platform("amd64", 4096), Platform("arm64", 16384), Platform("arm64", 65536)]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda p: p.label)
@pytest.mark.parametrize("size", [64 * KiB, 2 * MiB, GiB, MAX_SIZE])
def test_placements_have_the_alignment_they_are_named_after(shape: Platform, size: int) -> None:
    pmd, pud = shape.pmd, shape.pud

    def where(placement: str) -> tuple[int, int]:
        return addresses(Case("move", "anon", size, placement, True), DEFAULT_LAB_START, shape)

    src, dst = where("pud")
    assert src % pud == 0 and dst % pud == 0
    src, dst = where("pmd")
    assert src % pmd == 0 and dst % pmd == 0 and src % pud and dst % pud
    src, dst = where("mutual")
    assert src % pmd == dst % pmd != 0
    src, dst = where("misaligned")
    assert src % pmd != dst % pmd
    assert all(a % shape.page == 0 for placement in PLACEMENTS for a in where(placement))


@pytest.mark.parametrize("shape", SHAPES, ids=lambda p: p.label)
@pytest.mark.parametrize("placement", ["pud", "pmd", "mutual", "misaligned"])
def test_regions_stay_in_the_lab_with_room_to_grow(shape: Platform, placement: str) -> None:
    cases = [Case("grow", "anon", size, placement, True) for size in (64 * KiB, GiB, MAX_SIZE)]
    room = lab_size(cases, shape)
    for case in cases:
        src, dst = addresses(case, DEFAULT_LAB_START, shape)
        assert src >= DEFAULT_LAB_START and src + 2 * case.size < dst  # grown source never reaches the destination
        assert dst + case.size <= DEFAULT_LAB_START + room
    # 4 KiB pages keep the usual 32 GiB lab; PUD placements with a 64 GiB PUD (16 KiB pages) need
    # a source slot and a destination slot a PUD apart, past the lab's first PUD
    assert room == LAB_SIZE if shape.page == 4096 or placement != "pud" else room >= 2 * shape.pud + MAX_SIZE


def test_default_sizes_are_whole_pages_of_the_machine() -> None:
    assert default_sizes(False, Platform("amd64", 4096)) == DEFAULT_SIZES
    assert default_sizes(True, Platform("arm64", 16384)) == (64 * KiB, 2 * MiB, 8 * MiB)
    assert parse_sizes("32K,32M", Platform("arm64", 16384)) == (32 * KiB, 32 * MiB)
    with pytest.raises(BadInput, match="a bench size is a whole number of 16 KiB pages"):
        parse_sizes("4K", Platform("arm64", 16384))


def test_populate_need() -> None:
    assert populate_need(Case("move", "anon", GiB, "pud", True)) == GiB
    assert populate_need(Case("shrink", "anon", GiB, "pud", True)) == 2 * GiB
    assert populate_need(Case("move", "anon", GiB, "pud", False)) == 0


def test_parse_sizes() -> None:
    assert parse_sizes("2M, 4K,2M,1G") == (4096, 2 * MiB, GiB)
    assert parse_sizes("2p") == (8192,)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3000", "bad size '3000': a bench size is a whole number of 4 KiB pages"),
        ("0", "bad size '0'"),
        ("16G", "bad size '16G': at most 8 GiB"),
        ("lots", "bad size 'lots'"),
        (",", "bad size list ','"),
    ],
)
def test_bad_sizes(text: str, message: str) -> None:
    with pytest.raises(BadInput, match=message.replace("(", r"\(")):
        parse_sizes(text)


def test_parse_choice_keeps_the_known_order_and_names_the_bad_value() -> None:
    assert parse_choice("misaligned,PUD", ("pud", "pmd", "mutual", "misaligned"), "placement") == ("pud", "misaligned")
    with pytest.raises(BadInput, match="unknown op 'copy': known are move, dontunmap"):
        parse_choice("move,copy", ("move", "dontunmap"), "op")
