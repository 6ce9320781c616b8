"""The C for an ``mmap`` step: ``Engine.do_mmap``, ``LiveMachine.map_region`` and the kind's maker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

from mremapctl import flags as F
from mremapctl.errors import BadInput
from mremapctl.kinds import KINDS
from mremapctl.limits import POPULATE_FLOOR
from mremapctl.render.cprog.context import Block, Context
from mremapctl.render.cprog.text import c_addr, c_char, c_map_flags, c_number, c_prot, c_size, c_string, comment_text
from mremapctl.resolve import KERNEL_SIZED_MAX, MmapPlan, Size
from mremapctl.scenario import steps as S
from mremapctl.scenario import values as V

OFF_T_MAX = (1 << 63) - 1
SHM_RDONLY = 0o10000


@dataclass
class Making:
    """Everything a kind's maker needs, in C text."""

    ctx: Context
    step: S.Mmap
    plan: MmapPlan
    addr: str
    size: str
    prot: int  # with write access added while a fill is pending
    cname: str

    def map_flags(self) -> str:
        """The mmap flags the tool maps with (Kind.map_flags), in C."""
        step, kind = self.step, KINDS[self.plan.kind]
        return c_map_flags(
            kind.map_flags(shared=self.plan.shared, replace=step.replace, locked=step.locked, hugetlb=step.hugetlb)
        )

    def map_at(self, fd: str = "-1") -> List[str]:
        self.ctx.need("map_at")
        return [f"ret = map_at({self.addr}, {self.size}, {c_prot(self.prot)}, {self.map_flags()}, {fd});"]

    def object_fd(self, create: str, sized: bool) -> List[str]:
        """makers.py's object_fd (+ sized): reuse same_as's object, or create one and size it."""
        if self.step.same_as:
            return []
        fd = f"fd_{self.cname}"
        self.ctx.declare(f"long {fd} = -1;", f"the object behind region {self.step.name}")
        lines = [f"ret = {fd} = {create};"]
        if sized:
            length = self.step.file_size.resolve(self.ctx.resolver.page) if self.step.file_size else self.plan.size or 0
            if length > OFF_T_MAX:
                raise BadInput(f"mmap {self.step.name!r}: file size {length} does not fit in off_t")
            lines += ["if (ret != -1)", f"    ret = ftruncate((int){fd}, {c_number(length)});"]
        return lines

    @property
    def fd(self) -> str:
        return f"fd_{self.ctx.cname(self.step.same_as or self.step.name)}"

    def then(self, lines: List[str]) -> List[str]:
        """Statements after the object's creation run only if it worked."""
        return ["if (ret != -1)", *["    " + line for line in lines]] if lines else []


def _huge(m: Making, size: int) -> List[str]:
    m.ctx.need("need_huge_pages")
    return [f"need_huge_pages({c_size(size)});"]


def make_anon(m: Making) -> List[str]:
    return m.map_at()


def make_shmem(m: Making) -> List[str]:
    if m.step.hugetlb:
        return _huge(m, m.plan.size or 0) + m.map_at()
    return m.map_at()


def make_hugetlb(m: Making) -> List[str]:
    return _huge(m, m.plan.size or 0) + m.map_at()


def make_memfd(m: Making) -> List[str]:
    lines: List[str] = []
    if m.step.hugetlb:
        file_size = m.step.file_size.resolve(m.ctx.resolver.page) if m.step.file_size else None
        lines += _huge(m, file_size or m.plan.size or 0)
    m.ctx.need("new_memfd")
    flags = "MFD_CLOEXEC | MFD_HUGETLB" if m.step.hugetlb else "MFD_CLOEXEC"
    created = m.object_fd(f"new_memfd({c_string(m.step.name)}, {flags})", sized=True)
    return lines + (created + m.then(m.map_at(m.fd)) if created else m.map_at(m.fd))


def make_secretmem(m: Making) -> List[str]:
    m.ctx.need("secret_fd")
    created = m.object_fd("secret_fd()", sized=True)
    return created + m.then(m.map_at(m.fd)) if created else m.map_at(m.fd)


def make_file(m: Making) -> List[str]:
    if m.step.path:
        m.ctx.need("open_path")
        create, sized = f"open_path({c_string(m.step.path)}, {int(m.step.writable)})", False
    else:
        m.ctx.need("temp_file")
        create, sized = f"temp_file({c_string(m.step.dir) if m.step.dir else 'NULL'}, {c_string(m.step.name)})", True
    created = m.object_fd(create, sized)
    return created + m.then(m.map_at(m.fd)) if created else m.map_at(m.fd)


