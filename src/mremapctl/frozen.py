"""``@frozen``: the tool's immutable value classes, frozen for the type checker only.

``dataclass(frozen=True)`` enforces immutability at run time by building every instance through
``object.__setattr__`` (five times slower to construct on CPython 3.11) and by compiling three more
methods per class at import. The simulation builds hundreds of thousands of these values a minute
and a `try` defines dozens of them before it prints anything, so the guarantee is kept where it
costs nothing: mypy (run on the package in CI) rejects an assignment to a field exactly as it does
for a frozen dataclass. At run time the class is a dataclass with the ``__eq__`` and the field-wise
``__hash__`` a frozen one has, so values still work as set members and dict keys.
"""

from __future__ import annotations

from dataclasses import Field, dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Type, TypeVar, overload

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
    make = dataclass(unsafe_hash=True, order=order)
    return make if cls is None else make(cls)
