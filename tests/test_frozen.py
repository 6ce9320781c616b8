"""@frozen values: equal and hashable by their fields, and immutable where it is checked (mypy)."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, asdict, dataclass, fields, replace
from pathlib import Path
from typing import Optional, Tuple

import pytest

from mremapctl.frozen import frozen


@frozen
class Point:
    x: int
    label: Optional[str] = None


@dataclass(frozen=True)
class FrozenPoint:
    x: int
    label: Optional[str] = None


@frozen(order=True)
class Version:
    parts: Tuple[int, ...]


def test_values_compare_hash_and_print_as_a_frozen_dataclass_would() -> None:
    a, b = Point(1, "a"), Point(1, "a")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != Point(2, "a") and a != FrozenPoint(1, "a")
    assert hash(a) == hash(FrozenPoint(1, "a"))  # the same field-wise hash
    assert repr(a).endswith("Point(x=1, label='a')")
    assert [f.name for f in fields(a)] == ["x", "label"] and asdict(a) == {"x": 1, "label": "a"}
    assert replace(a, x=3) == Point(3, "a")
    assert sorted([Version((6, 1)), Version((5, 13))]) == [Version((5, 13)), Version((6, 1))]
    with pytest.raises(FrozenInstanceError):  # what run-time freezing would add, for contrast
        FrozenPoint(1).x = 2  # type: ignore[misc]


def test_the_type_checker_refuses_an_assignment_to_a_field(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api", reason="mypy is a dev dependency: pip install -e '.[dev]'")
    source = tmp_path / "assigns.py"
    source.write_text("from mremapctl.lab import Lab\nlab = Lab(0, 4096)\nlab.start = 1\n")
    out, _, status = api.run([str(source), "--no-incremental", "--cache-dir", str(tmp_path / "cache")])
    assert status == 1, out
    assert 'Property "start" defined in "Lab" is read-only' in out
