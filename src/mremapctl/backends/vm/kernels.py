"""Debian kernels for the vm backend: list what the mirrors offer, resolve a spec, fetch, clean.

A fetched kernel is a folder in the cache holding the bzImage, its config, the ELF
vmlinux for PVH boot (when the payload could be decompressed), and only the module
folders needed to reach the host over virtio-9p. Nothing outside the cache is touched.
"""

from __future__ import annotations

import json
import re
import tarfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple, Union

from mremapctl.backends.vm import versions
from mremapctl.backends.vm.apt import PrivateApt
from mremapctl.backends.vm.bzimage import extract_vmlinux, has_pvh
from mremapctl.backends.vm.cache import cache_dir, locked, remove_tree
from mremapctl.backends.vm.compress import SUFFIXES, decompress
from mremapctl.backends.vm.debextract import extract
from mremapctl.backends.vm.errors import FetchFailed, KernelNotFound, MirrorUnavailable, UnsupportedKernel
from mremapctl.backends.vm.prereq import ALL_TOOLS, check_prerequisites
from mremapctl.backends.vm.versions import KernelPackage

Progress = Callable[[str], None]
# the module folders (under kernel/) that hold virtio, 9p and what 9p needs
MODULE_DIRS = ("drivers/virtio/", "net/9p/", "fs/9p/", "fs/netfs/", "fs/fscache/")
# options the guest cannot do without: (option, what it gives us)
NEEDED_CONFIG = (
    ("CONFIG_VIRTIO_PCI", "virtio-pci"),
    ("CONFIG_NET_9P", "9p networking"),
    ("CONFIG_NET_9P_VIRTIO", "9p over virtio"),
    ("CONFIG_9P_FS", "the 9p filesystem"),
)
META = "kernel.json"


@dataclass(frozen=True)
class Kernel:
    """A fetched, bootable kernel in the cache."""

    package: str
    version: str
    upstream: str
    release: str
    directory: Path

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
        """What qemu -kernel gets: the ELF vmlinux (PVH boot) if we have one, else the bzImage."""
        return self.vmlinux or self.vmlinuz


def _root(cache: Optional[Path]) -> Path:
    return cache if cache is not None else cache_dir()


def _kernel_dir(root: Path, package: str, version: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9.+~_-]", "_", version)
    return root / "kernels" / f"{package}_{safe}"


def cached_kernels(cache: Optional[Path] = None) -> List[Kernel]:
    """Every completely fetched kernel in the cache (a folder counts once its kernel.json exists)."""
    out = []
    for meta in sorted((_root(cache) / "kernels").glob(f"*/{META}")):
        try:
            d = json.loads(meta.read_text())
            out.append(Kernel(d["package"], d["version"], d["upstream"], d["release"], meta.parent))
        except (OSError, ValueError, KeyError):
            continue
    return out


def _listed(root: Path, refresh: Optional[bool], progress: Optional[Progress]) -> List[KernelPackage]:
    """Versioned amd64 linux-image packages in the private apt lists, one per (name, version)."""
    check_prerequisites(("apt-get",))
    apt = PrivateApt(root / "apt")
    apt.ensure_lists(refresh, progress)
    seen: Dict[Tuple[str, str], KernelPackage] = {}
    for s in apt.stanzas():
        pkg = versions.make_package(s.package, s.version, s.suite, s.size)
        if pkg is not None and (pkg.package, pkg.version) not in seen:
            seen[(pkg.package, pkg.version)] = pkg
    return list(seen.values())


