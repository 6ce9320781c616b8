"""Read a scenario file and refuse, with one line naming the problem, anything malformed."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from mremapctl.errors import BadInput
from mremapctl.kinds import KINDS
from mremapctl.scenario.steps import OPS, Mmap, Step

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on target machines with older Pythons
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

RESERVED_NAMES = frozenset({"lab"})


@dataclass(frozen=True)
class Scenario:
    steps: Tuple[Step, ...]
    description: Optional[str] = None


def load_scenario(path: Path) -> Scenario:
    try:
        text = path.read_text()
    except OSError as err:
        raise BadInput(f"cannot read scenario {str(path)!r}: {err.strerror}") from None
    return parse_scenario(text, str(path))


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
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


def validate(steps: Tuple[Step, ...], source: str) -> None:
    """The checks every scenario passes, from a file or built by ``try``."""
    for i, step in enumerate(steps, 1):
        if isinstance(step, Mmap):
            _check_mmap(step, f"{source}: step {i}")
    check_names(steps, source)


def _check_mmap(step: Mmap, where: str) -> None:
    kind = KINDS[step.kind or "anon"]
    if step.shared is not None and step.shared != kind.default_shared and not kind.sharing_choosable:
        raise BadInput(f"{where}: kind {kind.name!r} cannot be {'shared' if step.shared else 'private'}")
    if step.fill is not None and not kind.fillable:
        raise BadInput(f"{where}: kind {kind.name!r} has contents the kernel owns; drop fill")
    if step.hugetlb and not kind.huge_option:
        raise BadInput(f'{where}: hugetlb = true applies to memfd and shmem only (use kind = "hugetlb")')
    if (step.dir or step.path or step.writable) and kind.name != "file":
        raise BadInput(f'{where}: dir, path and writable apply to kind = "file" only')
    if step.dir and step.path:
        raise BadInput(f"{where}: give dir (a new temporary file) or path (an existing file), not both")
    if step.path and step.shared and not step.writable:
        raise BadInput(
            f"{where}: a shared mapping of {step.path!r} could write the file; add writable = true (or map it private)"
        )


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
