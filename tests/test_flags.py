import pytest

from mremapctl import flags as F
from mremapctl.errors import BadInput


def test_unknown_bits_print_as_hex() -> None:
    assert F.decode_flags(0x5, F.MREMAP_FLAGS, "MREMAP_") == "MREMAP_MAYMOVE|MREMAP_DONTUNMAP"
    assert F.decode_flags(0x9, F.MREMAP_FLAGS, "MREMAP_") == "MREMAP_MAYMOVE|0x8"
    assert F.decode_flags(0xF0, F.MREMAP_FLAGS, "MREMAP_") == "0xf0"
    assert F.decode_flags(0, F.MREMAP_FLAGS, "MREMAP_") == "0"


def test_flag_names_with_or_without_prefix() -> None:
    assert F.mremap_flag_bits(["MAYMOVE", "mremap_dontunmap"]) == 5
    with pytest.raises(BadInput, match="unknown mremap flag 'MOVE'"):
        F.mremap_flag_bits(["MOVE"])


@pytest.mark.parametrize(("text", "bits"), [("rw", 3), ("r", 1), ("rwx", 7), ("none", 0), ("r-x", 5), ("", 0)])
def test_prot(text: str, bits: int) -> None:
    assert F.parse_prot(text) == bits


def test_bad_prot() -> None:
    with pytest.raises(BadInput, match="'rq'"):
        F.parse_prot("rq")
