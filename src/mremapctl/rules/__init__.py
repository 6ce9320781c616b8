"""The kernel's mremap knowledge as data: each rule is written once, with the releases it
applies to, the errno it yields, the condition, and a sentence naming the kernel change.

The simulator evaluates the rules in each era's order; ``mremapctl explain`` lists them; a
live result is annotated with the rule the model predicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any, Callable, Dict, Optional, Tuple

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

    def applies(self, version: Version) -> bool:
        return self.since <= version and (self.until is None or version < self.until)

    @property
    def versions(self) -> str:
        low = "" if self.since == (0, 0) else f"{self.since[0]}.{self.since[1]}"
        if self.until is None:
            return f"{low}+" if low else "all"
        high = f"{self.until[0]}.{self.until[1] - 1}" if self.until[1] else f"before {self.until[0]}.0"
        return f"{low or '…'}–{high}"


RULES: Dict[str, Rule] = {}


def rule(**kwargs: Any) -> Rule:
    """Define and register a rule."""
    r = Rule(**kwargs)
    assert r.id not in RULES, r.id
    RULES[r.id] = r
    return r


def get(rule_id: str) -> Rule:
    if not RULES:
        all_rules()
    return RULES[rule_id]


@cache
def active_rules(version: Version) -> Dict[str, Rule]:
    """The rules that hold in one kernel version (the simulator asks these only)."""
    return {rule_id: r for rule_id, r in all_rules().items() if r.applies(version)}


def all_rules() -> Dict[str, Rule]:
    from mremapctl.rules import mremap  # noqa: F401 - importing it registers the rules

    return RULES
