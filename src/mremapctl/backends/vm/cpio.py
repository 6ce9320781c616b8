"""Write (and read back) the "newc" cpio format the kernel unpacks as an initramfs.

Written in Python so building an initramfs needs no cpio binary; the reader
exists so tests can check the writer against the format, field by field.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Collection, Iterable, List

from mremapctl.frozen import frozen

MAGIC = b"070701"
TRAILER = "TRAILER!!!"
_FIELDS = 13  # ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
HEADER_LEN = len(MAGIC) + 8 * _FIELDS  # 110


@frozen
class Entry:
    """One archive member: a path without leading '/', its st_mode, content, and device numbers."""

    name: str
    mode: int
    data: bytes = b""
    rdevmajor: int = 0
    rdevminor: int = 0


def directory(name: str, perm: int = 0o755) -> Entry:
    return Entry(name, stat.S_IFDIR | perm)


def regular(name: str, data: bytes, perm: int = 0o644) -> Entry:
    return Entry(name, stat.S_IFREG | perm, data)


def symlink(name: str, target: str) -> Entry:
    return Entry(name, stat.S_IFLNK | 0o777, target.encode())


def chardev(name: str, major: int, minor: int, perm: int = 0o600) -> Entry:
    return Entry(name, stat.S_IFCHR | perm, b"", major, minor)


def tree(root: Path, skip: Collection[str] = ()) -> List[Entry]:
    """Entries for every folder, file and symlink under root, parents first (hard links become copies)."""
    out: List[Entry] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        here = Path(dirpath)
        for name in sorted(dirnames) + sorted(filenames):
            path = here / name
            rel = path.relative_to(root).as_posix()
            if rel in skip:
                continue
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                out.append(symlink(rel, os.readlink(path)))
            elif stat.S_ISDIR(st.st_mode):
                out.append(directory(rel, stat.S_IMODE(st.st_mode)))
            elif stat.S_ISREG(st.st_mode):
                out.append(regular(rel, path.read_bytes(), stat.S_IMODE(st.st_mode)))
    return out


def _pad(n: int) -> bytes:
    return b"\0" * (-n % 4)


def _header(ino: int, entry: Entry, namesize: int) -> bytes:
    nlink = 2 if stat.S_ISDIR(entry.mode) else 1
    fields = (ino, entry.mode, 0, 0, nlink, 0, len(entry.data), 0, 0, entry.rdevmajor, entry.rdevminor, namesize, 0)
    return MAGIC + b"".join(b"%08X" % value for value in fields)


def write_newc(entries: Iterable[Entry]) -> bytes:
    """The archive bytes: each entry (uid/gid 0, mtime 0, so output is reproducible), then the trailer."""
    out = bytearray()
    all_entries = [*entries, Entry(TRAILER, 0)]
    for ino, entry in enumerate(all_entries, start=1):
        if entry.name != TRAILER and (entry.name.startswith("/") or not entry.name):
            raise ValueError(f"cpio names must be relative: {entry.name!r}")
        name = entry.name.encode() + b"\0"
        out += _header(0 if entry.name == TRAILER else ino, entry, len(name)) + name
        out += _pad(HEADER_LEN + len(name))
        out += entry.data + _pad(len(entry.data))
    return bytes(out)


def read_newc(data: bytes) -> List[Entry]:
    """Parse a newc archive (up to its trailer) back into entries; raises ValueError on bad input."""
    entries: List[Entry] = []
    pos = 0
    while True:
        if data[pos : pos + 6] != MAGIC:
            raise ValueError(f"bad cpio magic at offset {pos}")
        raw = data[pos + 6 : pos + HEADER_LEN]
        fields = [int(raw[i * 8 : i * 8 + 8], 16) for i in range(_FIELDS)]
        mode, filesize, rmaj, rmin, namesize = fields[1], fields[6], fields[9], fields[10], fields[11]
        pos += HEADER_LEN
        name = data[pos : pos + namesize - 1].decode()
        pos += namesize + len(_pad(HEADER_LEN + namesize))
        if name == TRAILER:
            return entries
        body = data[pos : pos + filesize]
        if len(body) != filesize:
            raise ValueError(f"truncated cpio member {name!r}")
        pos += filesize + len(_pad(filesize))
        entries.append(Entry(name, mode, body, rmaj, rmin))
