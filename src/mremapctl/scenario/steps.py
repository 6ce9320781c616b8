"""One dataclass per scenario op; the TOML keys are their field names.

Each field says how to read its TOML value (``conv``); the loader and the dumper are
generic over these declarations, so adding an op or a key is one line here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Callable, ClassVar, Dict, List, Optional, Tuple, Type, Union

from mremapctl.errors import BadInput
from mremapctl.expr import AddrExpr, SizeExpr
from mremapctl.flags import MADVISE, mremap_flag_bits, parse_prot
from mremapctl.kinds import KINDS, kind_names
from mremapctl.units import U64_MAX


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise BadInput(f"expected a string, got {value!r}")
    return value


Expect = Union[str, Tuple[Tuple[str, str], ...]]  # one answer, or (kernel range, answer) pairs


def _expect(value: Any) -> Expect:
    """``"EINVAL"``, or per kernel: ``{ "..5.12" = "EINVAL", "5.13.." = "ok" }`` (ranges inclusive)."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict) or not value:
        raise BadInput(f"expect must be a string or a table of kernel ranges, got {value!r}")
    for key, answer in value.items():
        parse_range(key)
        if not isinstance(answer, str):
            raise BadInput(f"expect[{key!r}] must be a string, got {answer!r}")
    return tuple(value.items())


def parse_range(text: str) -> Tuple[Tuple[int, int], Tuple[int, int]]:
    """ "5.7..5.12", "5.13..", "..5.12" or "5.10": the inclusive range of kernel versions it names."""
    from mremapctl.backends.sim.versions import parse_version

    low, sep, high = text.partition("..")
    try:
        first = parse_version(low) if low else (0, 0)
        last = parse_version(high) if high else ((99, 99) if sep else first)
    except BadInput:
        raise BadInput(f"bad kernel range {text!r}: use 5.13.., ..5.12, 5.7..5.12 or 5.10") from None
    return first, last


def expected_for(expect: Optional[Expect], version: Tuple[int, int]) -> Optional[str]:
    """The answer an ``expect`` gives for one kernel (None: no expectation for it)."""
    if expect is None or isinstance(expect, str):
        return expect
    for key, answer in expect:
        first, last = parse_range(key)
        if first <= version <= last:
            return answer
    return None


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadInput(f"expected true or false, got {value!r}")
    return value


