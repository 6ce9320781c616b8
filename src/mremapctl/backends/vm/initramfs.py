"""Build the guest's initramfs: static busybox, a generic /init, and the virtio/9p modules.

The /init is the same for every run: it loads the modules, mounts the host root
(read-only) and the run folder over 9p (or virtiofs, for kernels without published
modules), then sources the run folder's guest.sh, which the host writes per run. So
one initramfs per kernel is built once and cached. An arm64 guest shares nothing of the
host but the run folder: its initramfs also holds Debian's arm64 userland and the tool's
zipapp, so it is cached per kernel, userland and source tree.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

from mremapctl.backends.vm import cpio, modules
from mremapctl.backends.vm.cache import locked, write_atomic
from mremapctl.backends.vm.errors import PrerequisiteError
from mremapctl.backends.vm.kernels import Kernel
from mremapctl.backends.vm.prereq import find_busybox, install_hint
from mremapctl.backends.vm.userland import DONE, Userland

TARGET_MODULES = ("virtio_pci", "9pnet_virtio", "9p")
HOST_TAG = "hostroot"  # 9p mount tag of the host's / (read-only)
RUN_TAG = "vmrun"  # 9p mount tag of the per-run folder (read-write)
MSIZE = 262144  # bigger 9p messages than the 8 KiB default of 5.10: fewer round trips under TCG

INIT_TEMPLATE = r"""#!/bin/sh
# PID 1 of a mremapctl vm guest: modules, the host's shares, then the run's guest.sh.
bb=/bin/busybox
export PATH=/bin
fail() {
    echo "mremapctl-vm: $*"
    echo "$*" > /share/error 2>/dev/null
    $bb sync
    $bb poweroff -f
}
mountshare() {
    n=0
    until $bb mount -t @FSTYPE@ -o "@FSOPTS@$3" "$1" "$2"; do
        n=$((n + 1))
        [ "$n" -ge 50 ] && fail "cannot mount @FSTYPE@ share $1"
        $bb sleep 0.1
    done
}
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
$bb mount -t devtmpfs devtmpfs /dev
for m in @MODULES@; do
    $bb insmod "/lib/modules/$m.ko" || fail "insmod $m failed"
done
mountshare @RUN_TAG@ /share rw
@HOST_MOUNT@
$bb uname -r > /share/release
if [ -f /share/guest.sh ]; then
    . /share/guest.sh
else
    fail "no guest.sh in the run folder"
