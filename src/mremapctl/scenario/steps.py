"""One dataclass per scenario op; the TOML keys are their field names.

Each field says how to read its TOML value (``conv``); the loader and the dumper are
generic over these declarations, so adding an op or a key is one line here.
"""

from __future__ import annotations

from dataclasses import field, fields
from typing import Any, Callable, ClassVar, Dict, List, Optional, Tuple, Type, Union

from mremapctl.errors import BadInput
from mremapctl.expr import AddrExpr, SizeExpr
from mremapctl.flags import mremap_flag_bits
from mremapctl.frozen import frozen
from mremapctl.scenario import values as V
from mremapctl.units import U64_MAX

Expect = Union[str, Tuple[Tuple[str, str], ...]]  # one answer, or (kernel range or page size, answer) pairs


def _expect(value: Any) -> Expect:
    """``"EINVAL"``, or per kernel: ``{ "..5.12" = "EINVAL", "5.13.." = "ok" }`` (ranges inclusive), or
    per page size: ``{ "16K" = "EINVAL", "4K" = "ok" }``; the first key that matches answers."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict) or not value:
        raise BadInput(f"expect must be a string or a table of kernel ranges, got {value!r}")
    for key, answer in value.items():
        if _page_key(key) is None:
            parse_range(key)
        if not isinstance(answer, str):
            raise BadInput(f"expect[{key!r}] must be a string, got {answer!r}")
    return tuple(value.items())


def parse_range(text: str) -> Tuple[Tuple[int, int, int], Tuple[int, int, int]]:
    """ "5.7..5.12", "5.13..", "..5.12", "6.18.8.." or "5.10": the inclusive range of kernel versions it
    names ("..5.12" and "5.10" include every point release of their series)."""
    from mremapctl.kernel import range_bound

    low, sep, high = text.partition("..")
    try:
        first = range_bound(low, upper=False) if low else (0, 0, 0)
        last = range_bound(high if sep else low, upper=True) if (high or not sep) else (99, 99, 0)
    except BadInput:
        raise BadInput(f"bad kernel range {text!r}: use 5.13.., ..5.12, 5.7..5.12 or 5.10") from None
    return first, last


def _page_key(key: str) -> Optional[int]:
    """The page size an expect key names ("16K"), or None for a kernel range."""
    if "." in key or not key.upper().endswith("K"):
        return None
    from mremapctl.platforms import parse_page_size

    try:
        return parse_page_size(key)
    except BadInput:
        raise BadInput(f"bad expect key {key!r}: a kernel range such as 5.13.. or a page size such as 16K") from None


def expected_for(expect: Optional[Expect], version: Tuple[int, int, int], page_size: int = 4096) -> Optional[str]:
    """The answer an ``expect`` gives for one kernel with one page size (None: no expectation for it)."""
    if expect is None or isinstance(expect, str):
        return expect
    for key, answer in expect:
        page = _page_key(key)
        if page is not None:
            if page == page_size:
                return answer
            continue
        first, last = parse_range(key)
        if first <= version <= last:
            return answer
    return None


def _limit(value: Any) -> str:
    if value == "unlimited":
        return "unlimited"
    return str(SizeExpr.of(value))


def opt(conv: Callable[[Any], Any], default: Any = None, key: Optional[str] = None) -> Any:
    """An optional key read with ``conv``."""
    return field(default=default, metadata={"conv": conv, "key": key})


def req(conv: Callable[[Any], Any]) -> Any:
    """A required key read with ``conv``."""
    return field(metadata={"conv": conv, "required": True})


class Step:
    """Base of every op: the generic TOML reading and writing lives here."""

    op: ClassVar[str]
    outlives_unmap: ClassVar[bool] = False  # unmapping the lab does not undo it (a limit, a capability, a seal)
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


@frozen
class Mmap(Step):
    op: ClassVar[str] = "mmap"
    name: str = req(V.text)
    kind: Optional[str] = opt(V.kind)
    shared: Optional[bool] = opt(V.boolean)
    size: Optional[SizeExpr] = opt(SizeExpr.of)
    prot: str = opt(V.prot, "rw")
    fill: Optional[str] = opt(V.byte)
    at: Optional[AddrExpr] = opt(AddrExpr.of)
    replace: bool = opt(V.boolean, False)
    same_as: Optional[str] = opt(V.text)
    file_size: Optional[SizeExpr] = opt(SizeExpr.of)
    locked: bool = opt(V.boolean, False)
    hugetlb: bool = opt(V.boolean, False)
    dir: Optional[str] = opt(V.directory)
    path: Optional[str] = opt(V.existing_file)
    writable: bool = opt(V.boolean, False)
    expect: Optional[Expect] = opt(_expect)


@frozen
class Mremap(Step):
    op: ClassVar[str] = "mremap"
    old: AddrExpr = req(AddrExpr.of)
    old_size: Optional[SizeExpr] = opt(SizeExpr.of)
    new_size: Optional[SizeExpr] = opt(SizeExpr.of)
    flags: Tuple[str, ...] = opt(V.flag_list, ())
    raw: Optional[int] = opt(V.raw_flags)
    new_address: Optional[AddrExpr] = opt(AddrExpr.of)
    name: Optional[str] = opt(V.text)
    expect: Optional[Expect] = opt(_expect)

    @property
    def flag_bits(self) -> int:
        return self.raw if self.raw is not None else mremap_flag_bits(self.flags)


class RangeStep(Step):
    """Base of the ops that act on [at, at+size); size defaults to the named region's."""

    at: AddrExpr
    size: Optional[SizeExpr]


