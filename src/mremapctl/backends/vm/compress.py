"""Decompress xz, zstd and gzip data with the host tools (or zlib), chosen by magic bytes.

Python's lzma module is missing from some self-built interpreters (pyenv without
liblzma) and zstd is not in the standard library, so we shell out to `xz` and
`zstd`, which the prerequisite check guarantees.
"""

from __future__ import annotations

import subprocess
import zlib
from typing import List, Optional

MAGICS = (
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x1f\x8b", "gzip"),
    (b"\x02\x21\x4c\x18", "lz4"),
    (b"BZh", "bzip2"),
    (b"\x5d\x00\x00", "lzma"),
)
SUFFIXES = {".xz": "xz", ".zst": "zstd", ".gz": "gzip"}


def sniff(data: bytes) -> Optional[str]:
    """The compression format of `data` by its magic bytes, or None."""
    for magic, kind in MAGICS:
        if data.startswith(magic):
            return kind
    return None


def stream_command(kind: str) -> Optional[List[str]]:
    """A command that decompresses stdin to stdout, or None for a format we don't handle."""
    return {"xz": ["xz", "-dc", "-T0", "--single-stream"], "zstd": ["zstd", "-dcq"], "gzip": ["gzip", "-dc"]}.get(kind)


def decompress(data: bytes, kind: Optional[str] = None) -> bytes:
    """Decompress one xz, zstd or gzip stream (trailing bytes after it are ignored for xz and gzip)."""
    kind = kind or sniff(data)
    if kind == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)
    cmd = stream_command(kind or "")
    if cmd is None:
        raise ValueError(f"unsupported compression: {kind or 'unknown'}")
    proc = subprocess.run(cmd, input=data, capture_output=True, check=False)
    if proc.returncode != 0:
        raise ValueError(f"{cmd[0]} failed: {proc.stderr.decode(errors='replace').strip()[:200]}")
    return proc.stdout
