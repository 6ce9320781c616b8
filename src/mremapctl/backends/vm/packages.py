"""Debian kernel packages: their names and versions, parsed, compared, and resolved from a spec.

Pure functions over package records, so resolution can be tested with a fake
package list. Debian removes superseded kernel ABIs from the mirrors, so a user
asks for "5.10" and we pick the newest 5.10 package that exists today.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cmp_to_key
from typing import Iterable, List, Optional, Tuple

from mremapctl.backends.vm.arch import of_flavour
from mremapctl.backends.vm.errors import KernelNotFound, UnsupportedKernel
from mremapctl.frozen import frozen

# amd64; arm64 with 4K pages, arm64-16k with 16K pages; cloud- and rt- variants of each
_FLAVOUR = r"(?P<flavour>(?:cloud-|rt-)?(?:amd64|arm64(?:-16k)?))"
_NAME = re.compile(r"^linux-image-(?P<abi>\d+\.\d+\S*?)-" + _FLAVOUR + r"(?P<unsigned>-unsigned)?$")
# From 6.19 Debian splits a kernel: linux-image-R is a small metapackage, the kernel is in
# linux-binary-R, the modules in linux-modules-R, config and modules.builtin in linux-base-R.
_PART = re.compile(
    r"^linux-(?P<kind>binary|modules|base)-(?P<unsigned>unsigned-)?(?P<abi>\d+\.\d+\S*?)-" + _FLAVOUR + "$"
)
NO_9P_FLAVOURS = {"cloud-amd64": "the cloud flavour has no 9p (CONFIG_NET_9P is not set)"}
PLAIN_FLAVOUR = "amd64"


@frozen
class KernelPackage:
    """A kernel a mirror (or the cache) offers: one linux-image package, or the split parts of one."""

    package: str  # linux-image-5.10.0-46-amd64 (the name users know, also for split kernels)
    version: str  # Debian version, 5.10.262-1
    upstream: str  # 5.10.262 (7.3-rc7 for a release candidate)
    release: str  # what `uname -r` will say: 5.10.0-46-amd64
    flavour: str  # amd64, cloud-amd64, rt-amd64, arm64, arm64-16k, ...
    unsigned: bool
    suite: str = ""
    size: int = 0  # download size in bytes of everything fetched, 0 if unknown
    cached: bool = False
    parts: Tuple[str, ...] = ()  # split kernels: the packages to download (binary, base, modules)

    @property
    def downloads(self) -> Tuple[str, ...]:
        """The package names a fetch downloads, all at `version`."""
        return self.parts or (self.package,)

    @property
    def series(self) -> str:
        """major.minor, e.g. "6.18"."""
        return ".".join(str(n) for n in numbers(self.upstream)[:2])

    @property
    def arch(self) -> str:
        """Debian's architecture name: amd64 or arm64."""
        return of_flavour(self.flavour)[0].name

    @property
    def page_size(self) -> int:
        """The kernel's base page size: 16384 for the arm64-16k flavour, else 4096."""
        return of_flavour(self.flavour)[1]

    @property
    def needs_virtiofs(self) -> bool:
        """A split kernel Debian publishes no modules for: it can only reach the host over virtiofs."""
        return bool(self.parts) and not any(p.startswith("linux-modules-") for p in self.parts)


def parse_name(package: str) -> Optional[Tuple[str, str, bool]]:
    """(release, flavour, unsigned) for a versioned linux-image package name, else None.

    >>> parse_name("linux-image-5.10.0-46-cloud-amd64-unsigned")
    ('5.10.0-46-cloud-amd64', 'cloud-amd64', True)
    >>> parse_name("linux-image-amd64") is None
    True
    """
    m = _NAME.match(package)
    if not m:
        return None
    return f"{m.group('abi')}-{m.group('flavour')}", m.group("flavour"), bool(m.group("unsigned"))


def parse_part(package: str) -> Optional[Tuple[str, str, str, bool]]:
    """(kind, release, flavour, unsigned) for any kernel package name: kind is image, binary, modules or base.

    >>> parse_part("linux-binary-unsigned-7.3-amd64")
    ('binary', '7.3-amd64', 'amd64', True)
    >>> parse_part("linux-modules-7.2.12+deb13-cloud-amd64")
    ('modules', '7.2.12+deb13-cloud-amd64', 'cloud-amd64', False)
    """
    image = parse_name(package)
    if image is not None:
        return ("image", *image)
    m = _PART.match(package)
    if not m:
        return None
    return m.group("kind"), f"{m.group('abi')}-{m.group('flavour')}", m.group("flavour"), bool(m.group("unsigned"))


def upstream_of(version: str) -> str:
    """The upstream kernel version of a Debian version: '1:6.1.176-1~deb11u1' -> '6.1.176'.

    >>> upstream_of("6.12.43-1~bpo12+1")
    '6.12.43'
    >>> upstream_of("7.3~rc7-1~exp1")
    '7.3-rc7'
    """
    body = version.split(":", 1)[-1]
    m = re.match(r"(\d+(?:\.\d+)*)(?:~(rc\d+))?", body)
    if not m:
        return body
    return m.group(1) + (f"-{m.group(2)}" if m.group(2) else "")


