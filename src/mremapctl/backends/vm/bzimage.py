"""Turn a bzImage into the ELF vmlinux that qemu can boot through PVH.

Under TCG the kernel's own in-guest decompression and the SeaBIOS path cost about
2.5 s per boot; decompressing the payload once on the host and booting the ELF
(Debian kernels have CONFIG_PVH=y) skips both. Formats we cannot decompress (lz4 in
the cloud kernels) return None and the caller boots the bzImage instead.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Optional

from mremapctl.backends.vm.compress import decompress, sniff

PT_NOTE = 4
XEN_ELFNOTE_PHYS32_ENTRY = 18


def payload(bz: bytes) -> bytes:
    """The compressed kernel inside a bzImage, per the x86 boot protocol (2.08+)."""
    if len(bz) < 0x250 or bz[0x202:0x206] != b"HdrS":
        raise ValueError("not a bzImage (no HdrS boot header)")
    setup_sects = bz[0x1F1] or 4
    offset, length = struct.unpack_from("<II", bz, 0x248)
    start = (setup_sects + 1) * 512 + offset
    if length == 0 or start + length > len(bz):
        raise ValueError("bzImage payload out of range")
    return bz[start : start + length]


def has_pvh(config_text: str) -> bool:
    """True when the kernel config enables the PVH entry point."""
    return "\nCONFIG_PVH=y" in "\n" + config_text


def has_pvh_note(vmlinux: Path) -> bool:
    """True when an ELF64 vmlinux carries the PVH entry point note (Xen, XEN_ELFNOTE_PHYS32_ENTRY)."""
    elf = vmlinux.read_bytes()
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        return False
    (phoff,) = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    for i in range(phnum):
        p_type, _flags, offset = struct.unpack_from("<IIQ", elf, phoff + i * phentsize)
        (filesz,) = struct.unpack_from("<Q", elf, phoff + i * phentsize + 0x20)
        if p_type == PT_NOTE and _notes_have(elf[offset : offset + filesz], b"Xen", XEN_ELFNOTE_PHYS32_ENTRY):
            return True
    return False


def _notes_have(notes: bytes, name: bytes, kind: int) -> bool:
    pos = 0
    while pos + 12 <= len(notes):
        namesz, descsz, ntype = struct.unpack_from("<III", notes, pos)
        pos += 12
        if notes[pos : pos + namesz].rstrip(b"\0") == name and ntype == kind:
            return True
        pos += (namesz + 3) & ~3
        pos += (descsz + 3) & ~3
    return False


def extract_vmlinux(bz_path: Path, out_path: Path) -> Optional[Path]:
    """Write the ELF vmlinux of a bzImage to out_path; None if its compression is unsupported."""
    data = payload(bz_path.read_bytes())
    kind = sniff(data)
    if kind not in ("xz", "zstd", "gzip"):
        return None
    # The kernel build appends the uncompressed size (4 bytes LE) after the stream.
    (expected,) = struct.unpack("<I", data[-4:])
    try:
        elf = decompress(data[:-4] if kind == "zstd" else data, kind)
    except ValueError:
        return None
    if not elf.startswith(b"\x7fELF") or (expected and len(elf) != expected):
        return None
    tmp = out_path.with_name(out_path.name + ".tmp")
    tmp.write_bytes(elf)
    tmp.replace(out_path)
    return out_path
