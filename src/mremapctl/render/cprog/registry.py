"""The registry of C helper snippets, and how a program's set of helpers is put together.

A generated program contains only the helpers its steps use. Each snippet names the
helpers it calls, the headers it includes and the fallback macros it relies on; ``collect``
closes a wanted set over those, orders it dependencies first (so no forward declarations
are needed) and reports the headers and fallbacks to emit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Set, Tuple

from mremapctl.frozen import frozen


@frozen
class Helper:
    code: str
    needs: Tuple[str, ...] = ()
    headers: Tuple[str, ...] = ()
    fallbacks: Tuple[str, ...] = ()  # keys of FALLBACKS
    provides: Optional[str] = None  # stands in for another helper of that name (a variant)


def _arch(name: str, x86_64: int, aarch64: int, since: str) -> str:
    return (
        f"#ifndef SYS_{name} /* Linux {since} */\n#  if defined(__x86_64__)\n#    define SYS_{name} {x86_64}\n"
        f"#  elif defined(__aarch64__)\n#    define SYS_{name} {aarch64}\n#  endif\n#endif"
    )


def _plain(name: str, value: str, note: str) -> str:
    return f"#ifndef {name}\n#define {name} {value} /* {note} */\n#endif"


# Macros older C library headers lack, with the kernel's values (uapi headers).
FALLBACKS: Dict[str, str] = {
    "MAP_FIXED_NOREPLACE": _plain("MAP_FIXED_NOREPLACE", "0x100000", "Linux 4.17, glibc 2.28"),
    "MREMAP_DONTUNMAP": _plain("MREMAP_DONTUNMAP", "4", "Linux 5.7, glibc 2.32"),
    "MLOCK_ONFAULT": _plain("MLOCK_ONFAULT", "1", "Linux 4.4, glibc 2.27"),
    "MFD_CLOEXEC": _plain("MFD_CLOEXEC", "1U", "Linux 3.17, glibc 2.27"),
    "MFD_HUGETLB": _plain("MFD_HUGETLB", "4U", "Linux 4.14, glibc 2.27"),
    "SHM_REMAP": _plain("SHM_REMAP", "040000", "a Linux shmat flag; glibc defines it for _GNU_SOURCE"),
    "SYS_mseal": _plain("SYS_mseal", "462", "Linux 6.10; the same number on every architecture"),
    "SYS_memfd_secret": _plain("SYS_memfd_secret", "447", "Linux 5.14; the same number on every architecture"),
    "SYS_memfd_create": _arch("memfd_create", 319, 279, "3.17"),
    "SYS_mlock2": _arch("mlock2", 325, 284, "4.4"),
    "SYS_userfaultfd": _arch("userfaultfd", 323, 282, "4.3"),
}

CORE_HEADERS = ("errno.h", "stdarg.h", "stdio.h", "stdlib.h", "string.h", "sys/mman.h", "sys/syscall.h", "unistd.h")

HELPERS: Dict[str, Helper] = {}


def helper(name: str, code: str, **kw: object) -> None:
    """Register a snippet; the registration order is the emission order among equals."""
    HELPERS[name] = Helper(code.strip("\n"), **kw)  # type: ignore[arg-type]


@dataclass
class Collected:
    code: List[str] = field(default_factory=list)
    headers: Set[str] = field(default_factory=set)
    fallbacks: List[str] = field(default_factory=list)


def collect(wanted: Iterable[str]) -> Collected:
    """The wanted helpers and everything they need: dependencies first, otherwise in registry order."""
    wanted = list(wanted)
    stand_ins = {HELPERS[w].provides: w for w in wanted if HELPERS[w].provides}
    needs: Dict[str, List[str]] = {}
    todo = [stand_ins.get(w, w) for w in wanted]
    while todo:
        name = todo.pop()
        if name not in needs:
            needs[name] = [stand_ins.get(n, n) for n in HELPERS[name].needs]
            todo += needs[name]
    rank = {name: i for i, name in enumerate(HELPERS)}
    order: List[str] = []
    while len(order) < len(needs):
        ready = [n for n in needs if n not in order and all(d in order for d in needs[n])]
        order.append(min(ready, key=rank.__getitem__))
    out = Collected(headers=set(CORE_HEADERS))
    for name in order:
        item = HELPERS[name]
        out.code.append(item.code)
        out.headers.update(item.headers)
        out.fallbacks += [f for f in item.fallbacks if f not in out.fallbacks]
    out.fallbacks.sort(key=list(FALLBACKS).index)
    return out
