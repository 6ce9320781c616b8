"""@frozen values: they compare, hash and print as frozen dataclasses do, and stay immutable where
that is checked (mypy)."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Optional, Tuple

import pytest

from mremapctl.frozen import frozen


def declare(decorator: Callable[[Any], Any]) -> Tuple[Any, Any, Any]:
    """The same three classes, made with ``decorator``: one field, several, a subclass, and fields
    left out of comparison or of the repr."""

    @decorator
    class One:
        x: int

    @decorator
    class Point:
        x: int
        label: Optional[str] = None
        hidden: int = field(default=0, repr=False)
        noise: float = field(default=0.0, compare=False)

    @decorator
    class Point3(Point):
        z: int = 0

    return One, Point, Point3


def test_values_compare_hash_and_print_as_frozen_dataclasses_do() -> None:
    ours, theirs = declare(frozen), declare(dataclass(frozen=True))
    samples = [(1,), (1, "a", 2, 0.5), (1, "a", 2, 0.5, 3)]
    for ours_cls, theirs_cls, args in zip(ours, theirs, samples):
        a, b = ours_cls(*args), theirs_cls(*args)
        assert repr(a) == repr(b)
        assert hash(a) == hash(b)
        assert a == ours_cls(*args) and len({a, ours_cls(*args)}) == 1
        assert a != b  # another class, as two dataclasses are
        assert asdict(a) == asdict(b) and [f.name for f in fields(a)] == [f.name for f in fields(b)]
    point = ours[1]
    assert point(1, noise=1.0) == point(1, noise=2.0)  # compare=False: left out, as a dataclass does
    assert point(1, hidden=1) != point(1, hidden=2)
    assert replace(point(1, "a"), x=3) == point(3, "a")
    assert ours[2](1, z=1) != point(1) and ours[2](1, z=1) != ours[2](1, z=2)


def test_ordered_values_sort_by_their_fields() -> None:
    @frozen(order=True)
    class Version:
        parts: Tuple[int, ...]

    assert sorted([Version((6, 1)), Version((5, 13))]) == [Version((5, 13)), Version((6, 1))]
    assert hash(Version((6, 1))) == hash(Version((6, 1)))


def test_only_the_type_checker_freezes_them(tmp_path: Path) -> None:
    """A frozen dataclass would raise at run time; mypy refuses the assignment before that."""
    with pytest.raises(FrozenInstanceError):
        declare(dataclass(frozen=True))[0](1).x = 2
    api = pytest.importorskip("mypy.api", reason="mypy is a dev dependency: pip install -e '.[dev]'")
    source = tmp_path / "assigns.py"
    source.write_text("from mremapctl.lab import Lab\nlab = Lab(0, 4096)\nlab.start = 1\n")
    out, _, status = api.run([str(source), "--no-incremental", "--cache-dir", str(tmp_path / "cache")])
    assert status == 1, out
    assert 'Property "start" defined in "Lab" is read-only' in out
