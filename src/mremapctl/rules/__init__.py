"""The kernel's knowledge as data: each rule is written once, with the releases it applies to,
the errno it yields (or None for what a call does), the condition, and the kernel change.

The simulator asks which rules hold for its kernel and evaluates them in each era's order;
``mremapctl explain`` lists them; a live result is annotated with the rule the model predicts.
``mremap`` holds mremap's own checks and effects; ``calls`` the other memory calls and the
VmFlags a kernel gives each kind of mapping.
"""

from __future__ import annotations

from functools import cache
from typing import Dict

from mremapctl.rules import calls, mremap
from mremapctl.rules.rule import Rule, Series, Version

RULES: Dict[str, Rule] = {r.id: r for r in (*mremap.RULES, *calls.RULES)}
assert len(RULES) == len(mremap.RULES) + len(calls.RULES), "a rule id is used twice"


def get(rule_id: str) -> Rule:
    return RULES[rule_id]


def all_rules() -> Dict[str, Rule]:
    return RULES


def mremap_rules() -> Dict[str, Rule]:
    """mremap's own checks and effects: what `explain` and the errno reference list."""
    return {rule_id: r for rule_id, r in RULES.items() if r.call == "mremap"}


@cache
def active_rules(version: Version) -> Dict[str, Rule]:
    """The rules that hold in one kernel version (the simulator asks these only)."""
    return {rule_id: r for rule_id, r in RULES.items() if r.applies(version)}


__all__ = ["RULES", "Rule", "Series", "Version", "active_rules", "all_rules", "get", "mremap_rules"]
