"""Reading a .deb (ar + data.tar) and the bzImage payload, on packages built here."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import struct
import subprocess
import tarfile
from pathlib import Path
from typing import Dict, Optional

import pytest

from mremapctl.backends.vm import bzimage, debextract, unpack


def make_deb(path: Path, files: Dict[str, bytes], *, xz: bool = False, trailing_zeros: int = 0) -> None:
    """An ar archive with debian-binary, control.tar.gz and a data.tar holding `files`.

    gzip by default; `xz` compresses it with the xz tool as Debian does, and `trailing_zeros`
    pads the tar after its end-of-archive blocks (dpkg-deb's records do the same, smaller).
    """
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    raw = buf.getvalue() + bytes(trailing_zeros)
    if xz:
        data_name, packed = "data.tar.xz", subprocess.run(["xz", "-c"], input=raw, capture_output=True).stdout
    else:
        data_name, packed = "data.tar.gz", gzip.compress(raw)
    members = [("debian-binary", b"2.0\n"), ("control.tar.gz", gzip.compress(b"")), (data_name, packed)]
    out = bytearray(b"!<arch>\n")
    for name, data in members:
        out += f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode()
        out += data + (b"\n" if len(data) % 2 else b"")
    path.write_bytes(bytes(out))


def test_extract_selects_and_renames(tmp_path: Path) -> None:
    rel = "6.12.1+deb13-amd64"
    deb = tmp_path / "k.deb"
    make_deb(
        deb,
        {
            f"./boot/vmlinuz-{rel}": b"BZ",
            f"./boot/config-{rel}": b"CONFIG_PVH=y\n",
            f"./boot/System.map-{rel}": b"no",
            f"./usr/lib/modules/{rel}/kernel/net/9p/9pnet.ko.xz": b"X",
            f"./usr/lib/modules/{rel}/kernel/drivers/gpu/drm.ko.xz": b"no",
            f"./usr/lib/modules/{rel}/modules.builtin": b"kernel/fs/netfs/netfs.ko\n",
            "./lib/modules/other/kernel/net/9p/9pnet.ko": b"wrong release",
        },
    )
    assert set(debextract.ar_members(deb)) == {"debian-binary", "control.tar.gz", "data.tar.gz"}
    debextract.extract(deb, tmp_path / "out", unpack.select(rel))
    got = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert got == ["config", "modules/kernel/net/9p/9pnet.ko.xz", "modules/modules.builtin", "vmlinuz"]


needs_xz = pytest.mark.skipif(shutil.which("xz") is None and not os.environ.get("CI"), reason="xz not installed")


@needs_xz
def test_extract_reads_the_xz_stream_to_its_end(tmp_path: Path) -> None:
    """Debian's 6.1 package: the tar ends long before the xz stream does. Closing the pipe
    there killed xz with SIGPIPE and every fresh fetch of 6.1 failed (issue 10)."""
    deb = tmp_path / "k.deb"
    make_deb(deb, {"./boot/vmlinuz-r": b"BZ" * 1000, "./boot/config-r": b"C"}, xz=True, trailing_zeros=4 << 20)
    got = debextract.extract(deb, tmp_path / "out", unpack.select("r"))
    assert sorted(p.name for p in got) == ["config", "vmlinuz"]
    assert (tmp_path / "out" / "vmlinuz").read_bytes() == b"BZ" * 1000


@needs_xz
def test_extract_names_a_corrupt_stream(tmp_path: Path) -> None:
    deb = tmp_path / "k.deb"
    make_deb(deb, {"./boot/vmlinuz-r": bytes(range(256)) * 4000}, xz=True)
    data = bytearray(deb.read_bytes())
    data[-200:-100] = bytes(100)  # damage the end of the compressed data: xz's check fails
    deb.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"^xz could not decompress data\.tar\.xz: .*(corrupt|Unexpected end)"):
        debextract.extract(deb, tmp_path / "out", unpack.select("r"))


def test_select_handles_lib_modules_of_older_releases() -> None:
    select = unpack.select("5.10.0-46-amd64")
    assert select("lib/modules/5.10.0-46-amd64/kernel/fs/fscache/fscache.ko") == "modules/kernel/fs/fscache/fscache.ko"
    assert select("lib/modules/5.10.0-46-amd64/kernel/fs/ext4/ext4.ko") is None


def test_extract_refuses_escaping_names(tmp_path: Path) -> None:
    deb = tmp_path / "evil.deb"
    make_deb(deb, {"./boot/x": b"evil"})

    def select(name: str) -> Optional[str]:
        return "../escaped"

    debextract.extract(deb, tmp_path / "out", select)
    assert not (tmp_path / "escaped").exists()


def test_not_a_deb(tmp_path: Path) -> None:
    (tmp_path / "x.deb").write_bytes(b"hello")
    with pytest.raises(ValueError, match="ar header"):
        debextract.ar_members(tmp_path / "x.deb")


def fake_bzimage(payload: bytes) -> bytes:
    setup_sects = 1
    image = bytearray((setup_sects + 1) * 512)
    image[0x1F1] = setup_sects
    image[0x202:0x206] = b"HdrS"
    struct.pack_into("<II", image, 0x248, 16, len(payload))
    return bytes(image) + b"\0" * 16 + payload + b"tail"


def test_vmlinux_from_gzip_payload(tmp_path: Path) -> None:
    elf = b"\x7fELF" + bytes(range(200))
    bz = tmp_path / "vmlinuz"
    bz.write_bytes(fake_bzimage(gzip.compress(elf) + struct.pack("<I", len(elf))))
    assert bzimage.extract_vmlinux(bz, tmp_path / "vmlinux") == tmp_path / "vmlinux"
    assert (tmp_path / "vmlinux").read_bytes() == elf


@pytest.mark.skipif(shutil.which("zstd") is None, reason="zstd not installed")
def test_vmlinux_from_zstd_payload(tmp_path: Path) -> None:
    import subprocess

    elf = b"\x7fELF" + bytes(1000)
    packed = subprocess.run(["zstd", "-q", "-c"], input=elf, capture_output=True, check=True).stdout
    bz = tmp_path / "vmlinuz"
    bz.write_bytes(fake_bzimage(packed + struct.pack("<I", len(elf))))
    assert bzimage.extract_vmlinux(bz, tmp_path / "vmlinux") is not None
    assert (tmp_path / "vmlinux").read_bytes() == elf


def test_lz4_payload_falls_back_to_bzimage(tmp_path: Path) -> None:
    bz = tmp_path / "vmlinuz"
    bz.write_bytes(fake_bzimage(b"\x02\x21\x4c\x18" + bytes(40)))
    assert bzimage.extract_vmlinux(bz, tmp_path / "vmlinux") is None


def test_not_a_bzimage() -> None:
    with pytest.raises(ValueError, match="HdrS"):
        bzimage.payload(bytes(4096))


def test_pvh_config() -> None:
    assert bzimage.has_pvh("CONFIG_X=y\nCONFIG_PVH=y\n")
    assert not bzimage.has_pvh("# CONFIG_PVH is not set\n")
