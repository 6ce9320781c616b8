"""Module dependency ordering and .modinfo parsing, on synthetic modules."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from mremapctl.backends.vm import modules
from mremapctl.backends.vm.errors import UnsupportedKernel


def fake_module(modinfo: bytes) -> bytes:
    """A minimal little-endian ELF64 with a .modinfo and a .shstrtab section."""
    shstrtab = b"\0.modinfo\0.shstrtab\0"
    body_off = 64
    modinfo_off = body_off
    shstr_off = modinfo_off + len(modinfo)
    shoff = shstr_off + len(shstrtab)
    shoff += -shoff % 8
    ehdr = bytearray(64)
    ehdr[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<HHI", ehdr, 16, 1, 62, 1)  # ET_REL, EM_X86_64, EV_CURRENT
    struct.pack_into("<Q", ehdr, 0x28, shoff)
    struct.pack_into("<HHHHHH", ehdr, 0x34, 64, 0, 0, 64, 3, 2)
    image = bytearray(ehdr) + modinfo + shstrtab
    image += b"\0" * (shoff - len(image))

    def shdr(name: int, offset: int, size: int, sh_type: int) -> bytes:
        return struct.pack("<IIQQQQIIQQ", name, sh_type, 0, 0, offset, size, 0, 0, 1, 0)

    image += shdr(0, 0, 0, 0) + shdr(1, modinfo_off, len(modinfo), 1) + shdr(10, shstr_off, len(shstrtab), 3)
    return bytes(image)


def test_read_modinfo_and_depends() -> None:
    ko = fake_module(b"license=GPL\0depends=virtio_ring,virtio\0name=virtio_pci\0vermagic=6.1.0 SMP\0")
    info = modules.read_modinfo(ko)
    assert info["name"] == ["virtio_pci"]
    assert info["vermagic"] == ["6.1.0 SMP"]
    assert modules.depends(ko) == ["virtio_ring", "virtio"]


def test_empty_depends() -> None:
    assert modules.depends(fake_module(b"depends=\0name=virtio_ring\0")) == []


def test_not_elf_is_refused() -> None:
    with pytest.raises(ValueError):
        modules.read_modinfo(b"not an elf" * 10)


def test_module_name_normalises() -> None:
    assert modules.module_name("kernel/fs/9p/9p.ko") == "9p"
    assert modules.module_name("virtio-pci.ko.zst") == "virtio_pci"


def test_order_matches_the_study_for_6_1() -> None:
    deps = {
        "virtio_ring": [],
        "virtio": [],
        "virtio_pci_modern_dev": [],
        "virtio_pci_legacy_dev": [],
        "virtio_pci": ["virtio_ring", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio"],
        "9pnet": [],
        "9pnet_virtio": ["virtio_ring", "9pnet", "virtio"],
        "netfs": [],
        "fscache": ["netfs"],
        "9p": ["9pnet", "netfs", "fscache"],
    }
    order = modules.load_order(["virtio_pci", "9pnet_virtio", "9p"], deps, [])
    assert order == [
        "virtio_ring",
        "virtio_pci_modern_dev",
        "virtio_pci_legacy_dev",
        "virtio",
        "virtio_pci",
        "9pnet",
        "9pnet_virtio",
        "netfs",
        "fscache",
        "9p",
    ]
    for i, name in enumerate(order):
        assert all(order.index(dep) < i for dep in deps[name])


def test_builtins_are_skipped() -> None:
    deps = {"9pnet": [], "9pnet_virtio": ["virtio_ring", "9pnet"], "netfs": [], "9p": ["9pnet", "netfs"]}
    builtin = modules.builtin_names("kernel/drivers/virtio/virtio_ring.ko\nkernel/drivers/virtio/virtio_pci.ko\n")
    order = modules.load_order(["virtio_pci", "9pnet_virtio", "9p"], deps, builtin)
    assert order == ["9pnet", "9pnet_virtio", "netfs", "9p"]


def test_missing_module_names_who_needs_it() -> None:
    with pytest.raises(UnsupportedKernel, match=r"9pnet .*needed by 9p"):
        modules.load_order(["9p"], {"9p": ["9pnet"]}, [], "k")


def test_cycle_is_reported() -> None:
    with pytest.raises(UnsupportedKernel, match="cycle"):
        modules.load_order(["a"], {"a": ["b"], "b": ["a"]}, [])


def test_scan_finds_uncompressed_modules(tmp_path: Path) -> None:
    (tmp_path / "kernel/net/9p").mkdir(parents=True)
    (tmp_path / "kernel/net/9p/9pnet.ko").write_bytes(b"")
    (tmp_path / "kernel/net/9p/9pnet_rdma.ko.xz").write_bytes(b"")
    assert list(modules.scan(tmp_path)) == ["9pnet"]
