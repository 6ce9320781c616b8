import pytest

from mremapctl.errors import BadInput
from mremapctl.expr import AddrExpr, SizeExpr

REGIONS = {"A": 0x100000000000, "lab": 0x100000000000, "B": 0x100040000000}


@pytest.mark.parametrize(("text", "value"), [("2p+1", 8193), ("4p - 1p", 12288), ("1M+2p", (1 << 20) + 8192), ("0", 0)])
def test_size_sums(text: str, value: int) -> None:
    assert SizeExpr(text).resolve(4096) == value


@pytest.mark.parametrize("text", ["-5", "1Q", "0x", "99999999999999999999", "1p-2p", "2p+", "+2p"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(BadInput, match="bad size"):
        SizeExpr(text).resolve(4096)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("A", 0x100000000000),
        ("A+2p+1", 0x100000000000 + 8193),
        ("B-1p", 0x100040000000 - 4096),
        ("lab+16p", 0x100000000000 + 65536),
        ("0x100000001000", 0x100000001000),
    ],
)
def test_addresses(text: str, value: int) -> None:
    assert AddrExpr(text).resolve(REGIONS.__getitem__, 4096) == value


def test_address_names() -> None:
    assert AddrExpr("A+2p").base_name == "A"
    assert AddrExpr("A").is_bare_name
    assert not AddrExpr("A+1").is_bare_name
    assert AddrExpr("0x1000").base_name is None


@pytest.mark.parametrize("text", ["A+", "A+Q", "+A", "A+-1"])
def test_bad_addresses(text: str) -> None:
    with pytest.raises(BadInput, match="bad address"):
        AddrExpr(text)


def test_address_below_zero() -> None:
    with pytest.raises(BadInput, match="outside"):
        AddrExpr("A-17T").resolve(REGIONS.__getitem__, 4096)


def test_of_accepts_ints_and_keeps_text() -> None:
    assert str(SizeExpr.of(4096)) == "4096"
    assert AddrExpr.of(0x1000).text == "0x1000"
    with pytest.raises(BadInput):
        SizeExpr.of(True)
