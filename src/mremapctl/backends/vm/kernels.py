"""Debian kernels for the vm backend: list what the mirrors offer, resolve a spec, fetch, clean.

A fetched kernel is a folder in the cache holding the bzImage (amd64) or Image (arm64), its
config, the ELF vmlinux for PVH boot (amd64, when the payload could be decompressed), and only
the module folders needed to reach the host over virtio-9p. Nothing outside the cache is touched.
Each architecture has its own package lists (apt/ for amd64, apt-arm64/ for arm64).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from mremapctl.backends.vm import catalog, packages
from mremapctl.backends.vm.apt import PrivateApt
from mremapctl.backends.vm.arch import Arch, get_arch
from mremapctl.backends.vm.cache import cache_dir, locked, remove_tree
from mremapctl.backends.vm.errors import KernelNotFound, MirrorUnavailable, UnsupportedKernel
from mremapctl.backends.vm.packages import KernelPackage
from mremapctl.backends.vm.prereq import check_arch, check_prerequisites
from mremapctl.backends.vm.unpack import check_config, select, unpack_or_fail
from mremapctl.frozen import frozen
from mremapctl.platforms import format_page

__all__ = ["Kernel", "available", "cached_kernels", "check_config", "clean", "fetch", "get", "resolve", "select"]
Progress = Callable[[str], None]
META = "kernel.json"


@frozen
class Kernel:
    """A fetched, bootable kernel in the cache."""

    package: str
    version: str
    upstream: str
    release: str
    directory: Path
    transport: str = "9p"  # how the guest reaches the host's files: 9p (modules) or virtiofs (built in)
    arch: str = "amd64"  # Debian's name of the guest architecture
    page_size: int = 4096
    parts: Tuple[str, ...] = ()  # a split kernel's packages (linux-binary, -base, -modules)

    @property
    def packages(self) -> str:
        """What was booted, for run notes: the package, or a split kernel's parts."""
        return ", ".join(self.parts) if self.parts else self.package

    @property
    def target(self) -> Arch:
        return get_arch(self.arch)

    @property
    def vmlinuz(self) -> Path:
        return self.directory / "vmlinuz"

    @property
    def config(self) -> Path:
        return self.directory / "config"

    @property
    def modules_dir(self) -> Path:
        return self.directory / "modules"

    @property
    def vmlinux(self) -> Optional[Path]:
        path = self.directory / "vmlinux"
        return path if path.exists() else None

    @property
    def boot_image(self) -> Path:
        """What qemu -kernel gets: the ELF vmlinux (PVH boot) if we have one, else the bzImage or arm64 Image."""
        return self.vmlinux or self.vmlinuz

    @property
    def describe(self) -> str:
        """'arm64, 16K pages' for run notes and progress lines."""
        return f"{self.arch}, {format_page(self.page_size)} pages"


def _root(cache: Optional[Path]) -> Path:
    return cache if cache is not None else cache_dir()


def _kernel_dir(root: Path, package: str, version: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9.+~_-]", "_", version)
    return root / "kernels" / f"{package}_{safe}"


def _from_meta(d: Dict[str, Any], directory: Path) -> Kernel:
    """A Kernel from its kernel.json (those written before arm64 guests are amd64 ones)."""
    return Kernel(
        d["package"],
        d["version"],
        d["upstream"],
        d["release"],
        directory,
        d.get("transport", "9p"),
        d.get("arch", "amd64"),
        d.get("page_size", 4096),
        tuple(d.get("parts", ())),
    )


def _apt(root: Path, arch: Arch) -> PrivateApt:
    """The private apt of one architecture (amd64 keeps the folder it always had)."""
    return PrivateApt(root / ("apt" if arch.name == "amd64" else f"apt-{arch.name}"), arch.name)


def cached_kernels(cache: Optional[Path] = None) -> List[Kernel]:
    """Every completely fetched kernel in the cache (a folder counts once its kernel.json exists)."""
    out = []
    for meta in sorted((_root(cache) / "kernels").glob(f"*/{META}")):
        try:
            out.append(_from_meta(json.loads(meta.read_text()), meta.parent))
        except (OSError, ValueError, KeyError):
            continue
    return out


