"""One piece of kernel knowledge: what the kernel checks or does, and the releases it holds for."""

from __future__ import annotations

from dataclasses import field
from typing import Any, Callable, List, Optional, Tuple

from mremapctl.frozen import frozen

Series = Tuple[int, int]  # a mainline release: (6, 19)
Version = Tuple[int, int, int]  # a point release: (6, 18, 8)


@frozen
class Rule:
    id: str
    errno: Optional[str]  # None: an effect of a successful call, not a refusal
    text: str  # one line, for people: what the kernel checks or does
    change: str  # the kernel change it comes from (title, release)
    since: Series = (0, 0)
    until: Optional[Series] = None  # first mainline release where it no longer applies
    backports: Tuple[Version, ...] = ()  # stable releases of older series that took the change
    until_backports: Tuple[Version, ...] = ()  # stable releases that took the change that ends it
    when: Callable[[Any], bool] = field(default=lambda c: False, compare=False, repr=False)
    topics: Tuple[str, ...] = ()  # flags or subjects for `explain DONTUNMAP`
    call: str = "mremap"  # the call it is about (the other memory calls matter to mremap too)

    def applies(self, version: Version) -> bool:
        begun = _landed(self.since, self.backports, version)
        return begun and not (self.until is not None and _landed(self.until, self.until_backports, version))

    @property
    def versions(self) -> str:
        """ "5.7–6.16", "6.19+, 6.18.37+", "5.14–7.1 (not 6.12.113+, 6.1.191+)"."""
        low = "" if self.since == (0, 0) else _show(self.since)
        if self.until is None:
            text = f"{low}+" if low else "all"
        else:
            text = f"{low or '…'}–{_show_before(self.until)}"
        text += "".join(f", {_show(p)}+" for p in self.backports)
        if self.until_backports:
            text += f" (not {', '.join(_show(p) + '+' for p in self.until_backports)})"
        return text

    def landings(self) -> List[Tuple[Version, bool]]:
        """The releases where this rule begins (True) or stops (False) to hold."""
        out = [((*self.since, 0), True)] if self.since != (0, 0) else []
        out += [(p, True) for p in self.backports]
        out += [((*self.until, 0), False)] if self.until is not None else []
        out += [(p, False) for p in self.until_backports]
        return out

    def change_line(self, begins: bool, backported: bool) -> str:
        """How `mremapctl kernels` lists this rule where it begins or stops to hold."""
        what = f"{self.errno}: {self.text}" if self.errno else self.text
        if not begins:
            return f"no longer{' (backported)' if backported else ''}: {what}"
        return f"{what} ({'backported: ' if backported else ''}{self.change})"


def _landed(series: Series, backports: Tuple[Version, ...], version: Version) -> bool:
    """Whether a change is in ``version``: from its mainline release on, and in each stable series
    from the point release that took it."""
    return version[:2] >= series or any(version[:2] == p[:2] and version >= p for p in backports)


def _show(version: Tuple[int, ...]) -> str:
    return ".".join(str(n) for n in version)


def _show_before(series: Series) -> str:
    major, minor = series
    return f"{major}.{minor - 1}" if minor else f"before {major}.0"