def available(
    refresh: Optional[bool] = None, progress: Optional[Progress] = None, cache: Optional[Path] = None
) -> List[KernelPackage]:
    """Kernel packages obtainable from Debian (plus cached ones), newest first, each marked cached or not.

    refresh=None updates the lists when missing or over a day old; True forces; False never.
    With the mirrors unreachable, the cached kernels are still listed.
    """
    root = _root(cache)
    have = {(k.package, k.version): k for k in cached_kernels(root)}
    try:
        listed = _listed(root, refresh, progress)
    except MirrorUnavailable:
        if not have:
            raise
        listed = []
        if progress:
            progress("warning: Debian mirrors unreachable; listing cached kernels only")
    pkgs = {(p.package, p.version): versions.mark_cached(p, (p.package, p.version) in have) for p in listed}
    for key, k in have.items():
        if key not in pkgs:
            made = versions.make_package(k.package, k.version, "cache", 0, cached=True)
            if made is not None:
                pkgs[key] = made
    return sorted(pkgs.values(), key=lambda p: (_vkey(p.upstream), p.package), reverse=True)


def _vkey(upstream: str) -> Tuple[int, ...]:
    return tuple(int(x) for x in upstream.split(".") if x.isdigit())


def resolve(
    spec: str, refresh: Optional[bool] = None, progress: Optional[Progress] = None, cache: Optional[Path] = None
) -> KernelPackage:
    """The package a spec ("5.10", "6.1.176", "5.10.0-46-amd64", a package name) means.

    An exact release or package name that is already cached resolves without the network.
    """
    root = _root(cache)
    exact = [k for k in cached_kernels(root) if spec in (k.package, k.release, k.package.replace("-unsigned", ""))]
    if exact and refresh is not True:
        made = versions.make_package(exact[0].package, exact[0].version, "cache", 0, cached=True)
        if made is not None:
            return made
    return versions.resolve(spec, available(refresh, progress, root))


def _select(release: str) -> Callable[[str], Optional[str]]:
    """Map the .deb's member names we want to where they go in the kernel folder."""
    mod_re = re.compile(r"^(?:usr/)?lib/modules/" + re.escape(release) + r"/(.+)$")

    def select(name: str) -> Optional[str]:
        if name == f"boot/vmlinuz-{release}":
            return "vmlinuz"
        if name == f"boot/config-{release}":
            return "config"
        m = mod_re.match(name)
        if not m:
            return None
        rest = m.group(1)
        if rest == "modules.builtin":
            return "modules/modules.builtin"
        if rest.startswith("kernel/") and rest[len("kernel/") :].startswith(MODULE_DIRS) and ".ko" in rest:
            return "modules/" + rest
        return None

    return select


def check_config(config_text: str, package: str) -> None:
    """Refuse a kernel that cannot mount the host over virtio-9p, naming what it lacks."""
    have = dict(re.findall(r"^(CONFIG_\w+)=(\S+)$", config_text, re.M))
    lacking = [what for opt, what in NEEDED_CONFIG if have.get(opt) not in ("y", "m")]
    if lacking:
        raise UnsupportedKernel(
            f"{package} lacks {', '.join(lacking)} (needed to share the host's files "
            "over virtio-9p); use the plain amd64 flavour"
        )


def _decompress_modules(modules: Path) -> None:
    """Store .ko.xz / .ko.zst / .ko.gz as plain .ko so the initramfs needs no decompressor."""
    for path in list(modules.rglob("*.ko.*")):
        kind = SUFFIXES.get(path.suffix)
        if kind is None:
            continue
        path.with_suffix("").write_bytes(decompress(path.read_bytes(), kind))
        path.unlink()


def _unpack(deb: Path, pkg: KernelPackage, target: Path, progress: Optional[Progress]) -> None:
    """Extract, check and prepare a kernel folder from its .deb."""
    if progress:
        progress(f"extracting vmlinuz, config and virtio/9p modules from {deb.name}")
    extract(deb, target, _select(pkg.release))
    if not (target / "vmlinuz").exists() or not (target / "config").exists():
        raise UnsupportedKernel(f"{pkg.package}: no boot/vmlinuz-{pkg.release} or config in the package")
    config_text = (target / "config").read_text(errors="replace")
    check_config(config_text, pkg.package)
    _decompress_modules(target / "modules")
    if has_pvh(config_text):
        if progress:
            progress("decompressing the bzImage payload into an ELF vmlinux for PVH boot")
        extract_vmlinux(target / "vmlinuz", target / "vmlinux")


