"""Turn Debian's kernel package records into kernels, and kernels into the rows `vm list` shows.

Up to 6.18 a kernel is one linux-image package. From 6.19 Debian splits it: linux-image-R
is a metapackage, and the kernel comes from linux-binary-R (vmlinuz), linux-base-R (config,
modules.builtin) and linux-modules-R (the .ko files). Some split kernels on the mirrors have
no linux-base or linux-modules published at all; they are still offered, and boot over
virtiofs (built in) instead of 9p (modules).
"""

from __future__ import annotations

from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from mremapctl.backends.vm.packages import (
    NO_9P_FLAVOURS,
    PLAIN_FLAVOUR,
    KernelPackage,
    newest_first,
    numbers,
    parse_part,
    upstream_of,
)

# the order a split kernel's parts are downloaded and unpacked in
PART_ORDER = ("binary", "base", "modules")


class Record(NamedTuple):
    """One package record: name, Debian version, suite, download size in bytes."""

    package: str
    version: str
    suite: str
    size: int


class _Part(NamedTuple):
    kind: str
    flavour: str
    unsigned: bool
    record: Record


def _pick(parts: List[_Part]) -> _Part:
    """The signed name when both exist (they hold the same kernel), else whatever there is."""
    return sorted(parts, key=lambda p: (p.unsigned, p.record.package))[0]


def _split_kernel(release: str, kinds: Dict[str, List[_Part]]) -> KernelPackage:
    binary = _pick(kinds["binary"])
    chosen = [_pick(kinds[k]) for k in PART_ORDER if k in kinds]
    image = _pick(kinds["image"]) if "image" in kinds else binary
    rec = binary.record
    return KernelPackage(
        package=image.record.package,
        version=rec.version,
        upstream=upstream_of(rec.version),
        release=release,
        flavour=binary.flavour,
        unsigned=binary.unsigned,
        suite=rec.suite,
        size=sum(p.record.size for p in chosen),
        parts=tuple(p.record.package for p in chosen),
    )


def _image_kernels(release: str, images: List[_Part]) -> List[KernelPackage]:
    return [
        KernelPackage(
            p.record.package,
            p.record.version,
            upstream_of(p.record.version),
            release,
            p.flavour,
            p.unsigned,
            p.record.suite,
            p.record.size,
        )
        for p in images
    ]


def assemble(records: Iterable[Record]) -> List[KernelPackage]:
    """Kernels from package records (any suites, any order): one per package and version, split
    kernels as one entry whose parts name what to download. Records of other packages are ignored."""
    groups: Dict[Tuple[str, str], Dict[str, List[_Part]]] = {}
    seen = set()
    for rec in records:
        parsed = parse_part(rec.package)
        if parsed is None or (rec.package, rec.version) in seen:
            continue
        seen.add((rec.package, rec.version))
        kind, release, flavour, unsigned = parsed
        groups.setdefault((release, rec.version), {}).setdefault(kind, []).append(_Part(kind, flavour, unsigned, rec))
    out: List[KernelPackage] = []
    for (release, _version), kinds in groups.items():
        if "binary" in kinds:
            out.append(_split_kernel(release, kinds))
        elif "image" in kinds:
            out.extend(_image_kernels(release, kinds["image"]))
    return out


def bootable(pkg: KernelPackage) -> bool:
    """False for flavours that cannot reach the host's files (cloud: no 9p)."""
    return pkg.flavour not in NO_9P_FLAVOURS


def rows(
    packages: Iterable[KernelPackage], every: bool = False, flavours: Sequence[str] = (PLAIN_FLAVOUR,)
) -> List[KernelPackage]:
    """What `vm list` shows, newest first: the newest kernel of each series in each plain flavour
    (amd64; arm64 and arm64-16k), or with `every` one row per release (signed and -unsigned names
    of one kernel are one row)."""
    best: Dict[Tuple[str, str], List[KernelPackage]] = {}
    for p in packages:
        if every:
            best.setdefault((p.release, ""), []).append(p)
        elif p.flavour in flavours:
            best.setdefault((p.series, p.flavour), []).append(p)
    chosen = newest_first(newest_first(group)[0] for group in best.values())
    # newest first by upstream (a Debian rebuild of an older release sorts with its release), page sizes in order
    return sorted(chosen, key=lambda p: (numbers(p.upstream), -p.page_size), reverse=True)


def note(pkg: KernelPackage, virtiofs_ok: Optional[bool] = None) -> str:
    """A few words on how (or whether) this kernel boots here."""
    if not bootable(pkg):
        return "no 9p: cannot boot"
    if pkg.needs_virtiofs:
        return "virtiofs" if virtiofs_ok is not False else "needs virtiofsd"
    return "rc" if "-rc" in pkg.upstream else ""
