"""Kernel versions, and the models that stand for them.

The simulation evaluates the rules (mremapctl.rules) at the exact version asked for, point
release included: a stable backport (6.18.8 taking a 6.19 change) is a rule's landing in that
series. A model is a name for the releases between two such landings, derived from the rules:
`mremapctl kernels` lists each with the rules that begin or end with it.
"""

from __future__ import annotations

import re
from functools import cache, cached_property
from typing import Dict, List, Optional, Tuple

from mremapctl.errors import BadInput
from mremapctl.frozen import frozen
from mremapctl.results import ModelInfo

Version = Tuple[int, int, int]  # (major, minor, point release)
Series = Tuple[int, int]

OLDEST: Series = (5, 4)  # the first model: what older kernels do is not modelled
NEWEST: Series = (7, 3)  # the newest release whose changes the rules know
EVERY_POINT = 1 << 20  # "6.18" as the end of a range covers every 6.18.y
LAST_MINOR = {4: 20, 5: 19, 6: 19}  # each major series' last release, before the next major

_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:[-+~].*)?$")
# Debian names 5.10 and 6.1 kernels by ABI ("6.1.0-57-amd64"); the point release is in uname -v.
_DEBIAN_BUILD = re.compile(r"Debian (\d+\.\d+\.\d+)")


def parse_version(text: str) -> Version:
    """ "6.18" → (6, 18, 0); "6.18.44-fc-v669" → (6, 18, 44)."""
    match = _VERSION.match(text.strip())
    if not match:
        raise BadInput(f"bad kernel version {text!r}: expected MAJOR.MINOR[.POINT] such as 5.13 or 6.18.8")
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def has_point(text: str) -> bool:
    match = _VERSION.match(text.strip())
    return bool(match and match.group(3) is not None)


def range_bound(text: str, upper: bool) -> Version:
    """A version as one end of a range: "..6.18" ends after the last 6.18.y."""
    version = parse_version(text)
    return (version[0], version[1], EVERY_POINT) if upper and not has_point(text) else version


def running_release(release: str, build: str) -> str:
    """The release to model a running kernel by: uname's release, unless it is a Debian ABI name
    ("5.10.0-46-amd64") whose real point release only uname -v tells ("Debian 5.10.262-1")."""
    match = _DEBIAN_BUILD.search(build)
    if match and re.match(r"^\d+\.\d+\.0-\d+-", release):
        return match.group(1)
    return release


def show(version: Version) -> str:
    return f"{version[0]}.{version[1]}" + (f".{version[2]}" if version[2] else "")


@frozen
class Model:
    """Releases where the same rules hold: a mainline series up to the next one where a rule lands,
    or, within one series, the point releases from a stable backport on."""

    since: Version
    until: Optional[Version]  # the next model of its kind (a series, or a point in the same series)
    begins: Tuple[str, ...]  # the rules that begin to hold here
    ends: Tuple[str, ...]  # the rules that stop

    @property
    def changes(self) -> List[str]:
        """What changed here, one line a rule, for people."""
        from mremapctl.rules import get

        if self.since == (*OLDEST, 0):
            return ["the oldest model: older kernels are not modelled"]
        backported = bool(self.since[2])
        lines = [get(r).change_line(True, backported) for r in self.begins]
        return lines + [get(r).change_line(False, backported) for r in self.ends]

    @property
    def name(self) -> str:
        return show(self.since)

    @cached_property
    def span(self) -> str:
        """The releases it stands for: "5.11–5.12", "7.3+", "6.12.113", "6.18.37–6.18.y", and where a
        series took a backport only its releases before it: "6.1.0–6.1.190, 6.2–6.4"."""
        series = f"{self.since[0]}.{self.since[1]}"
        if self.since[2]:
            return f"{self.name}–{series}.y" if self.until is None else _range(self.name, show(_before(self.until)))
        parts: List[str] = []
        plain: List[str] = []  # consecutive series the model covers whole
        at: Series = self.since[:2]
        while self.until is None or (*at, 0) < self.until:
            points = stable_landings(at)
            if points:
                parts += [_range(plain[0], plain[-1])] if plain else []
                plain = []
                parts.append(f"{at[0]}.{at[1]}.0–{show(_before(points[0]))}")
            else:
                plain.append(f"{at[0]}.{at[1]}")
            if self.until is None and at >= NEWEST:
                break
            at = _next_series(at)
        if plain:
            parts.append(_range(plain[0], plain[-1]) + ("+" if self.until is None else ""))
        return ", ".join(parts)


