"""Size and address expressions of the scenario contract.

A size is a sum of terms ("2p+1"); an address is a region name, ``lab`` or a number,
optionally followed by such terms ("A+2p+1", "lab+16p", "B-1p"). Both keep the text the
user wrote, so a saved scenario reads exactly as it was typed.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Optional, Tuple

from mremapctl.errors import BadInput
from mremapctl.frozen import frozen
from mremapctl.units import U64_MAX, parse_term

_SPLIT = re.compile(r"\s*([+-])\s*")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@lru_cache(maxsize=4096)
def _split_terms(text: str, what: str) -> Tuple[Tuple[int, str], ...]:
    """Split "a+b-c" into signed terms; the first term has sign +1."""
    pieces = _SPLIT.split(text.strip())
    if pieces[0] == "" and len(pieces) > 1:  # leading sign: "-5"
        raise BadInput(f"bad {what} {text!r}: must not be negative")
    terms = [(1, pieces[0])]
    for i in range(1, len(pieces), 2):
        terms.append((1 if pieces[i] == "+" else -1, pieces[i + 1]))
    if any(not term for _, term in terms):
        raise BadInput(f"bad {what} {text!r}: empty term")
    return tuple(terms)


@lru_cache(maxsize=4096)
def _sum_terms(terms: Tuple[Tuple[int, str], ...], page_size: int, text: str, what: str) -> int:
    total = 0
    for sign, term in terms:
        try:
            total += sign * parse_term(term, page_size)
        except BadInput:
            raise BadInput(f"bad {what} {text!r}: {term!r} is not a number with p, K, M, G or T") from None
    return total


@frozen
class SizeExpr:
    """A byte count: "4097" is bytes, "2p" pages of the backend's page size, "16K" binary KiB."""

    text: str

    def __post_init__(self) -> None:
        self.resolve(4096)  # syntax and range check now, so a bad file fails before running

    @classmethod
    def of(cls, value: int | str | SizeExpr) -> SizeExpr:
        if isinstance(value, SizeExpr):
            return value
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise BadInput(f'bad size {value!r}: expected a number or a string such as "4p"')
        return cls(str(value))

    def resolve(self, page_size: int) -> int:
        value = _sum_terms(_split_terms(self.text, "size"), page_size, self.text, "size")
        if value < 0:
            raise BadInput(f"bad size {self.text!r}: must not be negative")
        if value > U64_MAX:
            raise BadInput(f"bad size {self.text!r}: larger than 2^64-1")
        return value

    def __str__(self) -> str:
        return self.text


@lru_cache(maxsize=4096)
def _address_parts(text: str) -> Tuple[Optional[str], Tuple[Tuple[int, str], ...]]:
    """Split an address into its base name (None for a number) and its signed terms."""
    terms = _split_terms(text, "address")
    head = terms[0][1]
    if _NAME.fullmatch(head):
        _sum_terms(terms[1:], 4096, text, "address")  # syntax only; pages resolve later
        return head, terms[1:]
    _sum_terms(terms, 4096, text, "address")
    return None, terms


@frozen
class AddrExpr:
    """An address: a region name, ``lab``, or a number, plus or minus sizes."""

    text: str

    def __post_init__(self) -> None:
        self._parts()

    @classmethod
    def of(cls, value: int | str | AddrExpr) -> AddrExpr:
        if isinstance(value, AddrExpr):
            return value
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise BadInput(f"bad address {value!r}: expected a region name, lab, or a number")
        return cls(hex(value) if isinstance(value, int) else value)

    def _parts(self) -> Tuple[Optional[str], Tuple[Tuple[int, str], ...]]:
        return _address_parts(self.text)

    @property
    def base_name(self) -> Optional[str]:
        """The region name (or "lab") the address is relative to; None for a plain number."""
        return self._parts()[0]

    @property
    def is_bare_name(self) -> bool:
        """True for "A" alone: sizes may then default to the region's size."""
        name, terms = self._parts()
        return name is not None and not terms

    def resolve(self, lookup: Callable[[str], int], page_size: int) -> int:
        name, terms = self._parts()
        base = lookup(name) if name is not None else 0
        value = base + _sum_terms(terms, page_size, self.text, "address") if terms else base
        if value < 0 or value > U64_MAX:
            raise BadInput(f"bad address {self.text!r}: resolves to {value:#x}, outside 0..2^64-1")
        return value

    def __str__(self) -> str:
        return self.text