def _unpack_or_fail(deb: Path, pkg: KernelPackage, target: Path, progress: Optional[Progress]) -> None:
    """_unpack, with any failure of the package's data as one line naming the package and the step."""
    try:
        _unpack(deb, pkg, target, progress)
    except (ValueError, OSError, EOFError, tarfile.TarError) as err:
        raise FetchFailed(f"{pkg.package} {pkg.version}: unpacking {deb.name} failed: {err}") from None


def fetch(
    kernel: Union[str, KernelPackage],
    progress: Optional[Progress] = None,
    cache: Optional[Path] = None,
    keep_deb: bool = False,
) -> Kernel:
    """Download and unpack a kernel into the cache (no-op when cached); return it.

    kernel is a KernelPackage from available()/resolve(), or any spec resolve() accepts.
    """
    root = _root(cache)
    check_prerequisites(ALL_TOOLS)
    pkg = resolve(kernel, progress=progress, cache=root) if isinstance(kernel, str) else kernel
    target = _kernel_dir(root, pkg.package, pkg.version)
    with locked(root):
        done = _load(target)
        if done is not None:
            return done
        apt = PrivateApt(root / "apt")
        apt.ensure_lists(None, progress)
        size = f" ({pkg.size / 1e6:.0f} MB)" if pkg.size else ""
        if progress:
            progress(f"downloading {pkg.package} {pkg.version}{size}")
        started = time.monotonic()
        deb = apt.download(pkg.package, pkg.version, root / "debs", progress)
        remove_tree(target)
        tmp = target.with_name(target.name + ".partial")
        remove_tree(tmp)
        try:
            _unpack_or_fail(deb, pkg, tmp, progress)
            meta = asdict(pkg)
            meta.update(
                cached=True,
                fetched_at=time.time(),
                seconds=round(time.monotonic() - started, 1),
                pvh=(tmp / "vmlinux").exists(),
            )
            (tmp / META).write_text(json.dumps(meta, indent=1) + "\n")
            tmp.rename(target)
        finally:
            remove_tree(tmp)
            if not keep_deb:
                deb.unlink()
    loaded = _load(target)
    assert loaded is not None
    return loaded


def _load(target: Path) -> Optional[Kernel]:
    meta = target / META
    if not meta.exists():
        return None
    d = json.loads(meta.read_text())
    return Kernel(d["package"], d["version"], d["upstream"], d["release"], target)


def get(
    spec: Union[str, Kernel, KernelPackage], progress: Optional[Progress] = None, cache: Optional[Path] = None
) -> Kernel:
    """A bootable kernel for a spec: cached if possible, else resolved and fetched.

    If the download fails because Debian dropped the package since our lists were
    made, the lists are refreshed and the spec resolved again, once.
    """
    if isinstance(spec, Kernel):
        return spec
    if isinstance(spec, KernelPackage):
        return fetch(spec, progress, cache)
    try:
        return fetch(resolve(spec, progress=progress, cache=cache), progress, cache)
    except MirrorUnavailable as first:
        try:
            return fetch(resolve(spec, refresh=True, progress=progress, cache=cache), progress, cache)
        except (MirrorUnavailable, KernelNotFound):
            pass
        offline = _cached_for(spec, cache)
        if offline is None:
            raise first from None
        if progress:
            progress(f"warning: Debian mirrors unreachable; using the cached {offline.package}")
        return offline


def _cached_for(spec: str, cache: Optional[Path]) -> Optional[Kernel]:
    """The cached kernel a spec resolves to among cached kernels only (the offline fallback)."""
    have = cached_kernels(cache)
    made = [versions.make_package(k.package, k.version, "cache", 0, cached=True) for k in have]
    try:
        pkg = versions.resolve(spec, [m for m in made if m is not None])
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
