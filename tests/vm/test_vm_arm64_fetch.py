"""Listing, resolving and fetching arm64 kernels against fake lists and fake .debs (no network)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Tuple

import pytest
from tests.vm.test_vm_split import module
from tests.vm.test_vm_unpack import make_deb

from mremapctl.backends.vm import initramfs, kernels
from mremapctl.backends.vm.errors import UnsupportedKernel

R = "7.2.13+deb14-arm64-16k"
V = "7.2.13-1"
CONFIG = b"CONFIG_ARM64_16K_PAGES=y\nCONFIG_VIRTIO_PCI=y\nCONFIG_NET_9P=m\nCONFIG_NET_9P_VIRTIO=m\nCONFIG_9P_FS=m\n"


def arm64_image() -> bytes:
    """The head of an arm64 Image: code, offsets, then the ARMd magic at 0x38."""
    head = bytearray(64)
    head[0:2] = b"MZ"
    head[0x38:0x3C] = b"ARMd"
    return bytes(head) + bytes(4096)


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache whose arm64 lists hold the 7.2 split in both page sizes, and whose amd64 lists hold 6.1."""
    monkeypatch.setattr(kernels, "check_prerequisites", lambda tools=(): None)
    monkeypatch.setattr(kernels, "check_arch", lambda arch: None)
    for folder, arch, text in [
        ("apt", "amd64", "Package: linux-image-6.1.0-50-amd64\nVersion: 6.1.176-1\n"),
        (
            "apt-arm64",
            "arm64",
            "".join(
                f"Package: linux-{kind}-7.2.13+deb14-{fl}\nVersion: {V}\nSize: 9\n\n"
                for fl in ("arm64", "arm64-16k")
                for kind in ("image", "binary", "base", "modules")
            ),
        ),
    ]:
        lists = tmp_path / folder / "state" / "lists"
        lists.mkdir(parents=True)
        (lists / f"m_debian_dists_sid_main_binary-{arch}_Packages").write_text(text)
        (tmp_path / folder / "state" / "updated").touch()
    return tmp_path


@pytest.fixture
def pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> List[str]:
    """The 16K kernel's three parts as .debs; PrivateApt.download_all serves them (and logs its architecture)."""
    mods = f"./usr/lib/modules/{R}/kernel"
    parts = {
        f"linux-binary-{R}": {f"./usr/lib/modules/{R}/vmlinuz": arm64_image()},
        f"linux-base-{R}": {f"./usr/lib/modules/{R}/config": CONFIG, f"./usr/lib/modules/{R}/modules.builtin": b""},
        f"linux-modules-{R}": {
            f"{mods}/net/9p/9pnet.ko": module(""),
            f"{mods}/net/9p/9pnet_virtio.ko": module("9pnet"),
            f"{mods}/fs/9p/9p.ko": module("9pnet,netfs"),
            f"{mods}/fs/netfs/netfs.ko": module(""),
        },
    }
    (tmp_path / "pool").mkdir()
    for name, files in parts.items():
        make_deb(tmp_path / "pool" / f"{name}_{V}_arm64.deb", files)
    log: List[str] = []

    def download_all(self: kernels.PrivateApt, wanted: List[Tuple[str, str]], dest: Path, progress: object = None):
        log.append(self.arch)
        dest.mkdir(parents=True, exist_ok=True)
        out = [dest / f"{p}_{v}_arm64.deb" for p, v in wanted]
        for path in out:
            path.write_bytes((tmp_path / "pool" / path.name).read_bytes())
        return out

    monkeypatch.setattr(kernels.PrivateApt, "download_all", download_all)
    return log


def test_each_architecture_lists_its_own_kernels(root: Path) -> None:
    assert [p.package for p in kernels.available(cache=root)] == ["linux-image-6.1.0-50-amd64"]
    arm = kernels.available(cache=root, arch="arm64")
    assert sorted((p.release, p.page_size) for p in arm) == [("7.2.13+deb14-arm64", 4096), (R, 16384)]


def test_page_size_picks_the_flavour_and_must_agree_with_a_named_kernel(root: Path) -> None:
    assert kernels.resolve("7.2", cache=root, arch="arm64", page_size=16384).release == R
    assert kernels.resolve("7.2", cache=root, arch="aarch64").release == "7.2.13+deb14-arm64"
    assert kernels.resolve(R, cache=root, arch="arm64").page_size == 16384  # a name says its own page size
    with pytest.raises(UnsupportedKernel, match="has 16K pages, not the 4K of --page-size"):
        kernels.resolve(R, cache=root, arch="arm64", page_size=4096)


def test_fetch_keeps_the_image_as_is_and_records_the_guest(root: Path, pool: List[str]) -> None:
    k = kernels.get("7.2", cache=root, arch="arm64", page_size=16384)
    assert pool == ["arm64"]  # the arm64 lists, one apt-get call for the three parts
    assert (k.arch, k.page_size, k.release, k.transport) == ("arm64", 16384, R, "9p")
    assert k.boot_image == k.vmlinuz and k.vmlinux is None  # no PVH step: qemu boots the Image
    assert k.packages == f"linux-binary-{R}, linux-base-{R}, linux-modules-{R}"
    assert k.describe == "arm64, 16K pages" and k.target.qemu == "qemu-system-aarch64"
    meta = json.loads((k.directory / "kernel.json").read_text())
    assert (meta["arch"], meta["page_size"]) == ("arm64", 16384)
    assert initramfs.module_order(k) == ["9pnet", "9pnet_virtio", "netfs", "9p"]
    assert kernels.get(R, cache=root, arch="arm64") == k  # cached: found by its release, no download
    assert pool == ["arm64"]


def test_a_vmlinuz_that_is_not_an_arm64_image_is_refused(root: Path, pool: List[str], tmp_path: Path) -> None:
    make_deb(tmp_path / "pool" / f"linux-binary-{R}_{V}_arm64.deb", {f"./usr/lib/modules/{R}/vmlinuz": b"MZ" * 64})
    with pytest.raises(UnsupportedKernel, match="vmlinuz is not an arm64 Image"):
        kernels.get("7.2", cache=root, arch="arm64", page_size=16384)
    assert not any((root / "kernels").iterdir())
