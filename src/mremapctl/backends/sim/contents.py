"""What a read or a write of a simulated page meets: the page table first, then the backing
object (or zero-fill), with the signal a real access would get where there is nothing.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

from mremapctl.backends.sim.space import PAGE, Obj, Pte, Space, Vma, new_anon_vma
from mremapctl.kinds import KINDS
from mremapctl.pages import describe_byte, page_starts
from mremapctl.results import SIGBUS, SIGSEGV, UFFD

_NO_PTE = Pte()


def _object_page(vma: Vma, addr: int) -> Tuple[Optional[Obj], int]:
    return vma.obj, vma.pgoff + (addr - vma.start) // PAGE


def read_pages(space: Space, addr: int, size: int) -> List[str]:
    out = []
    for page in page_starts(addr, size, PAGE):
        value = _read(space, page)
        out.append(describe_byte(value) if isinstance(value, int) else value)
    return out


def _reach(space: Space, addr: int, perm: str) -> Tuple[Optional[Vma], Optional[Pte]]:
    """The VMA and page-table entry an access meets; no VMA means SIGSEGV (no mapping, no
    permission, or a guard page)."""
    vma = space.find(addr)
    pte = space.ptes.get(addr // PAGE)
    if vma is None or perm not in vma.flags or (pte is not None and pte.guard):
        return None, pte
    return vma, pte


def _read(space: Space, addr: int) -> int | str:
    vma, pte = _reach(space, addr, "rd")
    if vma is None:
        return SIGSEGV
    vpn = addr // PAGE
    if pte is not None and pte.value is not None:
        return pte.value
    obj, index = _object_page(vma, addr)
    in_cache = obj is not None and obj.backing not in ("anonfile",) and index in obj.pages
    if pte is None and (("um" in vma.flags and not in_cache) or ("ui" in vma.flags and in_cache)):
        return UFFD
    if obj is None or obj.backing == "anonfile":
        space.ptes[vpn] = Pte(value=0)
        return 0
    if obj.sigbus_beyond_size and index * PAGE >= obj.size:
        return SIGBUS
    space.ptes[vpn] = Pte()
    return obj.pages.get(index, 0)


def write(space: Space, addr: int, size: int, byte: int) -> List[str]:
    bulk = _bulk_write(space, addr, size, byte)
    if bulk is not None:
        return bulk
    return [_write(space, page, byte, covers_first=page % PAGE == 0) for page in page_starts(addr, size, PAGE)]


def _bulk_write(space: Space, addr: int, size: int, byte: int) -> Optional[List[str]]:
    """Whole pages inside one plain writable VMA (a fill): one update, not one per page."""
    vma = space.find(addr)
    if vma is None or addr % PAGE or size % PAGE or addr + size > vma.end or "wr" not in vma.flags:
        return None
    first, last = addr // PAGE, (addr + size) // PAGE
    if vma.special or any(space.ptes.get(v, _NO_PTE).guard for v in range(first, last)):
        return None
    obj = vma.obj
    index = vma.pgoff + (addr - vma.start) // PAGE
    if obj is not None and obj.sigbus_beyond_size and (index + last - first) * PAGE > obj.size:
        return None
    if vma.shared:
        obj.pages.update(dict.fromkeys(range(index, index + last - first), byte))  # type: ignore[union-attr]
        space.ptes.update(dict.fromkeys(range(first, last), Pte()))
    else:
        space.ptes.update(dict.fromkeys(range(first, last), Pte(value=byte)))  # Ptes are never mutated
        if vma.anon_vma is None:
            vma.anon_vma = new_anon_vma()
    return ["ok"] * (last - first)


def _write(space: Space, addr: int, byte: int, covers_first: bool) -> str:
    vma, pte = _reach(space, addr, "wr")
    if vma is None:
        return SIGSEGV
    vpn = addr // PAGE
    obj, index = _object_page(vma, addr)
    if obj is not None and obj.sigbus_beyond_size and index * PAGE >= obj.size and obj.backing != "special":
        return SIGBUS
    writable = KINDS[vma.special].writable_pages if vma.special else None
    if obj is not None and obj.backing == "special" and writable is not None and index >= writable:
        return SIGBUS  # the perf ring's data pages are mapped read-only
    if vma.shared:
        if covers_first:
            obj.pages[index] = byte  # type: ignore[union-attr]
        space.ptes[vpn] = Pte()
        return "ok"
    current = (
        pte.value
        if pte is not None and pte.value is not None
        else (obj.pages.get(index, 0) if obj is not None and obj.backing != "anonfile" else 0)
    )
    space.ptes[vpn] = Pte(value=byte if covers_first else current)
    if vma.anon_vma is None:
        vma.anon_vma = new_anon_vma()
    return "ok"