def make_devzero(m: Making) -> List[str]:
    m.ctx.need("map_devzero")
    return [f"ret = map_devzero({m.addr}, {m.size}, {c_prot(m.prot)}, {m.map_flags()});"]


def make_perf(m: Making) -> List[str]:
    m.ctx.need("perf_fd")
    return m.object_fd("perf_fd()", sized=False) + m.map_at(m.fd)


def make_sysvshm(m: Making) -> List[str]:
    m.ctx.need("map_sysv")
    flags = [name for name, on in (("SHM_RDONLY", not m.prot & F.PROT_WRITE), ("SHM_REMAP", m.step.replace)) if on]
    return [f"ret = map_sysv({m.addr}, {m.size}, {' | '.join(flags) or '0'});"]


def _relocated(function: str) -> Callable[[Making], List[str]]:
    def make(m: Making) -> List[str]:
        m.ctx.need(function)
        length = f"len_{m.cname}"
        m.ctx.declare(f"unsigned long {length} = 0;", f"the size the kernel gave region {m.step.name}")
        return [f"ret = {function}({m.addr}, {int(m.step.replace)}, &{length});"]

    return make


MAKERS: Dict[str, Callable[[Making], List[str]]] = {
    "anon": make_anon,
    "shmem": make_shmem,
    "hugetlb": make_hugetlb,
    "memfd": make_memfd,
    "secretmem": make_secretmem,
    "file": make_file,
    "devzero": make_devzero,
    "perf": make_perf,
    "sysvshm": make_sysvshm,
    "vdso": _relocated("move_vdso"),
    "aio": _relocated("move_aio_ring"),
}


def emit_mmap(ctx: Context, index: int, step: S.Mmap) -> Block:
    plan = ctx.resolver.mmap(index, step)
    cname = ctx.cname(step.name)
    prot = F.parse_prot(step.prot)
    fill = V.byte_value(step.fill) if step.fill is not None else None
    size = plan.size or 0
    # Filling needs write access; the asked-for protection is applied afterwards (machine.py).
    map_prot = prot | (F.PROT_READ | F.PROT_WRITE) if fill is not None else prot
    m = Making(ctx, step, plan, c_addr(plan.addr), c_size(size), map_prot, cname)
    body = _populate_checks(ctx, size, fill is not None, step.locked)
    body += MAKERS[plan.kind](m)
    if fill is not None:
        ctx.need("write_range")
        filled = [f"write_range(0, {m.addr}, {m.size}, {c_char(fill)});"]
        if m.prot != prot:
            ctx.need("sys_mprotect")
            filled.append(f"sys_mprotect({m.addr}, {m.size}, {c_prot(prot)});")
        body += ["if (ret != -1) {", *["    " + line for line in filled], "}"]
    ctx.need("report_address")
    ctx.uses_ret = True
    body.append(f'{ctx.have(step.name)}report_address({index}, "mmap", ret);')
    region_size = Size(f"len_{cname}", KERNEL_SIZED_MAX) if KINDS[plan.kind].relocated else Size(None, size)
    ctx.resolver.created(step, plan, plan.addr, region_size)
    return Block(f"mmap {step.name!r}: {_describe(plan, step, fill)}", body, _where(plan))


def _populate_checks(ctx: Context, size: int, fill: bool, locked: bool) -> List[str]:
    """machine.py's check_populate, before the region is made (only large sizes are ever refused)."""
    if size <= POPULATE_FLOOR:
        return []
    ctx.need("check_populate")
    whys = [why for why, on in (("fill", fill), ("MAP_LOCKED", locked)) if on]
    return [f'check_populate({c_size(size)}, "{why}");' for why in whys]


def _describe(plan: MmapPlan, step: S.Mmap, fill: Optional[int]) -> str:
    kind = KINDS[plan.kind]
    parts = [comment_text(kind.summary)]
    if plan.size is not None:
        parts.append(f"{plan.size} bytes")
    if step.same_as:
        parts.append(f"the same object as {step.same_as!r}")
    if fill is not None:
        parts.append(f"filled with {c_char(fill)}")
    if step.locked:
        parts.append("locked")
    return ", ".join(parts)


def _where(plan: MmapPlan) -> List[str]:
    if plan.placed:
        return [f"At {plan.addr.offset:#x}: placed by the tool, which gives each region its own GiB of the lab."]
    return [f"At {comment_text(plan.addr.text)}."]
