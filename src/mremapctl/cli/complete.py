"""Shell completion of values, not only of option names: kinds, bundled scenarios and files,
explain topics, kernel versions. Each function is a click ``shell_complete`` callback; they import
what they offer only when a shell asks."""

from __future__ import annotations

from typing import Any, Iterable, List

from click.shell_completion import CompletionItem


def _starting(values: Iterable[str], incomplete: str, prefix: str = "") -> List[CompletionItem]:
    return [CompletionItem(prefix + v) for v in values if v.startswith(incomplete)]


def kinds(ctx: Any, param: Any, incomplete: str) -> List[CompletionItem]:
    from mremapctl.kinds import KINDS

    return _starting(KINDS, incomplete)


def kind_list(ctx: Any, param: Any, incomplete: str) -> List[CompletionItem]:
    """--kinds anon,mem<Tab>: the kind being typed after the last comma."""
    from mremapctl.kinds import KINDS

    done, _, typing = incomplete.rpartition(",")
    return _starting(KINDS, typing, prefix=f"{done}," if done else "")


def kernels(ctx: Any, param: Any, incomplete: str) -> List[CompletionItem]:
    """Every mainline release the models cover (5.4 … 7.3), and the stable point releases where a
    backport changed behaviour (6.12.114)."""
    from mremapctl.kernel import every_series, models, show

    versions = [f"{major}.{minor}" for major, minor in every_series()]
    versions += [show(m.since) for m in models() if m.since[2]]
    return _starting(versions, incomplete)


def scenarios(ctx: Any, param: Any, incomplete: str) -> List[CompletionItem]:
    """`run`: a bundled scenario's name, or a file: the shell completes paths itself when no name
    matches (bash's script drops what came before a file item, so it comes first)."""
    from mremapctl.examples import bundled_names

    return [CompletionItem(incomplete, type="file"), *_starting(bundled_names(), incomplete)]


def topics(ctx: Any, param: Any, incomplete: str) -> List[CompletionItem]:
    """`explain`: an errno, a flag or a rule id."""
    from mremapctl.explain import FLAGS
    from mremapctl.rules import all_rules, mremap_rules

    errnos = sorted({r.errno for r in mremap_rules().values() if r.errno})
    return _starting([*errnos, *FLAGS, *sorted(all_rules())], incomplete)
