"""The newc writer against its own reader and the format's fixed layout."""

from __future__ import annotations

import stat

import pytest

from mremapctl.backends.vm import cpio
from mremapctl.backends.vm.initramfs import build_entries, init_script


def test_round_trip_keeps_every_field() -> None:
    entries = [
        cpio.directory("bin"),
        cpio.regular("bin/hello", b"hi\n", 0o755),
        cpio.regular("odd", b"x" * 5),
        cpio.regular("empty", b""),
        cpio.symlink("bin/sh", "busybox"),
        cpio.chardev("dev/console", 5, 1),
    ]
    data = cpio.write_newc(entries)
    assert cpio.read_newc(data) == entries


def test_layout_is_aligned_and_ends_with_trailer() -> None:
    data = cpio.write_newc([cpio.regular("a", b"123")])
    assert len(data) % 4 == 0
    assert data.startswith(b"070701")
    header = data[: cpio.HEADER_LEN]
    fields = [int(header[6 + 8 * i : 14 + 8 * i], 16) for i in range(13)]
    assert fields[1] == stat.S_IFREG | 0o644  # mode
    assert fields[6] == 3  # filesize
    assert fields[11] == 2  # namesize includes the NUL
    # name "a\0" ends at 112, padded to 112; data "123" padded to 4 bytes
    assert data[cpio.HEADER_LEN : cpio.HEADER_LEN + 2] == b"a\0"
    assert data[112:116] == b"123\0"
    assert b"TRAILER!!!\0" in data[116:]


def test_output_is_reproducible() -> None:
    entries = [cpio.regular("x", b"data")]
    assert cpio.write_newc(entries) == cpio.write_newc(entries)


def test_absolute_names_are_refused() -> None:
    with pytest.raises(ValueError):
        cpio.write_newc([cpio.regular("/init", b"")])


def test_bad_magic_is_reported() -> None:
    with pytest.raises(ValueError, match="magic"):
        cpio.read_newc(b"garbage" * 20)


def test_initramfs_entries_hold_init_busybox_and_modules_in_order() -> None:
    order = ["virtio_ring", "virtio", "9p"]
    entries = {
        e.name: e for e in cpio.read_newc(cpio.write_newc(build_entries(b"BUSYBOX", order, [b"k1", b"k2", b"k3"])))
    }
    init = entries["init"]
    assert stat.S_ISREG(init.mode) and init.mode & 0o111
    assert init.data.decode() == init_script(order)
    assert "for m in virtio_ring virtio 9p; do" in init.data.decode()
    assert entries["bin/busybox"].data == b"BUSYBOX"
    assert stat.S_ISLNK(entries["bin/sh"].mode) and entries["bin/sh"].data == b"busybox"
    console = entries["dev/console"]
    assert stat.S_ISCHR(console.mode) and (console.rdevmajor, console.rdevminor) == (5, 1)
    assert [entries[f"lib/modules/{m}.ko"].data for m in order] == [b"k1", b"k2", b"k3"]
