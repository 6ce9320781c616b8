"""Unpack only the few files we need from a kernel .deb (~8 MB of its ~400 MB).

A .deb is an `ar` archive whose data.tar.* holds the files. We read the ar index
ourselves, stream the decompressed tar through the tarfile module, and write the
selected regular files, never following names outside the destination.
"""

from __future__ import annotations

import contextlib
import subprocess
import tarfile
import threading
from pathlib import Path, PurePosixPath
from typing import IO, Callable, Dict, List, Optional, Tuple

from mremapctl.backends.vm.compress import stream_command

Select = Callable[[str], Optional[str]]  # member name -> relative destination, or None to skip


def ar_members(deb: Path) -> Dict[str, Tuple[int, int]]:
    """{member name: (offset, size)} of an ar archive."""
    members: Dict[str, Tuple[int, int]] = {}
    with open(deb, "rb") as f:
        if f.read(8) != b"!<arch>\n":
            raise ValueError(f"{deb} is not a Debian package (no ar header)")
        while True:
            header = f.read(60)
            if len(header) < 60:
                break
            name = header[:16].decode("ascii", "replace").strip().rstrip("/")
            size = int(header[48:58].decode("ascii").strip())
            members[name] = (f.tell(), size)
            f.seek(size + (size & 1), 1)
    return members


def _feed(src: Path, offset: int, size: int, sink: subprocess.Popen[bytes]) -> None:
    """Copy a slice of src into sink's stdin, then close it (runs in a thread)."""
    assert sink.stdin is not None
    try:
        with open(src, "rb") as f:
            f.seek(offset)
            left = size
            while left:
                chunk = f.read(min(left, 1 << 20))
                if not chunk:
                    break
                sink.stdin.write(chunk)
                left -= len(chunk)
    except BrokenPipeError:
        pass
    finally:
        with contextlib.suppress(BrokenPipeError):
            sink.stdin.close()


def _safe_relative(name: str) -> Optional[PurePosixPath]:
    rel = PurePosixPath(name)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        return None
    return rel


def extract(deb: Path, dest: Path, select: Select) -> List[Path]:
    """Write each regular file of the package's data that `select` maps to a path under dest."""
    members = ar_members(deb)
    data_name = next((n for n in members if n.startswith("data.tar")), None)
    if data_name is None:
        raise ValueError(f"{deb} has no data.tar member")
    offset, size = members[data_name]
    suffix = data_name[len("data.tar") :]
    kind = {"": None, ".xz": "xz", ".zst": "zstd", ".gz": "gzip"}.get(suffix, "unknown")
    cmd = ["cat"] if kind is None else stream_command(kind)
    if cmd is None:
        raise ValueError(f"{deb}: unsupported {data_name}")
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    feeder = threading.Thread(target=_feed, args=(deb, offset, size, proc), daemon=True)
    feeder.start()
    assert proc.stdout is not None and proc.stderr is not None
    written: List[Path] = []
    tar_error: Optional[Exception] = None
    try:
        try:
            written = _write_selected(proc.stdout, dest, select)
        except (tarfile.TarError, EOFError) as err:
            tar_error = err  # often a damaged stream: the decompressor's own words say more
        # tar stops at its end-of-archive blocks, but the stream goes on (record padding, the
        # xz index and check): read it to the end so the decompressor finishes and verifies
        # the data instead of dying of SIGPIPE on a pipe we closed early.
        while proc.stdout.read(1 << 20):
            pass
    except BaseException:
        proc.kill()
        raise
    finally:
        proc.stdout.close()
        feeder.join()
        rc = proc.wait()
        err_text = proc.stderr.read().decode(errors="replace").strip()
        proc.stderr.close()
    if rc != 0:
        why = err_text[:200] or (f"killed by signal {-rc}" if rc < 0 else f"exit status {rc}")
        raise ValueError(f"{cmd[0]} could not decompress {data_name}: {why}")
    if tar_error is not None:
        raise ValueError(f"{data_name} is not a valid tar archive: {tar_error}")
    return written


def _write_selected(stream: IO[bytes], dest: Path, select: Select) -> List[Path]:
    """Write the regular files of a tar stream that `select` names; return their paths."""
    written: List[Path] = []
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            name = member.name[2:] if member.name.startswith("./") else member.name
            target = select(name) if member.isfile() else None
            rel = _safe_relative(target) if target else None
            if rel is None:
                continue
            handle = tar.extractfile(member)
            if handle is None:
                continue
            out = dest / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(handle.read())
            written.append(out)
    return written