def cached_package(kernel: Kernel) -> Optional[KernelPackage]:
    """The KernelPackage a cached kernel was fetched as (from its kernel.json), marked cached."""
    try:
        d = json.loads((kernel.directory / META).read_text())
    except (OSError, ValueError):
        return None
    known = {f.name for f in fields(KernelPackage)}
    d = {k: v for k, v in d.items() if k in known}
    d.update(cached=True, parts=tuple(d.get("parts", ())), suite=d.get("suite") or "cache")
    try:
        return KernelPackage(**d)
    except TypeError:
        return packages.make_package(kernel.package, kernel.version, "cache", 0, cached=True)


def _listed(root: Path, refresh: Optional[bool], progress: Optional[Progress], arch: Arch) -> List[KernelPackage]:
    """Versioned kernels of `arch` in the private apt lists, one per (name, version); split ones assembled."""
    check_prerequisites(("apt-get",))
    apt = _apt(root, arch)
    apt.ensure_lists(refresh, progress)
    records = (catalog.Record(s.package, s.version, s.suite, s.size) for s in apt.stanzas())
    return [p for p in catalog.assemble(records) if p.arch == arch.name]


def available(
    refresh: Optional[bool] = None,
    progress: Optional[Progress] = None,
    cache: Optional[Path] = None,
    arch: Optional[str] = "amd64",
) -> List[KernelPackage]:
    """Kernel packages of `arch` obtainable from Debian (plus cached ones), newest first, each marked cached or not.

    refresh=None updates the lists when missing or over a day old; True forces; False never.
    With the mirrors unreachable, the cached kernels are still listed. arch None: the host's.
    """
    root = _root(cache)
    target = get_arch(arch)
    have = {(k.package, k.version): k for k in cached_kernels(root) if k.arch == target.name}
    try:
        listed = _listed(root, refresh, progress, target)
    except MirrorUnavailable:
        if not have:
            raise
        listed = []
        if progress:
            progress("warning: Debian mirrors unreachable; listing cached kernels only")
    pkgs = {(p.package, p.version): packages.mark_cached(p, (p.package, p.version) in have) for p in listed}
    for key, k in have.items():
        if key not in pkgs:
            made = cached_package(k)
            if made is not None:
                pkgs[key] = made
    return sorted(pkgs.values(), key=lambda p: (packages.numbers(p.upstream), p.package), reverse=True)


def resolve(
    spec: str,
    refresh: Optional[bool] = None,
    progress: Optional[Progress] = None,
    cache: Optional[Path] = None,
    arch: Optional[str] = "amd64",
    page_size: Optional[int] = None,
) -> KernelPackage:
    """The package a spec ("5.10", "6.1.176", "5.10.0-46-amd64", a package name) means for `arch`
    (None: the host's) and `page_size` (None: a version picks 4K, a name says its own).

    An exact release or package name that is already cached resolves without the network.
    """
    root = _root(cache)
    target = get_arch(arch)
    flavour = target.flavour(page_size)  # refuse a page size the architecture lacks before any download
    exact = [
        k
        for k in cached_kernels(root)
        if k.arch == target.name and spec in (k.package, k.release, k.package.replace("-unsigned", ""))
    ]
    made = cached_package(exact[0]) if exact and refresh is not True else None
    pkg = made or packages.resolve(spec, available(refresh, progress, root, target.name), flavour)
    if page_size is not None and pkg.page_size != page_size:
        raise UnsupportedKernel(
            f"{pkg.package} has {format_page(pkg.page_size)} pages, not the {format_page(page_size)} of --page-size"
        )
    return pkg