def _raw_bits(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
        raise BadInput(f"raw flags must be an integer 0..0xffffffff, got {value!r}")
    return value


def _flag_list(value: Any) -> Tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInput(f'flags must be a list of names such as ["MAYMOVE"], got {value!r}')
    mremap_flag_bits(value)  # names checked now
    return tuple(value)


def _kind(value: Any) -> str:
    if value not in KINDS:
        raise BadInput(f"unknown kind {value!r}: known kinds are {kind_names()}")
    return str(value)


def _prot(value: Any) -> str:
    parse_prot(_str(value))
    return str(value)


def _byte(value: Any) -> str:
    """A fill/write byte: one character, or 0xNN."""
    text = _str(value)
    if len(text) == 1 or (text.lower().startswith("0x") and _is_byte_hex(text)):
        return text
    raise BadInput(f'bad byte {text!r}: one character such as "A", or 0x00..0xff')


def _is_byte_hex(text: str) -> bool:
    try:
        return 0 <= int(text, 16) <= 0xFF
    except ValueError:
        return False


def byte_value(text: str) -> int:
    return ord(text) if len(text) == 1 else int(text, 16)


def _advice(value: Any) -> str:
    if value not in MADVISE:
        raise BadInput(f"unknown advice {value!r}: known advice is {', '.join(MADVISE)}")
    return str(value)


def _uffd_mode(value: Any) -> str:
    if value not in UFFD_MODES:
        raise BadInput(f"unknown userfaultfd mode {value!r}: use missing, minor or wp")
    return str(value)


def _limit(value: Any) -> str:
    if value == "unlimited":
        return "unlimited"
    return str(SizeExpr.of(value))


def _cap(value: Any) -> str:
    name = _str(value).upper().removeprefix("CAP_")
    if name not in CAPABILITIES:
        raise BadInput(f"unknown capability {value!r}: known are {', '.join(CAPABILITIES)}")
    return name


UFFD_MODES = {"missing": 1, "wp": 2, "minor": 4}
CAPABILITIES = {"IPC_LOCK": 14, "SYS_RESOURCE": 24, "SYS_ADMIN": 21, "SYS_PTRACE": 19}


def opt(conv: Callable[[Any], Any], default: Any = None, key: Optional[str] = None) -> Any:
    """An optional key read with ``conv``."""
    return field(default=default, metadata={"conv": conv, "key": key})


def req(conv: Callable[[Any], Any]) -> Any:
    """A required key read with ``conv``."""
    return field(metadata={"conv": conv, "required": True})


class Step:
    """Base of every op: the generic TOML reading and writing lives here."""

    op: ClassVar[str]
    expect: Optional[Expect]

    @classmethod
    def keys(cls) -> Dict[str, Any]:
        return {(f.metadata.get("key") or f.name): f for f in fields(cls)}  # type: ignore[arg-type]

    @classmethod
    def from_table(cls, table: Dict[str, Any], where: str) -> Step:
        known = cls.keys()
        values: Dict[str, Any] = {}
        for key, raw in table.items():
            if key == "op":
                continue
            if key not in known:
                raise BadInput(f"{where}: unknown key {key!r} for op {cls.op!r} (known: {', '.join(known)})")
            f = known[key]
            try:
                values[f.name] = f.metadata["conv"](raw)
            except BadInput as err:
                raise BadInput(f"{where}: {key}: {err}") from None
        for key, f in known.items():
            if f.metadata.get("required") and f.name not in values:
                raise BadInput(f"{where}: op {cls.op!r} needs the key {key!r}")
        return cls(**values)

    def to_table(self) -> Dict[str, Any]:
        """The TOML table, without keys at their defaults."""
        table: Dict[str, Any] = {"op": self.op}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.metadata.get("required") or value != f.default:
                if isinstance(value, (SizeExpr, AddrExpr)):
                    value = str(value)
                elif f.name == "expect" and isinstance(value, tuple):
                    value = dict(value)  # per-kernel expectations
                elif isinstance(value, tuple):
                    value = list(value)
                table[f.metadata.get("key") or f.name] = value
        return table

    def region_refs(self) -> List[str]:
        """Region names this step's addresses depend on (computed once per step)."""
        cached: Optional[List[str]] = self.__dict__.get("_refs")
        if cached is not None:
            return cached
        refs = self._region_refs()
        self.__dict__["_refs"] = refs
        return refs

    def _region_refs(self) -> List[str]:
        refs = []
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, AddrExpr) and value.base_name not in (None, "lab"):
                refs.append(value.base_name)
        same_as = getattr(self, "same_as", None)
        if same_as:
            refs.append(same_as)
        return refs

    @property
    def defines(self) -> Optional[str]:
        """The region name this step creates, if any."""
        return getattr(self, "name", None)


@dataclass(frozen=True)
class Mmap(Step):
    op: ClassVar[str] = "mmap"
    name: str = req(_str)
    kind: Optional[str] = opt(_kind)
    shared: Optional[bool] = opt(_bool)
    size: Optional[SizeExpr] = opt(SizeExpr.of)
    prot: str = opt(_prot, "rw")
    fill: Optional[str] = opt(_byte)
    at: Optional[AddrExpr] = opt(AddrExpr.of)
    replace: bool = opt(_bool, False)
    same_as: Optional[str] = opt(_str)
    file_size: Optional[SizeExpr] = opt(SizeExpr.of)
    locked: bool = opt(_bool, False)
    hugetlb: bool = opt(_bool, False)
    dir: Optional[str] = opt(_str)
    path: Optional[str] = opt(_str)
    writable: bool = opt(_bool, False)
    expect: Optional[Expect] = opt(_expect)


@dataclass(frozen=True)
class Mremap(Step):
    op: ClassVar[str] = "mremap"
    old: AddrExpr = req(AddrExpr.of)
    old_size: Optional[SizeExpr] = opt(SizeExpr.of)
    new_size: Optional[SizeExpr] = opt(SizeExpr.of)
    flags: Tuple[str, ...] = opt(_flag_list, ())
    raw: Optional[int] = opt(_raw_bits)
    new_address: Optional[AddrExpr] = opt(AddrExpr.of)
    name: Optional[str] = opt(_str)
    expect: Optional[Expect] = opt(_expect)

    @property
    def flag_bits(self) -> int:
        return self.raw if self.raw is not None else mremap_flag_bits(self.flags)


