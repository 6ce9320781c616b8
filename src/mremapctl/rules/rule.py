"""One piece of kernel knowledge: what the kernel checks or does, and the releases it holds for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Tuple

Version = Tuple[int, int]


@dataclass(frozen=True)
class Rule:
    id: str
    errno: Optional[str]  # None: an effect of a successful call, not a refusal
    text: str  # one line, for people: what the kernel checks or does
    change: str  # the kernel change it comes from (title, release)
    since: Version = (0, 0)
    until: Optional[Version] = None  # first release where it no longer applies
    when: Callable[[Any], bool] = field(default=lambda c: False, compare=False, repr=False)
    topics: Tuple[str, ...] = ()  # flags or subjects for `explain DONTUNMAP`
    call: str = "mremap"  # the call it is about (the other memory calls matter to mremap too)

    def applies(self, version: Version) -> bool:
        return self.since <= version and (self.until is None or version < self.until)

    @property
    def versions(self) -> str:
        low = "" if self.since == (0, 0) else f"{self.since[0]}.{self.since[1]}"
        if self.until is None:
            return f"{low}+" if low else "all"
        high = f"{self.until[0]}.{self.until[1] - 1}" if self.until[1] else f"before {self.until[0]}.0"
        return f"{low or '…'}–{high}"