def fetch(
    kernel: Union[str, KernelPackage],
    progress: Optional[Progress] = None,
    cache: Optional[Path] = None,
    keep_deb: bool = False,
) -> Kernel:
    """Download and unpack a kernel into the cache (no-op when cached); return it.

    kernel is a KernelPackage from available()/resolve(), or any spec resolve() accepts.
    Nothing of a failed download or unpack stays in the cache.
    """
    root = _root(cache)
    pkg = resolve(kernel, progress=progress, cache=root) if isinstance(kernel, str) else kernel
    check_arch(pkg.arch)
    target = _kernel_dir(root, pkg.package, pkg.version)
    with locked(root):
        done = _load(target)
        if done is not None:
            return done
        started = time.monotonic()
        debs: List[Path] = []
        tmp = target.with_name(target.name + ".partial")
        try:
            debs = _download(pkg, root, progress)
            remove_tree(target)
            remove_tree(tmp)
            transport = unpack_or_fail(debs, pkg, tmp, progress)
            meta = asdict(pkg)
            meta.update(
                cached=True,
                fetched_at=time.time(),
                seconds=round(time.monotonic() - started, 1),
                pvh=(tmp / "vmlinux").exists(),
                transport=transport,
                arch=pkg.arch,
                page_size=pkg.page_size,
            )
            (tmp / META).write_text(json.dumps(meta, indent=1) + "\n")
            tmp.rename(target)
        finally:
            remove_tree(tmp)
            for deb in debs if not keep_deb else []:
                deb.unlink(missing_ok=True)
    loaded = _load(target)
    assert loaded is not None
    return loaded


def _download(pkg: KernelPackage, root: Path, progress: Optional[Progress]) -> List[Path]:
    """Every .deb of a kernel (one, or a split kernel's parts) in root/debs; none left if one fails."""
    apt = _apt(root, get_arch(pkg.arch))
    apt.ensure_lists(None, progress)
    size = f" ({pkg.size / 1e6:.0f} MB)" if pkg.size else ""
    if progress:
        parts = f": {', '.join(pkg.downloads)}" if pkg.parts else ""
        progress(f"downloading {pkg.package} {pkg.version}{size}{parts}")
    return apt.download_all([(name, pkg.version) for name in pkg.downloads], root / "debs", progress)


def _load(target: Path) -> Optional[Kernel]:
    meta = target / META
    if not meta.exists():
        return None
    return _from_meta(json.loads(meta.read_text()), target)


def get(
    spec: Union[str, Kernel, KernelPackage],
    progress: Optional[Progress] = None,
    cache: Optional[Path] = None,
    arch: Optional[str] = "amd64",
    page_size: Optional[int] = None,
) -> Kernel:
    """A bootable kernel for a spec of `arch` (None: the host's) and `page_size`: cached if possible,
    else resolved and fetched.

    If the download fails because Debian dropped the package since our lists were
    made, the lists are refreshed and the spec resolved again, once.
    """
    if isinstance(spec, Kernel):
        return spec
    if isinstance(spec, KernelPackage):
        return fetch(spec, progress, cache)
    try:
        return fetch(resolve(spec, None, progress, cache, arch, page_size), progress, cache)
    except MirrorUnavailable as first:
        try:
            return fetch(resolve(spec, True, progress, cache, arch, page_size), progress, cache)
        except (MirrorUnavailable, KernelNotFound):
            pass
        offline = _cached_for(spec, cache, get_arch(arch).flavour(page_size))
        if offline is None:
            raise first from None
        if progress:
            progress(f"warning: Debian mirrors unreachable; using the cached {offline.package}")
        return offline


def _cached_for(spec: str, cache: Optional[Path], flavour: str) -> Optional[Kernel]:
    """The cached kernel a spec resolves to among cached kernels only (the offline fallback)."""
    have = cached_kernels(cache)
    made = [cached_package(k) for k in have]
    try:
        pkg = packages.resolve(spec, [m for m in made if m is not None], flavour)
    except (KernelNotFound, UnsupportedKernel):
        return None
    return next(k for k in have if (k.package, k.version) == (pkg.package, pkg.version))


def clean(cache: Optional[Path] = None) -> int:
    """Delete the whole vm cache (lists, downloads, kernels); return the bytes freed."""
    root = _root(cache)
    if not root.exists():
        return 0
    freed = sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    remove_tree(root)
    return freed