fi
$bb sync
$bb poweroff -f
"""


# per transport: filesystem type, options for both shares, options for the host's root.
# 9p: cache=loose is safe on a read-only share and speeds up Python's imports; virtiofsd caches itself.
TRANSPORTS = {
    "9p": ("9p", f"trans=virtio,version=9p2000.L,msize={MSIZE},", "ro,cache=loose"),
    "virtiofs": ("virtiofs", "", "ro"),
}


def init_script(module_order: Sequence[str], transport: str = "9p", host: bool = True) -> str:
    """The /init text for a kernel whose modules load in `module_order`, reaching the host over `transport`
    (the host's root too unless `host` is False)."""
    fstype, opts, host_opts = TRANSPORTS[transport]
    host_mount = "mountshare @HOST_TAG@ /host @HOST_OPTS@" if host else "# no host share: the initramfs is the root"
    return (
        INIT_TEMPLATE.replace("@HOST_MOUNT@", host_mount)
        .replace("@MODULES@", " ".join(module_order))
        .replace("@FSTYPE@", fstype)
        .replace("@FSOPTS@", opts)
        .replace("@HOST_OPTS@", host_opts)
        .replace("@RUN_TAG@", RUN_TAG)
        .replace("@HOST_TAG@", HOST_TAG)
    )


def module_order(kernel: Kernel) -> List[str]:
    """The modules this kernel must load, dependencies first, builtins skipped (none for virtiofs:
    everything it needs is built in)."""
    if kernel.transport == "virtiofs":
        return []
    found = modules.scan(kernel.modules_dir)
    deps = {name: modules.depends(path.read_bytes()) for name, path in found.items()}
    builtin_file = kernel.modules_dir / "modules.builtin"
    builtin = modules.builtin_names(builtin_file.read_text()) if builtin_file.exists() else set()
    if kernel.config.exists():  # a package without modules.builtin: the config says what is built in
        builtin |= modules.builtin_from_config(kernel.config.read_text(errors="replace"))
    return modules.load_order(TARGET_MODULES, deps, builtin, kernel.package)


def build_entries(
    busybox: bytes, order: Sequence[str], kos: Sequence[bytes], transport: str = "9p"
) -> List[cpio.Entry]:
    """The archive members: folders, /dev/console (so /init has a console), busybox, /init, modules."""
    entries = [cpio.directory(d) for d in ("bin", "dev", "proc", "sys", "host", "share", "keep", "lib", "lib/modules")]
    entries += [
        cpio.chardev("dev/console", 5, 1),
        cpio.chardev("dev/null", 1, 3, 0o666),
        cpio.regular("bin/busybox", busybox, 0o755),
        cpio.symlink("bin/sh", "busybox"),
        cpio.regular("init", init_script(order, transport).encode(), 0o755),
    ]
    entries += [cpio.regular(f"lib/modules/{name}.ko", data) for name, data in zip(order, kos)]
    return entries


def initramfs_for(kernel: Kernel, busybox: Optional[Path] = None) -> Path:
    """The cached initramfs of a kernel, (re)built when busybox, /init or the modules changed."""
    bb_path = busybox or find_busybox()
    if bb_path is None:
        raise PrerequisiteError(install_hint(["busybox"]))
    order, kos = _modules(kernel)
    bb = bb_path.read_bytes()
    init = init_script(order, kernel.transport).encode()
    digest = hashlib.sha256(bb + init + b"".join(kos)).hexdigest()[:16]
    return _store(kernel, digest, lambda: build_entries(bb, order, kos, kernel.transport))


def _modules(kernel: Kernel) -> Tuple[List[str], List[bytes]]:
    """The modules to load, in order, and their bytes."""
    order = module_order(kernel)
    found = modules.scan(kernel.modules_dir)
    return order, [found[name].read_bytes() for name in order]


def _store(kernel: Kernel, digest: str, entries: Callable[[], List[cpio.Entry]]) -> Path:
    """The kernel's initramfs-DIGEST.cpio, written from `entries` unless it exists; older ones deleted."""
    out = kernel.directory / f"initramfs-{digest}.cpio"
    if not out.exists():
        for old in kernel.directory.glob("initramfs-*.cpio"):
            old.unlink(missing_ok=True)
        write_atomic(out, cpio.write_newc(entries()))
    return out


def userland_initramfs(
    kernel: Kernel, cache: Path, progress: Optional[Callable[[str], None]] = None
) -> Tuple[Path, Userland]:
    """arm64: the initramfs with Debian's arm64 userland, the tool's zipapp at /opt, the modules and
    /init (no host share); built when the kernel, the userland or the source tree changed."""
    from mremapctl.backends.vm import pyz, userland

    with locked(cache, "arm64.lock"):
        ul = userland.prepare(cache, progress)
        app = pyz.guest_zipapp(ul, cache, progress)
        order, kos = _modules(kernel)
        init = init_script(order, kernel.transport, host=False).encode()
        digest = hashlib.sha256(init + b"".join(kos) + f"{ul.key}/{app.name}".encode()).hexdigest()[:16]

        def entries() -> List[cpio.Entry]:
            if progress:
                progress(f"packing the arm64 userland and {app.name} into an initramfs for {kernel.release}")
            out = cpio.tree(ul.root, skip={"versions.json", DONE})
            out += [cpio.chardev("dev/console", 5, 1), cpio.chardev("dev/null", 1, 3, 0o666)]
            out += [cpio.regular("init", init, 0o755), cpio.regular(pyz.GUEST_PYZ[1:], app.read_bytes())]
            return out + [cpio.regular(f"usr/lib/modules/{n}.ko", data) for n, data in zip(order, kos)]

        return _store(kernel, digest, entries), ul
