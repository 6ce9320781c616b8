"""Calls as strace prints them, and errno names and messages from the standard library."""

from __future__ import annotations

import errno as errno_module
import os

from mremapctl import flags as F
from mremapctl.kinds import KINDS
from mremapctl.primitives import MapRequest


def errno_name(value: int) -> str:
    return errno_module.errorcode.get(value, f"E{value}")


def errno_message(name: str) -> str:
    value = getattr(errno_module, name, None)
    return os.strerror(value) if value is not None else name


def mremap_call(old: int, old_size: int, new_size: int, flags: int, new_addr: int) -> str:
    """strace's form, with the fifth argument whenever the kernel reads it (FIXED or DONTUNMAP)."""
    text = f"mremap({old:#x}, {old_size}, {new_size}, {F.mremap_flags_text(flags)}"
    if flags & (F.MREMAP_FIXED | F.MREMAP_DONTUNMAP):
        text += f", {new_addr:#x}" if new_addr else ", 0"
    return text + ")"


def mmap_call(req: MapRequest) -> str:
    kind = KINDS[req.kind]
    size = req.size if req.size is not None else 0
    if kind.relocated:
        return f"{req.kind}: the kernel's [{req.kind}] moved to {req.addr:#x} (mremap MAYMOVE|FIXED)"
    if kind.call_source == "shmid":
        return f"shmat(shmget(IPC_PRIVATE, {size}), {req.addr:#x})"
    flags = req.map_flags()
    source = req.path if req.path else kind.call_source or f"{req.kind}:{req.same_as or req.name}"
    return f"mmap({req.addr:#x}, {size}, {F.prot_text(req.prot)}, {F.map_flags_text(flags)}, {source}, 0)"