class RangeStep(Step):
    """Base of the ops that act on [at, at+size); size defaults to the named region's."""

    at: AddrExpr
    size: Optional[SizeExpr]


@dataclass(frozen=True)
class Read(RangeStep):
    op: ClassVar[str] = "read"
    at: AddrExpr = req(AddrExpr.of)
    size: Optional[SizeExpr] = opt(SizeExpr.of)
    expect: Optional[Expect] = opt(_expect)


@dataclass(frozen=True)
class Write(RangeStep):
    op: ClassVar[str] = "write"
    at: AddrExpr = req(AddrExpr.of)
    size: Optional[SizeExpr] = opt(SizeExpr.of)
    byte: str = opt(_byte, "B")
    expect: Optional[Expect] = opt(_expect)


@dataclass(frozen=True)
class Munmap(RangeStep):
    op: ClassVar[str] = "munmap"
    at: AddrExpr = req(AddrExpr.of)
    size: Optional[SizeExpr] = opt(SizeExpr.of)
    expect: Optional[Expect] = opt(_expect)


@dataclass(frozen=True)
class Mprotect(RangeStep):
    op: ClassVar[str] = "mprotect"
    at: AddrExpr = req(AddrExpr.of)
    prot: str = req(_prot)
    size: Optional[SizeExpr] = opt(SizeExpr.of)
    expect: Optional[Expect] = opt(_expect)


@dataclass(frozen=True)
class Mlock(RangeStep):
    op: ClassVar[str] = "mlock"
    at: AddrExpr = req(AddrExpr.of)
    size: Optional[SizeExpr] = opt(SizeExpr.of)
    onfault: bool = opt(_bool, False)
    expect: Optional[Expect] = opt(_expect)


@dataclass(frozen=True)
class Munlock(RangeStep):
    op: ClassVar[str] = "munlock"
    at: AddrExpr = req(AddrExpr.of)
    size: Optional[SizeExpr] = opt(SizeExpr.of)
    expect: Optional[Expect] = opt(_expect)


@dataclass(frozen=True)
class Mseal(RangeStep):
    op: ClassVar[str] = "mseal"
    at: AddrExpr = req(AddrExpr.of)
    size: Optional[SizeExpr] = opt(SizeExpr.of)
    expect: Optional[Expect] = opt(_expect)


@dataclass(frozen=True)
class Madvise(RangeStep):
    op: ClassVar[str] = "madvise"
    at: AddrExpr = req(AddrExpr.of)
    advice: str = req(_advice)
    size: Optional[SizeExpr] = opt(SizeExpr.of)
    expect: Optional[Expect] = opt(_expect)


@dataclass(frozen=True)
class UffdRegister(RangeStep):
    op: ClassVar[str] = "uffd_register"
    at: AddrExpr = req(AddrExpr.of)
    size: Optional[SizeExpr] = opt(SizeExpr.of)
    mode: str = opt(_uffd_mode, "missing")
    expect: Optional[Expect] = opt(_expect)


@dataclass(frozen=True)
class Setrlimit(Step):
    op: ClassVar[str] = "setrlimit"
    memlock: Optional[str] = opt(_limit)
    address_space: Optional[str] = opt(_limit, key="as")
    data: Optional[str] = opt(_limit)
    expect: Optional[Expect] = opt(_expect)

    def limits(self, page_size: int) -> Dict[str, int]:
        """Resource name → new limit in bytes (U64_MAX for unlimited)."""
        out = {}
        for resource in ("memlock", "address_space", "data"):
            value = getattr(self, resource)
            if value is not None:
                out[resource] = U64_MAX if value == "unlimited" else SizeExpr(value).resolve(page_size)
        return out


@dataclass(frozen=True)
class DropCap(Step):
    op: ClassVar[str] = "drop_cap"
    cap: str = req(_cap)
    expect: Optional[Expect] = opt(_expect)


OPS: Dict[str, Type[Step]] = {
    cls.op: cls
    for cls in (
        Mmap,
        Mremap,
        Read,
        Write,
        Munmap,
        Mprotect,
        Mlock,
        Munlock,
        Mseal,
        Madvise,
        UffdRegister,
        Setrlimit,
        DropCap,
    )
}
