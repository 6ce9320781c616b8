"""The tool as an arm64 guest runs it: a zipapp of this source tree, compiled for the guest's Python.

The guest has no host Python and no host files, so the tool goes into its initramfs as the
zipapp scripts/build_pyz.py makes, with .pyc from the guest's own interpreter when qemu-user
is installed (guest_compile.py). One zipapp per (userland, source digest) in the cache: a
second run with the same source reuses it, a changed file rebuilds it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
import zipapp
import zipfile
from pathlib import Path
from typing import Callable, Optional

from mremapctl.backends.vm.errors import PrerequisiteError, VMError
from mremapctl.backends.vm.userland import Userland

Progress = Callable[[str], None]
GUEST_PYZ = "/opt/mremapctl.pyz"  # where the initramfs holds it
QEMU_USER = ("qemu-aarch64", "qemu-aarch64-static")
COMPILE_TIMEOUT = 900.0


def package_dir() -> Path:
    import mremapctl

    return Path(mremapctl.__file__).resolve().parent


def build_script() -> Path:
    """scripts/build_pyz.py of the checkout this package runs from."""
    return package_dir().parent.parent / "scripts" / "build_pyz.py"


def source_digest() -> str:
    """A digest of the package's files and the build script: what the zipapp is made of."""
    h = hashlib.sha256()
    root = package_dir()
    files = [p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
    for path in sorted([*files, build_script()]):
        if path.exists():
            h.update(f"{path.relative_to(root.parent.parent)}\0".encode() + path.read_bytes())
    return h.hexdigest()[:16]


def qemu_user() -> Optional[str]:
    return next((found for name in QEMU_USER if (found := shutil.which(name))), None)


def guest_zipapp(ul: Userland, cache: Path, progress: Optional[Progress] = None) -> Path:
    """The zipapp for this source tree and userland: cached, else built (and compiled if qemu-user
    is here, which adds .pyc to the userland too). Callers hold the cache's arm64 lock."""
    folder = cache / "arm64" / "pyz"
    stem = f"mremapctl-{ul.key}-{source_digest()}"
    compiled, plain = folder / f"{stem}-pyc.pyz", folder / f"{stem}.pyz"
    if compiled.exists():
        return compiled
    if qemu_user() is None:
        return plain if plain.exists() else _build(ul, folder, plain, progress)
    return _build(ul, folder, compiled, progress)


def _build(ul: Userland, folder: Path, out: Path, progress: Optional[Progress]) -> Path:
    script = build_script()
    if not script.exists():
        raise PrerequisiteError(f"arm64 guests run the tool as a zipapp built by {script}: run from a source checkout")
    if progress:
        progress(f"building the guest's zipapp with {script.name}")
    with tempfile.TemporaryDirectory(prefix="mremapctl-pyz-") as tmp:
        built = _run_build_script(script, Path(tmp) / "plain.pyz")
        app = Path(tmp) / "app"
        with zipfile.ZipFile(built) as z:
            z.extractall(app)
        if out.name.endswith("-pyc.pyz"):
            compile_for_guest(ul, app, progress)
        folder.mkdir(parents=True, exist_ok=True)
        part = out.with_name(out.name + ".partial")
        zipapp.create_archive(app, part, interpreter="/usr/bin/env python3", compressed=True)
        os.replace(part, out)
    for old in folder.glob(f"mremapctl-{ul.key}-*.pyz"):
        if old != out:
            old.unlink(missing_ok=True)
    return out


def _run_build_script(script: Path, output: Path) -> Path:
    """scripts/build_pyz.py's build(), loaded from the checkout (it is not part of the package)."""
    spec = importlib.util.spec_from_file_location("mremapctl_build_pyz", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        return Path(module.build(output))
    except subprocess.CalledProcessError as err:
        cmd = " ".join(map(str, err.cmd[:6]))
        raise VMError(f"building the guest's zipapp failed: {cmd} … exit {err.returncode}") from None


def compile_for_guest(ul: Userland, app: Path, progress: Optional[Progress]) -> None:
    """.pyc for the modules importing the tool loads, by the guest's Python under qemu-user."""
    qemu = qemu_user()
    if qemu is None:
        return
    if progress:
        progress(f"compiling the tool's modules with the guest's {ul.python.name} (qemu-user)")
    script = Path(__file__).with_name("guest_compile.py")
    cmd = [qemu, "-L", str(ul.root), str(ul.python), "-I", "-B", str(script), str(app), str(ul.root), GUEST_PYZ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=COMPILE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise VMError(f"compiling for the arm64 guest took over {COMPILE_TIMEOUT:g} s; qemu-aarch64 killed") from None
    if proc.returncode != 0:
        said = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        raise VMError(f"compiling for the arm64 guest failed: {said[0]}")
    if progress and proc.stdout.strip():
        progress(proc.stdout.strip().splitlines()[-1])
