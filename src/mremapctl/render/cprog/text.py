"""C source text from scenario values: literals, comments and flag expressions.

Scenario text (names, paths, descriptions) is user input, so everything that lands in the
program goes through here: string literals are escaped byte by byte, and comments cannot
be closed early by a ``*/`` in a description.
"""

from __future__ import annotations

from typing import Mapping

from mremapctl import flags as F
from mremapctl.resolve import Addr
from mremapctl.units import format_size

INT_MAX = (1 << 31) - 1


def c_string(text: str) -> str:
    """A C string literal holding ``text``'s UTF-8 bytes exactly.

    >>> c_string('a"b\\\\c??/é')
    '"a\\\\"b\\\\\\\\c?\\\\?/\\\\303\\\\251"'
    """
    out = []
    previous = 0
    for byte in text.encode():
        if byte in (0x22, 0x5C):  # " and backslash
            out.append("\\" + chr(byte))
        elif byte == 0x3F and previous == 0x3F:  # "??" could start a trigraph
            out.append("\\?")
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03o}")
        previous = byte
    return '"' + "".join(out) + '"'


def c_char(value: int) -> str:
    """A byte as a C character constant: 'A', or 0x00 when it is not printable ASCII.

    >>> c_char(65), c_char(0), c_char(39)
    ("'A'", '0x00', "'\\\\''")
    """
    if 0x20 <= value < 0x7F:
        char = chr(value)
        return "'" + ("\\" + char if char in "'\\" else char) + "'"
    return f"0x{value:02x}"


def comment_text(text: str) -> str:
    """Text that is safe inside a /* */ comment, on one line."""
    return " ".join(text.replace("*/", "* /").replace("??", "? ?").split())


def c_number(value: int) -> str:
    """A non-negative integer literal: decimal while small, hex (with its size) when large."""
    if value <= INT_MAX:
        return str(value)
    return f"{value:#x}UL"


def c_size(value: int) -> str:
    """A byte count as a literal, with the human size beside it when that helps."""
    text = c_number(value)
    if value >= 4096 and format_size(value) != f"{value} B":
        text += f" /* {format_size(value)} */"
    return text


def c_flags(value: int, names: Mapping[str, int], prefix: str = "", zero: str = "0") -> str:
    """Flag names ORed together, unknown bits kept as one hex remainder: the exact value.

    >>> c_flags(0x9, F.MREMAP_FLAGS, "MREMAP_")
    'MREMAP_MAYMOVE | 0x8'
    """
    if value == 0:
        return zero
    return F.decode_flags(value, names, prefix).replace("|", " | ")


def c_prot(prot: int) -> str:
    return c_flags(prot, F.PROT_NAMES, zero="PROT_NONE")


def c_map_flags(flags: int) -> str:
    return c_flags(flags, F.MAP_NAMES)


def c_mremap_flags(bits: int) -> str:
    return c_flags(bits, F.MREMAP_FLAGS, "MREMAP_")


def c_addr(addr: Addr) -> str:
    """An address in C: a literal, or a run-time variable plus an offset, with the scenario's
    expression as a comment where the value alone does not say it."""
    if addr.var is None:
        value = f"{addr.offset:#x}" if addr.offset else "0"
    elif addr.offset:
        value = f"{addr.var} {'+' if addr.offset > 0 else '-'} {abs(addr.offset):#x}"
    else:
        value = addr.var
    plain = addr.var is not None and not addr.offset  # the variable's name already says which region
    note = "" if plain or addr.text in ("", value, hex(addr.offset), str(addr.offset)) else addr.text
    return f"{value} /* {note} */" if note else value