def every_series() -> List[Series]:
    """Every mainline release from the oldest model to the newest the rules know."""
    out, at = [], OLDEST
    while at <= NEWEST:
        out.append(at)
        at = _next_series(at)
    return out


def _next_series(series: Series) -> Series:
    return (series[0] + 1, 0) if series[1] == LAST_MINOR.get(series[0], 99) else (series[0], series[1] + 1)


def _range(first: str, last: str) -> str:
    return first if first == last else f"{first}–{last}"


def _before(version: Version) -> Version:
    """The last release before ``version``: 6.18.8 → 6.18.7; 6.1 → 6.0; 6.0 → 5.19."""
    major, minor, point = version
    if point:
        return major, minor, point - 1
    if minor:
        return major, minor - 1, 0
    return major - 1, LAST_MINOR.get(major - 1, 0), 0


@cache
def models() -> Tuple[Model, ...]:
    """Every model, oldest first: one per mainline release where a rule lands, and one per stable
    point release that took a backport."""
    from mremapctl.rules import all_rules

    landings: Dict[Version, List[Tuple[str, bool]]] = {(*OLDEST, 0): []}
    for rule in all_rules().values():
        for version, starts in rule.landings():
            if version > (*OLDEST, 0):
                landings.setdefault(version, []).append((rule.id, starts))
    edges = sorted(landings)
    out = []
    for since in edges:
        later = [v for v in edges if v > since and (v[2] == 0 if since[2] == 0 else v[:2] == since[:2])]
        starting = tuple(r for r, starts in landings[since] if starts)
        stopping = tuple(r for r, starts in landings[since] if not starts)
        out.append(Model(since, later[0] if later else None, starting, stopping))
    return tuple(out)


@cache
def series_models() -> List[Model]:
    """The models that begin with a mainline release."""
    return [m for m in models() if m.since[2] == 0]


@cache
def model_for(version: Version) -> Model:
    """The model whose releases hold ``version``: a stable backport's, if its series took one."""
    points = [m for m in models() if m.since[2] and m.since[:2] == version[:2] and m.since <= version]
    return points[-1] if points else [m for m in series_models() if m.since <= version][-1]


def model_names() -> str:
    return ", ".join(m.name for m in series_models())


@frozen
class Kernel:
    """What a simulation answers as: the exact version its rules hold for, and what to tell the user."""

    version: Version
    label: str  # as asked: "6.18", "6.18.44-fc-v669"
    notes: Tuple[str, ...] = ()

    @property
    def model(self) -> Model:
        return model_for(self.version)

    @property
    def newer_than_models(self) -> bool:
        return self.version[:2] > NEWEST


def resolve(text: Optional[str], default: Optional[str] = None) -> Kernel:
    """The kernel to simulate: ``text``, else ``default`` (the running kernel), else the newest."""
    requested = text if text is not None else default
    if requested is None:
        newest = (*NEWEST, 0)
        return Kernel(newest, show(newest), (f"no kernel given: Linux {show(newest)}, the newest the rules know",))
    version = parse_version(requested)
    if version[:2] < OLDEST:
        oldest = show((*OLDEST, 0))
        raise BadInput(f"kernel {requested!r} is older than the oldest model ({oldest}); models: {model_names()}")
    if version[0] > NEWEST[0] + 1:
        raise BadInput(f"kernel {requested!r} is not a Linux version we know; models: {model_names()}")
    notes: List[str] = []
    if version[:2] > NEWEST:
        notes.append(
            f"Linux {show(version)} is newer than every model: answered as {show((*NEWEST, 0))}+, "
            "the newest the rules know; what changed after it is not known to them"
        )
    elif not has_point(requested):
        points = stable_landings(version[:2])
        if points:
            shown = ", ".join(show(p) for p in points)
            notes.append(f"{requested} means {requested}.0 as released; stable updates change it at {shown}")
    return Kernel(version, requested, tuple(notes))


def model_info(kernel: Kernel) -> ModelInfo:
    return ModelInfo(show(kernel.version), kernel.model.span, kernel.newer_than_models)


@cache
def stable_landings(series: Series) -> List[Version]:
    """The point releases of one series where a rule lands (a stable backport)."""
    return sorted({m.since for m in models() if m.since[:2] == series and m.since[2]})


def models_between(low: str, high: str) -> List[Model]:
    lo, hi = range_bound(low, upper=False), range_bound(high, upper=True)
    return [m for m in series_models() if lo <= m.since <= hi]
