"""Run by the arm64 guest's own Python under qemu-user, on the host: import the whole tool from
an unpacked zipapp and keep every module compiled on the way as an unchecked-hash .pyc.

    python3.13 -I -B guest_compile.py APP SYSROOT GUEST_APP

Debian ships no .pyc and the guest cannot keep any, so without this every guest run compiles
each module it imports (~3 s under TCG). Compiling only what importing the tool loads costs
one import, not a compile of the whole stdlib and zipapp (~2 min under qemu-user). Stdlib
modules get __pycache__/NAME.cpython-3XX.pyc in the userland; the tool's get NAME.pyc beside
NAME.py, the layout zipimport reads. Unchecked: the initramfs's files carry no mtimes, and
nothing changes them after this. Bytecode depends on the Python version, hence the guest's
interpreter. Not imported by mremapctl itself.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import marshal
import os
import pkgutil
import sys
from types import CodeType
from typing import Any, Dict, List, Tuple

HASH_BASED_UNCHECKED = 0b01  # the pyc flags word: hash-based, source not checked


def guest_path(path: str, app: str, sysroot: str, guest_app: str) -> str:
    """Where a host file is in the guest (what tracebacks there name)."""
    if path.startswith(app + os.sep):
        return guest_app + path[len(app) :]
    if path.startswith(sysroot + os.sep):
        return path[len(sysroot) :]
    return path


def pyc_path(path: str, app: str) -> str:
    """mod.pyc beside mod.py in the zipapp (zipimport reads no __pycache__), else the usual cache file."""
    return path[:-3] + ".pyc" if path.startswith(app + os.sep) else importlib.util.cache_from_source(path)


def write_pyc(out: str, source: bytes, code: CodeType) -> None:
    header = importlib.util.MAGIC_NUMBER + HASH_BASED_UNCHECKED.to_bytes(4, "little")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out + ".tmp", "wb") as f:
        f.write(header + importlib.util.source_hash(source) + marshal.dumps(code))
    os.replace(out + ".tmp", out)


def import_everything(app: str) -> List[str]:
    """Import every module of mremapctl from app; return those that cannot be imported here."""
    sys.path.insert(0, app)
    import mremapctl

    failed: List[str] = []
    for info in pkgutil.walk_packages(mremapctl.__path__, "mremapctl.", onerror=failed.append):
        if info.name.endswith("__main__"):  # running it would start the CLI
            continue
        try:
            importlib.import_module(info.name)
        except ImportError:  # the cffi build needs cffi, which the guest lacks (ctypes instead)
            failed.append(info.name)
    return failed


def main() -> int:
    app, sysroot = (os.path.abspath(p) for p in sys.argv[1:3])
    guest_app = sys.argv[3]
    compiled: Dict[str, Tuple[bytes, CodeType]] = {}
    loader: Any = importlib.machinery.SourceFileLoader
    original = loader.source_to_code

    def source_to_code(self: Any, data: bytes, path: str, **kwargs: Any) -> CodeType:
        code: CodeType = original(self, data, guest_path(path, app, sysroot, guest_app), **kwargs)
        compiled[path] = (bytes(data), code)
        return code

    loader.source_to_code = source_to_code
    failed = import_everything(app)
    main_py = os.path.join(app, "__main__.py")
    with open(main_py, "rb") as f:
        source = f.read()
    compiled[main_py] = (source, compile(source, guest_path(main_py, app, sysroot, guest_app), "exec"))
    kept = {p: c for p, c in compiled.items() if p.startswith((app + os.sep, sysroot + os.sep))}
    for path, (data, code) in kept.items():
        write_pyc(pyc_path(path, app), data, code)
    print(f"compiled {len(kept)} modules for Python {sys.version.split()[0]}; not importable: {failed or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
