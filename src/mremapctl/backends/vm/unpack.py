"""Prepare a kernel folder from its downloaded .deb files: the few files a boot needs, checked.

One linux-image package (up to 6.18) or the parts of a split kernel (6.19+: linux-binary,
linux-base, linux-modules) all unpack through the same member selection, since each file
has one place in one of them: vmlinuz in boot/ or usr/lib/modules/R/, config beside it.
"""

from __future__ import annotations

import re
import tarfile
from pathlib import Path
from typing import Callable, Optional, Sequence

from mremapctl.backends.vm.bzimage import extract_vmlinux, has_pvh, has_pvh_note
from mremapctl.backends.vm.compress import SUFFIXES, decompress
from mremapctl.backends.vm.debextract import extract
from mremapctl.backends.vm.errors import FetchFailed, UnsupportedKernel
from mremapctl.backends.vm.packages import KernelPackage

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
# a kernel without published modules must have these built in (=y) to use virtiofs
NEEDED_BUILTIN_VIRTIOFS = (
    ("CONFIG_VIRTIO_PCI", "virtio-pci"),
    ("CONFIG_FUSE_FS", "FUSE"),
    ("CONFIG_VIRTIO_FS", "virtiofs"),
)


def select(release: str) -> Callable[[str], Optional[str]]:
    """Map the .deb's member names we want to where they go in the kernel folder."""
    mod_re = re.compile(r"^(?:usr/)?lib/modules/" + re.escape(release) + r"/(.+)$")
    at_root = {"vmlinuz": "vmlinuz", "config": "config", "modules.builtin": "modules/modules.builtin"}

    def pick(name: str) -> Optional[str]:
        if name == f"boot/vmlinuz-{release}":
            return "vmlinuz"
        if name == f"boot/config-{release}":
            return "config"
        m = mod_re.match(name)
        if not m:
            return None
        rest = m.group(1)
        if rest in at_root:
            return at_root[rest]
        if rest.startswith("kernel/") and rest[len("kernel/") :].startswith(MODULE_DIRS) and ".ko" in rest:
            return "modules/" + rest
        return None

    return pick


def check_config(config_text: str, package: str, transport: str = "9p", plain: str = "amd64") -> None:
    """Refuse a kernel that cannot mount the host over its transport, naming what it lacks."""
    have = dict(re.findall(r"^(CONFIG_\w+)=(\S+)$", config_text, re.M))
    if transport == "9p":
        lacking = [what for opt, what in NEEDED_CONFIG if have.get(opt) not in ("y", "m")]
    else:
        lacking = [what + " built in" for opt, what in NEEDED_BUILTIN_VIRTIOFS if have.get(opt) != "y"]
    if lacking:
        raise UnsupportedKernel(
            f"{package} lacks {', '.join(lacking)} (needed to share the host's files "
            f"over {'virtio-9p' if transport == '9p' else 'virtiofs'}); use the plain {plain} flavour"
        )


def _decompress_modules(modules: Path) -> None:
    """Store .ko.xz / .ko.zst / .ko.gz as plain .ko so the initramfs needs no decompressor."""
    for path in list(modules.rglob("*.ko.*")):
        kind = SUFFIXES.get(path.suffix)
        if kind is None:
            continue
        path.with_suffix("").write_bytes(decompress(path.read_bytes(), kind))
        path.unlink()


def _boot_image(target: Path, config_text: Optional[str], progress: Optional[Progress]) -> None:
    """Decompress the bzImage payload into an ELF vmlinux for PVH boot, when the kernel has PVH.

    Without a config (a split kernel whose linux-base Debian did not publish) the ELF's own
    PVH entry note decides.
    """
    if config_text is not None and not has_pvh(config_text):
        return
    if progress:
        progress("decompressing the bzImage payload into an ELF vmlinux for PVH boot")
    vmlinux = extract_vmlinux(target / "vmlinuz", target / "vmlinux")
    if vmlinux is not None and config_text is None and not has_pvh_note(vmlinux):
        vmlinux.unlink()


def _check_arm64_image(vmlinuz: Path, package: str) -> None:
    """Debian's arm64 vmlinuz is the plain Image (EFI stub, not compressed), which qemu boots as is."""
    with open(vmlinuz, "rb") as f:
        head = f.read(64)
    if head[0x38:0x3C] != b"ARMd":
        raise UnsupportedKernel(f"{package}: vmlinuz is not an arm64 Image (no ARMd magic at 0x38)")


def unpack(debs: Sequence[Path], pkg: KernelPackage, target: Path, progress: Optional[Progress]) -> str:
    """Extract, check and prepare a kernel folder from its .deb files; return the transport ("9p" or "virtiofs")."""
    for deb in debs:
        if progress:
            progress(f"extracting what the boot needs from {deb.name}")
        extract(deb, target, select(pkg.release))
    where = "boot/ or usr/lib/modules/" + pkg.release
    if not (target / "vmlinuz").exists():
        raise UnsupportedKernel(f"{pkg.package}: no vmlinuz in {where}")
    config = target / "config"
    if not config.exists() and not pkg.needs_virtiofs:
        raise UnsupportedKernel(f"{pkg.package}: no config in {where}")
    config_text = config.read_text(errors="replace") if config.exists() else None
    transport = "virtiofs" if pkg.needs_virtiofs else "9p"
    if config_text is not None:
        check_config(config_text, pkg.package, transport, pkg.arch)
    _decompress_modules(target / "modules")
    if pkg.arch == "arm64":
        _check_arm64_image(target / "vmlinuz", pkg.package)
    else:
        _boot_image(target, config_text, progress)
    return transport


def unpack_or_fail(debs: Sequence[Path], pkg: KernelPackage, target: Path, progress: Optional[Progress]) -> str:
    """unpack, with any failure of the packages' data as one line naming the package and the step."""
    try:
        return unpack(debs, pkg, target, progress)
    except (ValueError, OSError, EOFError, tarfile.TarError) as err:
        names = ", ".join(d.name for d in debs)
        raise FetchFailed(f"{pkg.package} {pkg.version}: unpacking {names} failed: {err}") from None
