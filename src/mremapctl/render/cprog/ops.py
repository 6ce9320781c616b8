"""The C for every op but ``mmap``: ``Engine.do_<op>`` and the live machine's call, one block each."""

from __future__ import annotations

from typing import Callable, Dict, List, Tuple

from mremapctl import flags as F
from mremapctl.errors import BadInput
from mremapctl.limits import POPULATE_FLOOR
from mremapctl.render.cprog.context import Block, Context
from mremapctl.render.cprog.kinds import emit_mmap
from mremapctl.render.cprog.text import c_addr, c_char, c_mremap_flags, c_number, c_prot, c_size
from mremapctl.resolve import Addr, Size
from mremapctl.scenario import steps as S
from mremapctl.scenario import values as V
from mremapctl.units import U64_MAX

RLIMIT_NAMES = {"memlock": "RLIMIT_MEMLOCK", "address_space": "RLIMIT_AS", "data": "RLIMIT_DATA"}
RLIM_MAX = (1 << 63) - 1  # Python's resource module takes a signed 64-bit limit (or RLIM_INFINITY)


def _size_c(size: Size) -> str:
    return size.var if size.var is not None else c_size(size.value)


def emit_mremap(ctx: Context, index: int, step: S.Mremap) -> Block:
    old, old_size, new_size, bits, new_addr = ctx.resolver.mremap(index, step)
    ctx.need("sys_mremap", "report_address")
    args = f"{c_addr(old)}, {_size_c(old_size)}, {_size_c(new_size)}, {c_mremap_flags(bits)}, {c_addr(new_addr)}"
    body = [f"{ctx.ret()} = sys_mremap({args});", f'{ctx.have(step.name)}report_address({index}, "mremap", ret);']
    flags = c_mremap_flags(bits) if bits else "no flags"
    title = f"mremap {step.old.text}, {_size_text(old_size)} to {_size_text(new_size)}, {flags}"
    notes = []
    if step.name:
        result, note, fresh = _result_address(ctx, step.name, bits, old, new_addr)
        if fresh and step.name in ctx.referenced:
            ctx.declare(f"unsigned long {result.var} = 0;", f"where the kernel put region {step.name}")
            body.append(f"{result.var} = (unsigned long)ret;")
        ctx.resolver.moved(step.name, result, new_size, old)
        title += f"; the result is region {step.name!r}"
        notes.append(note)
    return Block(title, body, notes)


def _size_text(size: Size) -> str:
    return f"{size.value} bytes" if size.var is None else "the kernel's size"


def _result_address(ctx: Context, name: str, bits: int, old: Addr, new_addr: Addr) -> Tuple[Addr, str, bool]:
    """Where a successful mremap's result is, why, and whether it needs a variable of its own.

    FIXED puts it at new_address and a call without MAYMOVE leaves it in place: both known
    now (possibly relative to an earlier run-time address). Otherwise the kernel chooses.
    """
    if bits & F.MREMAP_FIXED:
        return Addr(new_addr.var, new_addr.offset, name), "MREMAP_FIXED: if it works, the result is new_address.", False
    if not bits & F.MREMAP_MAYMOVE:
        return Addr(old.var, old.offset, name), "Without MREMAP_MAYMOVE a success is always in place.", False
    return Addr(f"at_{ctx.cname(name)}", 0, name), "MREMAP_MAYMOVE: the kernel may choose a new address.", True


def _range(ctx: Context, index: int, step: S.RangeStep) -> Tuple[str, str]:
    """Engine.range_of: the step's address and size in C, checked as the engine checks them."""
    addr, size = ctx.resolver.range(index, step)
    return c_addr(addr), _size_c(size)


def _status(ctx: Context, index: int, op: str, call: str) -> List[str]:
    ctx.need("report_status")
    return [f'report_status({index}, "{op}", {call});']


def emit_read(ctx: Context, index: int, step: S.Read) -> Block:
    a, n = _range(ctx, index, step)
    ctx.need("read_range")
    return Block(f"read {step.at.text}: one probe per page touched", [f"read_range({index}, {a}, {n});"])


def emit_write(ctx: Context, index: int, step: S.Write) -> Block:
    a, n = _range(ctx, index, step)
    ctx.need("write_range")
    byte = c_char(V.byte_value(step.byte))
    return Block(f"write {byte} to {step.at.text}", [f"write_range({index}, {a}, {n}, {byte});"])


def emit_munmap(ctx: Context, index: int, step: S.Munmap) -> Block:
    a, n = _range(ctx, index, step)
    ctx.need("sys_munmap")
    return Block(f"munmap {step.at.text}", _status(ctx, index, "munmap", f"sys_munmap({a}, {n})"))


def emit_mprotect(ctx: Context, index: int, step: S.Mprotect) -> Block:
    a, n = _range(ctx, index, step)
    ctx.need("sys_mprotect")
    prot = c_prot(F.parse_prot(step.prot))
    call = f"sys_mprotect({a}, {n}, {prot})"
    return Block(f"mprotect {step.at.text} to {prot}", _status(ctx, index, "mprotect", call))


