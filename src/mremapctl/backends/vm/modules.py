"""Find the kernel modules to load, in dependency order, without kmod or depmod.

Each .ko carries its dependencies in the ELF `.modinfo` section (`depends=a,b`);
modules built into the kernel (listed in modules.builtin) need no loading.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Sequence, Set, Tuple

from mremapctl.backends.vm.errors import UnsupportedKernel


def module_name(filename: str) -> str:
    """The module name the kernel uses: basename without .ko(.xz/.zst/.gz), '-' as '_'.

    >>> module_name("kernel/net/9p/9pnet-virtio.ko.xz")
    '9pnet_virtio'
    """
    base = filename.rsplit("/", 1)[-1]
    base = base.split(".ko", 1)[0]
    return base.replace("-", "_")


def read_modinfo(ko: bytes) -> Dict[str, List[str]]:
    """{key: [values]} from the .modinfo section of an (uncompressed) ELF64 module."""
    if ko[:4] != b"\x7fELF" or ko[4] != 2:
        raise ValueError("not an ELF64 kernel module")
    end = "<" if ko[5] == 1 else ">"
    (shoff,) = struct.unpack_from(end + "Q", ko, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", ko, 0x3A)

    def section(i: int) -> Tuple[int, int, int]:
        base = shoff + i * shentsize
        (name,) = struct.unpack_from(end + "I", ko, base)
        offset, size = struct.unpack_from(end + "QQ", ko, base + 0x18)
        return name, offset, size

    _, str_off, _ = section(shstrndx)
    info: Dict[str, List[str]] = {}
    for i in range(shnum):
        name_off, offset, size = section(i)
        name = ko[str_off + name_off : ko.index(b"\0", str_off + name_off)]
        if name != b".modinfo":
            continue
        for item in ko[offset : offset + size].split(b"\0"):
            key, sep, value = item.decode("utf-8", "replace").partition("=")
            if sep:
                info.setdefault(key, []).append(value)
    return info


def depends(ko: bytes) -> List[str]:
    """The module names this module needs loaded first."""
    names: List[str] = []
    for value in read_modinfo(ko).get("depends", []):
        names += [module_name(v) for v in value.split(",") if v]
    return names


def builtin_names(modules_builtin: str) -> Set[str]:
    """Module names from a modules.builtin file (one path per line)."""
    return {module_name(line.strip()) for line in modules_builtin.splitlines() if line.strip()}


# the modules the guest loads and the options that build each into the kernel
CONFIG_OF = {
    "virtio": "CONFIG_VIRTIO",
    "virtio_ring": "CONFIG_VIRTIO",
    "virtio_pci": "CONFIG_VIRTIO_PCI",
    "virtio_pci_modern_dev": "CONFIG_VIRTIO_PCI_LIB",
    "virtio_pci_legacy_dev": "CONFIG_VIRTIO_PCI_LIB_LEGACY",
    "9pnet": "CONFIG_NET_9P",
    "9pnet_virtio": "CONFIG_NET_9P_VIRTIO",
    "9p": "CONFIG_9P_FS",
    "netfs": "CONFIG_NETFS_SUPPORT",
    "fscache": "CONFIG_FSCACHE",
}


def builtin_from_config(config_text: str) -> Set[str]:
    r"""The modules of CONFIG_OF that a kernel config builds in (CONFIG_X=y).

    >>> sorted(builtin_from_config("CONFIG_VIRTIO=y\nCONFIG_9P_FS=m\n"))
    ['virtio', 'virtio_ring']
    """
    built = {line.split("=", 1)[0] for line in config_text.splitlines() if line.endswith("=y")}
    return {name for name, option in CONFIG_OF.items() if option in built}


def scan(modules_dir: Path) -> Dict[str, Path]:
    """{module name: path} for every uncompressed .ko under modules_dir."""
    return {module_name(p.name): p for p in sorted(modules_dir.rglob("*.ko"))}


def load_order(
    targets: Sequence[str], deps: Mapping[str, Sequence[str]], builtin: Iterable[str], kernel: str = "this kernel"
) -> List[str]:
    """Targets and their dependencies, each after everything it depends on; builtins omitted.

    >>> load_order(["9p"], {"9p": ["9pnet", "netfs"], "9pnet": [], "netfs": []}, [])
    ['9pnet', 'netfs', '9p']
    """
    built = set(builtin)
    order: List[str] = []
    state: Dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(name: str, needed_by: str) -> None:
        if name in built or state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise UnsupportedKernel(f"{kernel}: module dependency cycle through {name}")
        if name not in deps:
            raise UnsupportedKernel(f"{kernel}: module {name} (needed by {needed_by}) is neither built in nor shipped")
        state[name] = 1
        for dep in deps[name]:
            visit(dep, name)
        state[name] = 2
        order.append(name)

    for target in targets:
        visit(target, "the vm backend")
    return order
