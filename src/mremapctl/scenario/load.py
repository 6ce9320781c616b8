"""Read a scenario file and refuse, with one line naming the problem, anything malformed."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from mremapctl.errors import BadInput
from mremapctl.frozen import frozen
from mremapctl.kinds import KINDS
from mremapctl.scenario.steps import OPS, Mmap, Step

if TYPE_CHECKING:
    from pathlib import Path

RESERVED_NAMES = frozenset({"lab"})


@frozen
class Scenario:
    steps: Tuple[Step, ...]
    description: Optional[str] = None


def load_scenario(path: Path) -> Scenario:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise BadInput(f"cannot read scenario {str(path)!r}: {err.strerror}") from None
    return parse_scenario(decode(data, str(path)), str(path))


def _toml() -> Any:
    """tomllib, imported when a scenario is read from TOML (`try` builds its own: no parser)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on target machines with older Pythons
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    return tomllib


def decode(data: bytes, source: str) -> str:
    """A scenario's text: TOML is UTF-8, so anything else is refused with the offset that broke it."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadInput(
            f"{source}: not UTF-8 text (byte {err.start} is {data[err.start]:#04x}); TOML files are UTF-8"
        ) from None


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    toml = _toml()
    try:
        document = toml.loads(text)
    except toml.TOMLDecodeError as err:
        raise BadInput(f"{source}: TOML syntax error: {err}") from None
    unknown = set(document) - {"step", "description"}
    if unknown:
        raise BadInput(f"{source}: unknown top-level key {sorted(unknown)[0]!r} (expected [[step]] tables)")
    tables = document.get("step", [])
    if not isinstance(tables, list) or not tables:
        raise BadInput(f"{source}: no [[step]] tables")
    steps = tuple(_step(table, f"{source}: step {i}") for i, table in enumerate(tables, 1))
    validate(steps, source)
    description = document.get("description")
    if description is not None and not isinstance(description, str):
        raise BadInput(f"{source}: description must be a string")
    return Scenario(steps, description)


def _step(table: Any, where: str) -> Step:
    if not isinstance(table, dict):
        raise BadInput(f"{where}: expected a table")
    op = table.get("op")
    if op is None:
        raise BadInput(f"{where}: missing key 'op' (one of {', '.join(OPS)})")
    if op not in OPS:
        raise BadInput(f"{where}: unknown op {op!r} (one of {', '.join(OPS)})")
    return OPS[op].from_table(table, where)


# How the mmap keys are called where the user typed them: scenario keys, or `try`'s options,
# so a refusal names what the user wrote. {kind} is the kind's name.
TOML_WORDS = {
    "kind": "kind = {kind!r}",
    "shared": "shared = true",
    "private": "shared = false",
    "fill": "fill",
    "hugetlb": "hugetlb = true",
    "dir": "dir",
    "path": "path",
    "writable": "writable = true",
}


def validate(steps: Tuple[Step, ...], source: str, words: Optional[Dict[str, str]] = None) -> None:
    """The checks every scenario passes, from a file or built by ``try`` (which passes its option names)."""
    for i, step in enumerate(steps, 1):
        if isinstance(step, Mmap):
            where = f"{source}: step {i}: " if words is None else ""
            _check_mmap(step, where, words or TOML_WORDS)
    check_names(steps, source)


def _check_mmap(step: Mmap, where: str, words: Dict[str, str]) -> None:
    kind = KINDS[step.kind or "anon"]
    said = {key: phrase.format(kind=kind.name) for key, phrase in words.items()}
    choosable = ", ".join(k.name for k in KINDS.values() if k.sharing_choosable)
    if step.shared is not None and not kind.sharing_choosable:
        sharing = said["shared" if step.shared else "private"]
        raise BadInput(f"{where}{sharing} does not apply to {said['kind']}: only {choosable} choose their sharing")
    if step.fill is not None and not kind.fillable:
        raise BadInput(f"{where}{said['kind']} has contents the kernel owns; drop {said['fill']}")
    if step.hugetlb and not kind.huge_option:
        raise BadInput(f"{where}{said['hugetlb']} applies to memfd and shmem only, not {said['kind']}")
    for key in ("dir", "path", "writable"):
        if getattr(step, key) and not kind.takes_path:
            raise BadInput(f"{where}{said[key]} applies to file mappings only, not {said['kind']}")
    if step.dir and step.path:
        raise BadInput(
            f"{where}give {said['dir']} (a new temporary file) or {said['path']} (an existing file), not both"
        )
    if step.writable and not step.path:
        raise BadInput(f"{where}{said['writable']} is about an existing file: give {said['path']} too")
    if step.path and step.shared and not step.writable:
        raise BadInput(
            f"{where}a shared mapping of {step.path!r} could write the file; add {said['writable']} (or map it private)"
        )


def writes_into_user_files(steps: Tuple[Step, ...]) -> List[str]:
    """A plain sentence for each user's file the experiment writes into (they allowed it)."""
    has_writes = any(step.op == "write" for step in steps)
    notes = []
    for step in steps:
        if not (isinstance(step, Mmap) and step.path and step.writable and step.shared is not False):
            continue
        if step.fill is not None:
            notes.append(f"this experiment writes {step.fill!r} into {step.path} (fill, and you allowed writes)")
        elif has_writes:
            notes.append(f"the write steps write into {step.path} where they reach region {step.name!r}")
    return notes


def check_names(steps: Tuple[Step, ...], source: str) -> None:
    """Every region is defined once, before use, and is not a reserved word."""
    defined: Dict[str, int] = {}
    for i, step in enumerate(steps, 1):
        for ref in step.region_refs():
            if ref not in defined:
                raise BadInput(
                    f"{source}: step {i}: unknown region {ref!r} (defined so far: {', '.join(defined) or 'none'})"
                )
        name = step.defines
        if name is None:
            continue
        if name in RESERVED_NAMES:
            raise BadInput(f"{source}: step {i}: {name!r} is reserved (it means the lab's start)")
        if name in defined:
            raise BadInput(f"{source}: step {i}: region {name!r} is already defined by step {defined[name]}")
        if not name.isidentifier():
            raise BadInput(
                f"{source}: step {i}: region name {name!r} must be a letter followed by letters, digits or _"
            )
        defined[name] = i