@frozen
class Read(RangeStep):
    op: ClassVar[str] = "read"
    at: AddrExpr = req(AddrExpr.of)
    size: Optional[SizeExpr] = opt(SizeExpr.of)
    expect: Optional[Expect] = opt(_expect)


@frozen
class Write(RangeStep):
    op: ClassVar[str] = "write"
    at: AddrExpr = req(AddrExpr.of)
    size: Optional[SizeExpr] = opt(SizeExpr.of)
    byte: str = opt(V.byte, "B")
    expect: Optional[Expect] = opt(_expect)


@frozen
class Munmap(RangeStep):
    op: ClassVar[str] = "munmap"
    at: AddrExpr = req(AddrExpr.of)
    size: Optional[SizeExpr] = opt(SizeExpr.of)
    expect: Optional[Expect] = opt(_expect)


@frozen
class Mprotect(RangeStep):
    op: ClassVar[str] = "mprotect"
    at: AddrExpr = req(AddrExpr.of)
    prot: str = req(V.prot)
    size: Optional[SizeExpr] = opt(SizeExpr.of)
    expect: Optional[Expect] = opt(_expect)


@frozen
class Mlock(RangeStep):
    op: ClassVar[str] = "mlock"
    at: AddrExpr = req(AddrExpr.of)
    size: Optional[SizeExpr] = opt(SizeExpr.of)
    onfault: bool = opt(V.boolean, False)
    expect: Optional[Expect] = opt(_expect)


@frozen
class Munlock(RangeStep):
    op: ClassVar[str] = "munlock"
    at: AddrExpr = req(AddrExpr.of)
    size: Optional[SizeExpr] = opt(SizeExpr.of)
    expect: Optional[Expect] = opt(_expect)


@frozen
class Mseal(RangeStep):
    op: ClassVar[str] = "mseal"
    outlives_unmap: ClassVar[bool] = True
    at: AddrExpr = req(AddrExpr.of)
    size: Optional[SizeExpr] = opt(SizeExpr.of)
    expect: Optional[Expect] = opt(_expect)


@frozen
class Madvise(RangeStep):
    op: ClassVar[str] = "madvise"
    at: AddrExpr = req(AddrExpr.of)
    advice: str = req(V.advice)
    size: Optional[SizeExpr] = opt(SizeExpr.of)
    expect: Optional[Expect] = opt(_expect)


@frozen
class UffdRegister(RangeStep):
    op: ClassVar[str] = "uffd_register"
    at: AddrExpr = req(AddrExpr.of)
    size: Optional[SizeExpr] = opt(SizeExpr.of)
    mode: str = opt(V.uffd_mode, "missing")
    expect: Optional[Expect] = opt(_expect)


@frozen
class Vmas(RangeStep):
    """A question, not a call: how many VMAs cover the range, or (``flag``) whether they carry a
    VmFlag ("yes", "no", "some"). Lessons ask it where a kernel change shows only in the maps."""

    op: ClassVar[str] = "vmas"
    at: AddrExpr = req(AddrExpr.of)
    size: Optional[SizeExpr] = opt(SizeExpr.of)
    flag: Optional[str] = opt(V.vm_flag)
    expect: Optional[Expect] = opt(_expect)


@frozen
class Setrlimit(Step):
    op: ClassVar[str] = "setrlimit"
    outlives_unmap: ClassVar[bool] = True
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


@frozen
class DropCap(Step):
    op: ClassVar[str] = "drop_cap"
    outlives_unmap: ClassVar[bool] = True
    cap: str = req(V.capability)
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
        Vmas,
        Setrlimit,
        DropCap,
    )
}