def numbers(upstream: str) -> Tuple[int, ...]:
    """The numeric components of an upstream version: '7.3-rc7' -> (7, 3).

    >>> numbers("6.18.15")
    (6, 18, 15)
    """
    m = re.match(r"\d+(?:\.\d+)*", upstream)
    return tuple(int(x) for x in m.group(0).split(".")) if m else ()


def make_package(
    package: str, version: str, suite: str = "", size: int = 0, cached: bool = False
) -> Optional[KernelPackage]:
    """A KernelPackage from a name and version, or None if it is not a versioned kernel image."""
    parsed = parse_name(package)
    if parsed is None:
        return None
    release, flavour, unsigned = parsed
    return KernelPackage(package, version, upstream_of(version), release, flavour, unsigned, suite, size, cached)


def _order(c: str) -> int:
    if c == "~":
        return -1
    if c.isdigit() or not c:
        return 0
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _verrevcmp(a: str, b: str) -> int:
    """dpkg's comparison of an upstream version or a revision."""
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) else 0
            bc = _order(b[j]) if j < len(b) else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


def compare_versions(a: str, b: str) -> int:
    """Compare two Debian versions the way dpkg does (<0, 0, >0).

    >>> compare_versions("6.1.176-1", "6.1.176-1~deb11u1") > 0
    True
    """

    def split(v: str) -> Tuple[int, str, str]:
        epoch, _, rest = v.rpartition(":") if ":" in v else ("0", "", v)
        upstream, _, revision = rest.rpartition("-") if "-" in rest else (rest, "", "")
        return int(epoch or 0), upstream, revision

    ea, ua, ra = split(a)
    eb, ub, rb = split(b)
    if ea != eb:
        return ea - eb
    return _verrevcmp(ua, ub) or _verrevcmp(ra, rb)


def _rank(a: KernelPackage, b: KernelPackage) -> int:
    """Newer first; among equals prefer a cached one, then the signed name (in every suite)."""
    return (
        -compare_versions(a.version, b.version)
        or int(b.cached) - int(a.cached)
        or int(a.unsigned) - int(b.unsigned)
        or (a.package > b.package) - (a.package < b.package)
    )


def newest_first(packages: Iterable[KernelPackage]) -> List[KernelPackage]:
    """Sort so that the package resolve() would pick comes first."""
    return sorted(packages, key=cmp_to_key(_rank))


def _refuse_flavour(pkg: KernelPackage, plain: List[KernelPackage]) -> UnsupportedKernel:
    reason = NO_9P_FLAVOURS[pkg.flavour]
    same = [p for p in plain if p.upstream == pkg.upstream] or plain
    hint = f"; use {newest_first(same)[0].package}" if same else "; use a non-cloud flavour"
    return UnsupportedKernel(f"{pkg.package}: {reason}, which the vm backend needs to share files{hint}")


def _by_version(spec: str, plain: List[KernelPackage], flavour: str) -> KernelPackage:
    """The newest plain package of a series ("6.18") or point release ("6.18.5"); else say what exists."""
    want = numbers(spec)
    matches = [p for p in plain if numbers(p.upstream)[: len(want)] == want]
    if matches:
        return newest_first(matches)[0]
    series = [p for p in plain if p.series == spec_series(spec)]
    if len(want) > 2 and series:
        have = sorted({p.upstream for p in series}, key=numbers)
        raise KernelNotFound(f"no Debian {flavour} kernel {spec}; for {spec_series(spec)} Debian has {', '.join(have)}")
    have = sorted({p.series for p in plain}, key=numbers)
    raise KernelNotFound(f"no Debian {flavour} kernel {spec} is available; available: {', '.join(have) or 'none'}")


def spec_series(spec: str) -> str:
    """major.minor of a version spec: '6.18.5' -> '6.18'."""
    return ".".join(spec.split(".")[:2])


def resolve(spec: str, packages: Iterable[KernelPackage], flavour: str = PLAIN_FLAVOUR) -> KernelPackage:
    """The package a spec means.

    spec is "5.10" (newest 5.10.x), "5.10.262" (newest build of that release), a
    release such as "5.10.0-46-amd64", or a package name (of a split kernel, any of its
    parts too). Version specs consider only the plain `flavour` (amd64, arm64 or arm64-16k:
    cloud lacks 9p, rt is a different scheduler).
    """
    pkgs = list(packages)
    plain = [p for p in pkgs if p.flavour == flavour]
    spec = spec.strip()
    if re.fullmatch(r"\d+\.\d+(?:\.\d+)?", spec):
        return _by_version(spec, plain, flavour)
    names = {spec, f"linux-image-{spec}", f"linux-image-{spec}-unsigned"}
    matches = [p for p in pkgs if p.package in names or names.intersection(p.parts)]
    if not matches:
        named = re.search(_FLAVOUR + r"(?:-unsigned)?$", spec)
        other = of_flavour(named.group("flavour"))[0].name if named else None
        hint = (
            f"; it names an {other} kernel: add --arch {other}"
            if other not in (None, of_flavour(flavour)[0].name)
            else ""
        )
        raise KernelNotFound(f"no Debian kernel package matches {spec!r} (try a version such as 5.10 or 6.1){hint}")
    best = newest_first(matches)[0]
    if best.flavour in NO_9P_FLAVOURS:
        raise _refuse_flavour(best, plain)
    return best


def mark_cached(pkg: KernelPackage, cached: bool) -> KernelPackage:
    """A copy with the cached flag set."""
    return replace(pkg, cached=cached)
