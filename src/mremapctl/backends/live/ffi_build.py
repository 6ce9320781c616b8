"""Generates ``_abi.py``, cffi's out-of-line ABI module: no compiler at install time, and no
C declaration parsing at start-up (the declarations are pre-parsed into that file).

Regenerate after changing CDEF: ``python -m mremapctl.backends.live.ffi_build``; a test
checks the committed file matches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CDEF = """
long syscall(long number, ...);
"""

OUTPUT = Path(__file__).with_name("_abi.py")


def build_ffi() -> Any:
    from cffi import FFI

    ffibuilder = FFI()
    ffibuilder.cdef(CDEF)
    ffibuilder.set_source("mremapctl.backends.live._abi", None)
    return ffibuilder


def generated_source() -> str:
    import io

    out = io.StringIO()
    build_ffi().emit_python_code(out)
    return out.getvalue()


if __name__ == "__main__":
    OUTPUT.write_text(generated_source())
    print(f"wrote {OUTPUT}")
