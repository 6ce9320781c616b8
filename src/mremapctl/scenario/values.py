"""How each value of an experiment is read, whether typed as a `try` option or a scenario key.

One converter per kind of value: the scenario steps declare their keys with these, and the
CLI wraps the same functions as click parameter types, so ``--fill-byte 0x100`` and
``fill = "0x100"`` are refused by the same code with the same words. Each converter takes
what TOML or the command line gives (a string, an int, a bool) and returns the value or
raises BadInput naming it.
"""

from __future__ import annotations

import os
import stat
from typing import Any, Tuple

from mremapctl.errors import BadInput
from mremapctl.flags import MADVISE, VM_FLAGS, mremap_flag_bits, parse_prot
from mremapctl.kinds import KINDS, kind_names

UFFD_MODES = {"missing": 1, "wp": 2, "minor": 4}
# `try --populate` and `--thp`: the madvise advice each value stands for (as a scenario writes it).
POPULATE_ADVICE = {"read": "populate_read", "write": "populate_write"}
THP_ADVICE = {"huge": "hugepage", "none": "nohugepage"}
CAPABILITIES = {"IPC_LOCK": 14, "SYS_RESOURCE": 24, "SYS_ADMIN": 21, "SYS_PTRACE": 19}
RAW_FLAGS_MAX = 0xFFFFFFFF  # mremap's flags argument is an unsigned long, but only 32 bits are ever defined


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise BadInput(f"expected a string, got {value!r}")
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadInput(f"expected true or false, got {value!r}")
    return value


def raw_flags(value: Any) -> int:
    """Exact mremap flag bits: an integer 0..0xffffffff (TOML 0x5, or the text "0x5" / "5").

    >>> raw_flags("0x9"), raw_flags(5)
    (9, 5)
    """
    number: Any = value
    if isinstance(value, str):
        try:
            number = int(value.strip(), 0)
        except ValueError:
            number = None
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= RAW_FLAGS_MAX:
        raise BadInput(f"bad raw flags {value!r}: expected an integer 0..0xffffffff such as 0x5")
    return number


def flag_list(value: Any) -> Tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInput(f'flags must be a list of names such as ["MAYMOVE"], got {value!r}')
    mremap_flag_bits(value)  # names checked now
    return tuple(value)


def kind(value: Any) -> str:
    if value not in KINDS:
        raise BadInput(f"unknown kind {value!r}: known kinds are {kind_names()}")
    return str(value)


def prot(value: Any) -> str:
    parse_prot(text(value))
    return str(value)


def byte(value: Any) -> str:
    """A fill or write byte: one ASCII character, or 0x00..0xff.

    >>> byte("A"), byte("0x41")
    ('A', '0x41')
    """
    if isinstance(value, str) and ((len(value) == 1 and value.isascii()) or _is_byte_hex(value)):
        return value
    raise BadInput(f'bad byte {value!r}: one ASCII character such as "A", or 0x00..0xff')


def _is_byte_hex(value: str) -> bool:
    try:
        return value[:2].lower() == "0x" and 0 <= int(value, 16) <= 0xFF
    except ValueError:
        return False


def byte_value(value: str) -> int:
    """The number a byte text stands for.

    >>> byte_value("A"), byte_value("0x7")
    (65, 7)
    """
    return ord(value) if len(value) == 1 else int(value, 16)


def advice(value: Any) -> str:
    if value not in MADVISE:
        raise BadInput(f"unknown advice {value!r}: known advice is {', '.join(MADVISE)}")
    return str(value)


def vm_flag(value: Any) -> str:
    """A VmFlags mnemonic as smaps prints it ("lo", "gu", "ac")."""
    if value not in VM_FLAGS:
        raise BadInput(f"unknown VmFlag {value!r}: smaps names them {', '.join(VM_FLAGS)}")
    return str(value)


def uffd_mode(value: Any) -> str:
    if value not in UFFD_MODES:
        raise BadInput(f"unknown userfaultfd mode {value!r}: use missing, minor or wp")
    return str(value)


def capability(value: Any) -> str:
    name = text(value).upper().removeprefix("CAP_")
    if name not in CAPABILITIES:
        raise BadInput(f"unknown capability {value!r}: known are {', '.join(CAPABILITIES)}")
    return name


def existing_file(value: Any) -> str:
    """A user's own file to map: it must exist and be a regular file (a directory, a device or a
    /proc file would only give ENODEV or worse, and a device may have side effects when mapped)."""
    path = text(value)
    if not path:
        raise BadInput("bad path '': give a file name")
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        raise BadInput(f"bad path {path!r}: {err.strerror.lower() if err.strerror else err}") from None
    if stat.S_ISDIR(mode):
        raise BadInput(f"bad path {path!r}: a directory, not a regular file")
    if not stat.S_ISREG(mode):
        raise BadInput(f"bad path {path!r}: not a regular file (a device, pipe or socket)")
    if path.startswith(("/proc/", "/sys/")):
        raise BadInput(f"bad path {path!r}: a kernel interface file, not a regular file")
    return path


def directory(value: Any) -> str:
    """Where a temporary file is made: an existing directory."""
    path = text(value)
    if not os.path.isdir(path):
        raise BadInput(f"bad dir {path!r}: not an existing directory")
    return path