def emit_mlock(ctx: Context, index: int, step: S.Mlock) -> Block:
    addr, size = ctx.resolver.range(index, step)
    a, n = c_addr(addr), _size_c(size)
    body: List[str] = []
    if size.var is None and size.value > POPULATE_FLOOR:  # run-time sizes are below it
        ctx.need("check_populate")
        body.append(f'check_populate({n}, "mlock");')
    if step.onfault:
        ctx.need("sys_mlock2")
        call = f"sys_mlock2({a}, {n}, MLOCK_ONFAULT)"
        return Block(f"mlock2 {step.at.text}, MLOCK_ONFAULT", body + _status(ctx, index, "mlock", call))
    ctx.need("sys_mlock")
    return Block(f"mlock {step.at.text}", body + _status(ctx, index, "mlock", f"sys_mlock({a}, {n})"))


def emit_munlock(ctx: Context, index: int, step: S.Munlock) -> Block:
    a, n = _range(ctx, index, step)
    ctx.need("sys_munlock")
    return Block(f"munlock {step.at.text}", _status(ctx, index, "munlock", f"sys_munlock({a}, {n})"))


def emit_mseal(ctx: Context, index: int, step: S.Mseal) -> Block:
    a, n = _range(ctx, index, step)
    ctx.need("sys_mseal")
    notes = ["Sealed, a range can no longer be moved, resized, unmapped or reprotected (6.10+)."]
    return Block(f"mseal {step.at.text}", _status(ctx, index, "mseal", f"sys_mseal({a}, {n}, 0)"), notes)


def emit_madvise(ctx: Context, index: int, step: S.Madvise) -> Block:
    a, n = _range(ctx, index, step)
    ctx.need("sys_madvise")
    name = f"MADV_{step.advice.upper()}"
    ctx.macros[name] = f"#ifndef {name}\n#define {name} {F.MADVISE[step.advice]}\n#endif"
    call = f"sys_madvise({a}, {n}, {name})"
    return Block(f"madvise {step.at.text}, {name}", _status(ctx, index, "madvise", call))


def emit_uffd_register(ctx: Context, index: int, step: S.UffdRegister) -> Block:
    a, n = _range(ctx, index, step)
    ctx.need("uffd_register", "probe_read_uffd")
    mode = f"{V.UFFD_MODES[step.mode]} /* UFFDIO_REGISTER_MODE_{step.mode.upper()} */"
    notes = ['From now on a read may wait for a fault handler: reads give up after 0.3 s ("uffd").']
    body = _status(ctx, index, "uffd_register", f"uffd_register({a}, {n}, {mode})")
    return Block(f"register {step.at.text} with userfaultfd", body, notes)


def emit_setrlimit(ctx: Context, index: int, step: S.Setrlimit) -> Block:
    limits = step.limits(ctx.resolver.page)
    if not limits:
        return Block("setrlimit, with no limit given", _status(ctx, index, "setrlimit", "0"))
    ctx.need("set_limit", "report_status")
    body: List[str] = []
    for resource, value in limits.items():
        if value != U64_MAX and value > RLIM_MAX:
            raise BadInput(f'step {index}: setrlimit {resource} = {value}: above 2^63-1 (use "unlimited")')
        text = "RLIM_INFINITY" if value == U64_MAX else c_number(value)
        call = f"{ctx.ret()} = set_limit({RLIMIT_NAMES[resource]}, {text});"
        body += [call] if not body else ["if (ret == 0)", "    " + call]
    body.append(f'report_status({index}, "setrlimit", ret);')
    return Block("setrlimit: " + ", ".join(RLIMIT_NAMES[r] for r in limits), body)


def emit_drop_cap(ctx: Context, index: int, step: S.DropCap) -> Block:
    ctx.need("drop_cap")
    call = f"drop_cap({V.CAPABILITIES[step.cap]} /* CAP_{step.cap} */)"
    return Block(f"drop CAP_{step.cap}", _status(ctx, index, "drop_cap", call))


def emit_vmas(ctx: Context, index: int, step: S.Vmas) -> Block:
    a, n = _range(ctx, index, step)
    ctx.need("report_vmas")
    flag = f'"{step.flag}"' if step.flag else "NULL"
    what = f"whether they carry {step.flag}" if step.flag else "how many"
    return Block(f"the VMAs over {step.at.text}: {what}", [f"report_vmas({index}, {a}, {a} + {n}, {flag});"])


Emitter = Callable[[Context, int, S.Step], Block]
EMITTERS: Dict[str, Emitter] = {
    "mmap": emit_mmap,  # type: ignore[dict-item]
    "mremap": emit_mremap,  # type: ignore[dict-item]
    "read": emit_read,  # type: ignore[dict-item]
    "write": emit_write,  # type: ignore[dict-item]
    "munmap": emit_munmap,  # type: ignore[dict-item]
    "mprotect": emit_mprotect,  # type: ignore[dict-item]
    "mlock": emit_mlock,  # type: ignore[dict-item]
    "munlock": emit_munlock,  # type: ignore[dict-item]
    "mseal": emit_mseal,  # type: ignore[dict-item]
    "madvise": emit_madvise,  # type: ignore[dict-item]
    "uffd_register": emit_uffd_register,  # type: ignore[dict-item]
    "setrlimit": emit_setrlimit,  # type: ignore[dict-item]
    "drop_cap": emit_drop_cap,  # type: ignore[dict-item]
    "vmas": emit_vmas,  # type: ignore[dict-item]
}
