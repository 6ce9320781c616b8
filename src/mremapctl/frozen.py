"""``@frozen``: the tool's immutable value classes, frozen for the type checker and cheap to make.

``dataclass(frozen=True)`` enforces immutability at run time by building every instance through
``object.__setattr__`` (five times slower to construct on CPython 3.11), and it compiles six
methods per class at import: a `try` defines dozens of these classes before it prints anything
and the simulation builds hundreds of thousands of instances a minute. So the guarantee is kept
where it costs nothing: mypy (run on the package in CI) rejects an assignment to a field exactly as
it does for a frozen dataclass. At run time the class is a dataclass whose ``__init__`` alone is
compiled; ``__eq__``, ``__hash__`` and ``__repr__`` behave as a frozen dataclass's (field-wise,
honouring ``compare``, ``hash`` and ``repr`` of each field) but are made from closures, not compiled.
"""

from __future__ import annotations

from dataclasses import Field, dataclass, field, fields
from functools import partial
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Callable, Sequence, Tuple, Type, TypeVar, overload

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:  # read by the type checker only: no run-time dependency, no import cost

    def dataclass_transform(**_: Any) -> Callable[[Any], Any]:
        return lambda decorator: decorator


T = TypeVar("T")


@overload
def frozen(cls: Type[T], /) -> Type[T]: ...


@overload
def frozen(*, order: bool = False) -> Callable[[Type[T]], Type[T]]: ...


@dataclass_transform(frozen_default=True, eq_default=True, field_specifiers=(field, Field))
def frozen(cls: Any = None, /, *, order: bool = False) -> Any:
    """``@frozen`` or ``@frozen(order=True)``, where ``@dataclass(frozen=True, …)`` would be."""
    return partial(_make, order=order) if cls is None else _make(cls)


def _make(cls: Any, order: bool = False) -> Any:
    """The class as a dataclass with the methods of a frozen one."""
    if order:  # the comparisons need the compiled __eq__ of a full dataclass; rare enough
        return dataclass(unsafe_hash=True, order=True)(cls)
    cls = dataclass(eq=False, repr=False)(cls)
    every = fields(cls)
    compared = _getter([f.name for f in every if f.compare])
    hashed = _getter([f.name for f in every if (f.compare if f.hash is None else f.hash)])
    shown = [f.name for f in every if f.repr]

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return compared(self) == compared(other)
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(hashed(self))

    def __repr__(self: Any) -> str:
        inside = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{self.__class__.__qualname__}({inside})"

    for method in (__eq__, __hash__, __repr__):
        method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
        setattr(cls, method.__name__, method)
    return cls


def _getter(names: Sequence[str]) -> Callable[[Any], Tuple[Any, ...]]:
    """The named fields of an instance as one tuple (attrgetter returns a bare value for one name)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        get = attrgetter(names[0])
        return lambda obj: (get(obj),)
    return lambda obj: ()
