"""Look rules up by errno, flag or id, for `mremapctl explain` (and the docs generator)."""

from __future__ import annotations

from typing import List, Optional, Tuple

from mremapctl.errors import BadInput
from mremapctl.rules import Rule, all_rules, mremap_rules

FLAGS = ("DONTUNMAP", "FIXED", "MAYMOVE")


def find_rules(topic: str, kernel: Optional[str] = None) -> List[Rule]:
    rules = list(mremap_rules().values())
    key = topic.strip()
    upper = key.upper().removeprefix("MREMAP_")
    if upper.startswith("E") and any(r.errno == upper for r in rules):
        chosen = [r for r in rules if r.errno == upper]
    elif upper in FLAGS:
        chosen = [r for r in rules if upper in r.topics]
    elif key in all_rules():
        chosen = [all_rules()[key]]
    else:
        errnos = sorted({r.errno for r in rules if r.errno})
        raise BadInput(
            f"nothing to explain for {topic!r}: give an errno ({', '.join(errnos)}), a flag "
            f"({', '.join(FLAGS)}) or a rule id"
        )
    if kernel is not None:
        from mremapctl.kernel import parse_version

        version = parse_version(kernel)
        chosen = [r for r in chosen if r.applies(version)]
    return chosen


def flag_history(topic: str) -> List[Tuple[str, str]]:
    """(model, change) lines of the kernel timeline that mention the flag."""
    from mremapctl.kernel import models

    flag = topic.upper().removeprefix("MREMAP_")
    if flag not in FLAGS:
        return []
    return [(m.name, c) for m in models() for c in m.changes if flag in c or (flag == "FIXED" and "FIXED" in c)]
