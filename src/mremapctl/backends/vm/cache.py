"""Where the vm backend keeps downloads and extracted kernels, and how it locks them.

Everything lives in one folder so `clean()` is a single delete, and an advisory
lock keeps parallel runs (or parallel test workers) from fetching the same
kernel twice or reading a half-written file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from pathlib import Path
from typing import Iterator, Mapping, Optional

CACHE_ENV = "MREMAPCTL_VM_CACHE"


def cache_dir(environ: Optional[Mapping[str, str]] = None) -> Path:
    """The cache root: $MREMAPCTL_VM_CACHE, else $XDG_CACHE_HOME/mremapctl/vm, else ~/.cache/mremapctl/vm."""
    env = os.environ if environ is None else environ
    explicit = env.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = env.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path(env.get("HOME", str(Path.home()))) / ".cache"
    return base / "mremapctl" / "vm"


@contextlib.contextmanager
def locked(root: Path, name: str = "lock") -> Iterator[None]:
    """Hold an exclusive flock on root/<name> for the duration of the block."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(str(root / name), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary sibling and rename, so readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def remove_tree(path: Path) -> None:
    """Delete a folder if it exists (a missing cache is already clean)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)
