import doctest

import pytest

from mremapctl import units
from mremapctl.errors import BadInput
from mremapctl.units import format_size, parse_term, rough_size, short_size


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("4097", 4097),
        ("2p", 8192),
        ("16K", 16384),
        ("16k", 16384),
        ("2M", 2 << 20),
        ("1G", 1 << 30),
        ("1T", 1 << 40),
        ("0x1000", 4096),
        ("0", 0),
        ("3KiB", 3072),
        ("18446744073709551615", 2**64 - 1),
    ],
)
def test_parse_term(text: str, value: int) -> None:
    assert parse_term(text, 4096) == value


def test_pages_follow_the_page_size() -> None:
    assert parse_term("2p", 16384) == 32768


@pytest.mark.parametrize("text", ["-5", "1Q", "0x", "99999999999999999999", "", "2P", "p", "1.5K"])
def test_bad_terms_name_the_value(text: str) -> None:
    with pytest.raises(BadInput, match="bad size"):
        parse_term(text, 4096)


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (4097, "4097 B"),
        (4096, "4 KiB"),
        (1536, "1.5 KiB"),
        (3 << 20, "3 MiB"),
        (1 << 30, "1 GiB"),
        ((1 << 30) + 4096, "1048580 KiB"),
        (1 << 40, "1 TiB"),
    ],
)
def test_format_size_binary_units(n: int, text: str) -> None:
    assert format_size(n) == text


def test_rough_sizes_count_a_hair_under_a_unit_as_one() -> None:
    assert [rough_size(n) for n in ((1 << 30) - 16384, 32 << 30, 1536, 100)] == ["1 GiB", "32 GiB", "1.5 KiB", "100 B"]


def test_short_sizes_are_exact_or_bytes() -> None:
    assert [short_size(n) for n in (4096, 1 << 30, 3 << 20, 4097)] == ["4K", "1G", "3M", "4097"]


def test_the_examples_in_the_docstrings() -> None:
    """pytest collects tests/ only, so the module's doctests run here."""
    failures, tried = doctest.testmod(units)
    assert failures == 0 and tried > 0
