"""The arm64 guest's userland: Debian's own arm64 Python, libc and busybox, unpacked and trimmed.

An arm64 guest cannot run the host's x86 binaries, so its initramfs carries a userland of
its own: trixie's python3.13 (ctypes, no cffi), the libraries it links and a static
busybox for /init, 8 MB of packages. The stdlib parts mremapctl never imports and the
libraries no kept module needs are removed (57 MB unpacked, 22 MB trimmed). One folder per
set of package versions, in the cache; the .debs are not kept.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Callable, Dict, Optional

from mremapctl.backends.vm.apt import PrivateApt
from mremapctl.backends.vm.cache import locked, remove_tree
from mremapctl.backends.vm.errors import FetchFailed
from mremapctl.backends.vm.packages import compare_versions
from mremapctl.frozen import frozen

Progress = Callable[[str], None]
SUITES = ("trixie", "trixie-security")  # the stable release's Python, with its security updates
PYTHON_VERSION = "3.13"
PYTHON = f"python{PYTHON_VERSION}"
PACKAGES = (
    f"{PYTHON}-minimal",  # the interpreter
    f"lib{PYTHON}-minimal",  # the core stdlib (its _ssl and _hashlib need libssl: left out, never imported)
    f"lib{PYTHON}-stdlib",  # ctypes, mmap, json, lib-dynload ...
    "libc6",
    "zlib1g",  # the zipapp is deflated
    "libexpat1",  # linked by the interpreter
    "libffi8",  # _ctypes
    "busybox-static",  # /init, sh, mount, insmod, poweroff
)
KEEP_LIBS = re.compile(r"^(ld-linux-aarch64\.so\.1|libc\.so\.6|libm\.so\.6|lib(z|expat|ffi)\.so\..*)$")
DROP_STDLIB = (
    "test",
    "idlelib",
    "pydoc_data",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "lib2to3",
    "sqlite3",
    "curses",
    "dbm",
    "venv",
    f"config-{PYTHON_VERSION}-aarch64-linux-gnu",
    "__phello__",
    "_pyrepl",
)
DROP_DYNLOAD = re.compile(
    r"^(_test|xx|_ctypes_test|_xxtest|_curses|_dbm|_sqlite3|readline|_ssl|_hashlib|_bz2|_lzma|_uuid|"
    r"_interp|_codecs_(cn|hk|jp|kr|tw|iso2022)|_multibytecodec)"
)
FOLDERS = ("proc", "sys", "dev", "tmp", "run", "root", "opt", "etc", "share", "usr/sbin", "usr/lib/modules")
DONE = ".done"


@frozen
class Userland:
    """A prepared userland folder and the package versions it was made from."""

    root: Path
    versions: Dict[str, str]

    @property
    def key(self) -> str:
        return self.root.name

    @property
    def python(self) -> Path:
        return self.root / "usr" / "bin" / PYTHON

    @property
    def describe(self) -> str:
        """'python3.13 3.13.5-2+deb13u5 (trixie arm64)' for run notes."""
        return f"{PYTHON} {self.versions.get(PACKAGES[0], '?')} ({SUITES[0]} arm64)"


def pick_versions(apt: PrivateApt) -> Dict[str, str]:
    """The newest version of each package in SUITES, or one line naming what the lists lack."""
    best: Dict[str, str] = {}
    for s in apt.stanzas(PACKAGES):
        newer = s.package not in best or compare_versions(s.version, best[s.package]) > 0
        if s.package in PACKAGES and s.suite in SUITES and newer:
            best[s.package] = s.version
    missing = [p for p in PACKAGES if p not in best]
    if missing:
        raise FetchFailed(f"the arm64 userland needs {', '.join(missing)}, not in Debian's {'/'.join(SUITES)} lists")
    return {p: best[p] for p in PACKAGES}


def _key(versions: Dict[str, str]) -> str:
    rules = [sorted(versions.items()), DROP_STDLIB, DROP_DYNLOAD.pattern, KEEP_LIBS.pattern, FOLDERS]
    return hashlib.sha256(json.dumps(rules).encode()).hexdigest()[:12]


def prepare(cache: Path, progress: Optional[Progress] = None) -> Userland:
    """The userland for the newest packages in the lists (cached; built on first use)."""
    apt = PrivateApt(cache / "apt-arm64", "arm64")
    apt.ensure_lists(None, progress)
    versions = pick_versions(apt)
    root = cache / "arm64" / "userland" / _key(versions)
    with locked(cache, "userland.lock"):
        if not (root / DONE).exists():
            _build(apt, versions, root, progress)
    return Userland(root, versions)


def _build(apt: PrivateApt, versions: Dict[str, str], root: Path, progress: Optional[Progress]) -> None:
    """Download, unpack, lay out and trim into root (nothing left behind on failure)."""
    if progress:
        progress(f"preparing the arm64 userland: {', '.join(f'{p} {v}' for p, v in versions.items())}")
    tmp = root.with_name(root.name + ".partial")
    remove_tree(tmp)
    tmp.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="mremapctl-debs-") as debs:
        try:
            for deb in apt.download_all(list(versions.items()), Path(debs), progress):
                _unpack(deb, tmp)
            _layout(tmp)
            _trim(tmp)
            (tmp / "versions.json").write_text(json.dumps(versions, indent=1) + "\n")
            (tmp / DONE).touch()
            remove_tree(root)
            tmp.rename(root)
        finally:
            remove_tree(tmp)


def _unpack(deb: Path, dest: Path) -> None:
    proc = subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise FetchFailed(f"dpkg-deb -x {deb.name} failed: {(proc.stderr or proc.stdout).strip()[-200:]}")


def _layout(root: Path) -> None:
    """The merged-/usr links, python3 and sh, the folders /init mounts on, root's passwd entry."""
    for link, target in (("bin", "usr/bin"), ("lib", "usr/lib"), ("sbin", "usr/sbin")):
        if not (root / link).exists():
            (root / link).symlink_to(target)
    for folder in FOLDERS:
        (root / folder).mkdir(parents=True, exist_ok=True)
    for name, target in (("python3", PYTHON), ("sh", "busybox")):
        command = root / "usr" / "bin" / name
        if not command.exists():
            command.symlink_to(target)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")


def _trim(root: Path) -> None:
    """Drop documentation, locales, unneeded libraries and stdlib parts (see the lists above)."""
    shutil.rmtree(root / "usr" / "share", ignore_errors=True)
    libdir = root / "usr" / "lib" / "aarch64-linux-gnu"
    for path in list(libdir.iterdir()):
        if not KEEP_LIBS.match(path.name):
            remove_tree(path)
    stdlib = root / "usr" / "lib" / PYTHON
    for name in DROP_STDLIB:
        remove_tree(stdlib / name)
    for path in list((stdlib / "lib-dynload").iterdir()):
        if DROP_DYNLOAD.match(path.name):
            path.unlink()
    for cache in list(root.rglob("__pycache__")):
        remove_tree(cache)
