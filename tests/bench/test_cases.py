"""Which cells bench measures, and where their regions sit: the alignment is the experiment."""

from __future__ import annotations

import pytest

from mremapctl.bench.cases import (
    DEFAULT_SIZES,
    MAX_SIZE,
    Case,
    Selection,
    addresses,
    build_cases,
    parse_choice,
    parse_sizes,
    populate_need,
)
from mremapctl.errors import BadInput
from mremapctl.lab import DEFAULT_LAB_START, LAB_SIZE

GiB, MiB = 1 << 30, 1 << 20


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


@pytest.mark.parametrize("size", [4096, 2 * MiB, GiB, MAX_SIZE])
def test_placements_have_the_alignment_they_are_named_after(size: int) -> None:
    def where(placement: str) -> tuple[int, int]:
        return addresses(Case("move", "anon", size, placement, True), DEFAULT_LAB_START)

    src, dst = where("pud")
    assert src % GiB == 0 and dst % GiB == 0
    src, dst = where("pmd")
    assert src % (2 * MiB) == 0 and dst % (2 * MiB) == 0 and src % GiB and dst % GiB
    src, dst = where("mutual")
    assert src % (2 * MiB) == dst % (2 * MiB) != 0
    src, dst = where("misaligned")
    assert src % (2 * MiB) != dst % (2 * MiB)


@pytest.mark.parametrize("placement", ["pud", "pmd", "mutual", "misaligned"])
def test_regions_stay_in_the_lab_with_room_to_grow(placement: str) -> None:
    for size in (4096, GiB, MAX_SIZE):
        src, dst = addresses(Case("grow", "anon", size, placement, True), DEFAULT_LAB_START)
        assert src >= DEFAULT_LAB_START and src + 2 * size < dst  # grown source never reaches the destination
        assert dst + size <= DEFAULT_LAB_START + LAB_SIZE


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
