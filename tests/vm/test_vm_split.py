"""Fetching a split kernel (linux-binary + linux-base + linux-modules) from fake .debs, no network."""

from __future__ import annotations

import json
import lzma
import re
import struct
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from tests.vm.test_vm_unpack import fake_bzimage, make_deb

from mremapctl.backends.vm import bzimage, catalog, initramfs, kernels
from mremapctl.backends.vm.catalog import Record
from mremapctl.backends.vm.errors import MirrorUnavailable
from mremapctl.backends.vm.packages import KernelPackage

R = "7.2.12+deb13-amd64"
V = "7.2.12-1~bpo13+1"
CONFIG = b"CONFIG_PVH=y\nCONFIG_VIRTIO_PCI=y\nCONFIG_NET_9P=m\nCONFIG_NET_9P_VIRTIO=m\nCONFIG_9P_FS=m\n"


def module(depends: str) -> bytes:
    """A minimal ELF64 module whose .modinfo says `depends=`."""
    modinfo = f"license=GPL\0depends={depends}\0".encode()
    names = b"\0.modinfo\0.shstrtab\0"
    data_off = 64
    names_off = data_off + len(modinfo)
    shoff = (names_off + len(names) + 7) & ~7
    elf = bytearray(shoff + 3 * 64)
    elf[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<Q", elf, 0x28, shoff)
    struct.pack_into("<HHH", elf, 0x3A, 64, 3, 2)
    elf[data_off:names_off] = modinfo
    elf[names_off : names_off + len(names)] = names
    for i, (name, off, size) in enumerate([(1, data_off, len(modinfo)), (10, names_off, len(names))], start=1):
        base = shoff + i * 64
        struct.pack_into("<I", elf, base, name)
        struct.pack_into("<QQ", elf, base + 0x18, off, size)
    return bytes(elf)


def pvh_elf() -> bytes:
    """An ELF64 whose one PT_NOTE segment holds the Xen PVH entry note."""
    note = struct.pack("<III", 4, 4, bzimage.XEN_ELFNOTE_PHYS32_ENTRY) + b"Xen\0" + b"\0\0\0\1"
    elf = bytearray(64 + 56) + note
    elf[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<Q", elf, 0x20, 64)
    struct.pack_into("<HH", elf, 0x36, 56, 1)
    struct.pack_into("<IIQ", elf, 64, bzimage.PT_NOTE, 0, 120)
    struct.pack_into("<Q", elf, 64 + 0x20, len(note))
    return bytes(elf)


def split_debs(folder: Path, with_modules: bool = True) -> Dict[str, Path]:
    """The parts of one split kernel as Debian lays them out (vmlinuz under usr/lib/modules/R/)."""
    elf = pvh_elf()
    vmlinuz = fake_bzimage(lzma.compress(elf, format=lzma.FORMAT_XZ) + struct.pack("<I", len(elf)))
    mods = f"./usr/lib/modules/{R}/kernel"
    parts = {
        f"linux-binary-{R}": {f"./usr/lib/modules/{R}/vmlinuz": vmlinuz},
        f"linux-base-{R}": {f"./usr/lib/modules/{R}/config": CONFIG, f"./usr/lib/modules/{R}/modules.builtin": b""},
        f"linux-modules-{R}": {
            f"{mods}/net/9p/9pnet.ko.xz": lzma.compress(module(""), format=lzma.FORMAT_XZ),
            f"{mods}/net/9p/9pnet_virtio.ko.xz": lzma.compress(module("9pnet"), format=lzma.FORMAT_XZ),
            f"{mods}/fs/9p/9p.ko.xz": lzma.compress(module("9pnet,netfs"), format=lzma.FORMAT_XZ),
            f"{mods}/fs/netfs/netfs.ko.xz": lzma.compress(module(""), format=lzma.FORMAT_XZ),
            f"{mods}/drivers/gpu/drm.ko.xz": b"not wanted",
        },
    }
    if not with_modules:
        parts = {f"linux-binary-{R}": parts[f"linux-binary-{R}"]}
    out = {}
    for name, files in parts.items():
        out[name] = folder / f"{name}_{V}_amd64.deb"
        make_deb(out[name], files)
    return out


def split_kernel(with_modules: bool = True) -> KernelPackage:
    records = [Record(f"linux-image-{R}", V, "trixie-backports", 1900), Record(f"linux-binary-{R}", V, "t", 9)]
    if with_modules:
        records += [Record(f"linux-base-{R}", V, "t", 9), Record(f"linux-modules-{R}", V, "t", 9)]
    (pkg,) = catalog.assemble(records)
    return pkg


@pytest.fixture
def fake_apt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> List[str]:
    """Serve the parts' .debs from tmp_path/pool; return the log of downloaded names."""
    monkeypatch.setattr(kernels, "check_prerequisites", lambda tools=(): None)
    monkeypatch.setattr(kernels.PrivateApt, "ensure_lists", lambda self, refresh=None, progress=None: None)
    (tmp_path / "pool").mkdir()
    downloaded: List[str] = []

    def download_all(self: object, wanted: List[Tuple[str, str]], dest: Path, progress: object = None) -> List[Path]:
        sources = [tmp_path / "pool" / f"{package}_{version}_amd64.deb" for package, version in wanted]
        for (package, version), src in zip(wanted, sources):
            if not src.exists():  # like apt-get: nothing is downloaded when one is missing
                raise MirrorUnavailable(f"apt-get download {package}={version} failed: E: not found")
        dest.mkdir(parents=True, exist_ok=True)
        downloaded.extend(package for package, _ in wanted)
        for src in sources:
            (dest / src.name).write_bytes(src.read_bytes())
        return [dest / src.name for src in sources]

    monkeypatch.setattr(kernels.PrivateApt, "download_all", download_all)
    return downloaded


def test_split_kernel_unpacks_from_its_three_packages(tmp_path: Path, fake_apt: List[str]) -> None:
    split_debs(tmp_path / "pool")
    k = kernels.fetch(split_kernel(), cache=tmp_path / "cache")
    assert fake_apt == [f"linux-binary-{R}", f"linux-base-{R}", f"linux-modules-{R}"]
    assert (k.release, k.transport, k.package) == (R, "9p", f"linux-image-{R}")
    assert k.vmlinux is not None and k.config.read_bytes() == CONFIG
    assert initramfs.module_order(k) == ["9pnet", "9pnet_virtio", "netfs", "9p"]
    assert not any((tmp_path / "cache" / "debs").iterdir())
    meta = json.loads((k.directory / "kernel.json").read_text())
    assert meta["parts"] == list(split_kernel().parts) and meta["transport"] == "9p"
    again = kernels.resolve(R, cache=tmp_path / "cache")  # cached: resolves from kernel.json, parts and all
    assert again.cached and again.parts == split_kernel().parts


def test_binary_only_kernel_boots_over_virtiofs_without_modules(tmp_path: Path, fake_apt: List[str]) -> None:
    split_debs(tmp_path / "pool", with_modules=False)
    k = kernels.fetch(split_kernel(with_modules=False), cache=tmp_path / "cache")
    assert k.transport == "virtiofs" and initramfs.module_order(k) == []
    assert k.vmlinux is not None and bzimage.has_pvh_note(k.vmlinux)  # no config: the ELF note decided
    init = initramfs.init_script([], "virtiofs")
    assert "mount -t virtiofs" in init and "-t 9p" not in init and "for m in ; do" in init


def test_a_missing_part_leaves_nothing_behind(tmp_path: Path, fake_apt: List[str]) -> None:
    debs = split_debs(tmp_path / "pool")
    debs[f"linux-modules-{R}"].unlink()  # gone from the mirror between listing and fetching
    with pytest.raises(MirrorUnavailable, match=f"linux-modules-{re.escape(R)}"):
        kernels.fetch(split_kernel(), cache=tmp_path / "cache")
    assert fake_apt == []  # one apt-get call for the three parts
    assert not (tmp_path / "cache" / "debs").exists() or not any((tmp_path / "cache" / "debs").iterdir())
    assert not (tmp_path / "cache" / "kernels").exists() or not any((tmp_path / "cache" / "kernels").iterdir())


def test_a_damaged_part_is_one_line_naming_package_and_step(tmp_path: Path, fake_apt: List[str]) -> None:
    debs = split_debs(tmp_path / "pool")
    debs[f"linux-base-{R}"].write_bytes(b"!<arch>\n")  # an ar archive with no data.tar
    with pytest.raises(
        Exception, match=rf"^linux-image-{re.escape(R)} {re.escape(V)}: unpacking .*failed: .*no data\.tar"
    ):
        kernels.fetch(split_kernel(), cache=tmp_path / "cache")
    assert list((tmp_path / "cache" / "debs").iterdir()) == []
    assert [p.name for p in (tmp_path / "cache" / "kernels").iterdir()] == []


def test_pvh_note_is_found_only_in_an_elf_that_has_it(tmp_path: Path) -> None:
    (tmp_path / "with").write_bytes(pvh_elf())
    (tmp_path / "without").write_bytes(pvh_elf().replace(b"Xen\0", b"Gnu\0"))
    assert bzimage.has_pvh_note(tmp_path / "with") and not bzimage.has_pvh_note(tmp_path / "without")
