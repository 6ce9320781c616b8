"""What step emitters share while a program is written: the resolver, the helpers used, main's variables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set

from mremapctl.resolve import Resolver


@dataclass
class Block:
    """One step's C: a comment (title, then notes) and the statements that run it."""

    title: str
    body: List[str]
    notes: List[str] = field(default_factory=list)


@dataclass
class Context:
    resolver: Resolver  # strict: the program acts only on ranges it can prove are inside the lab
    referenced: Set[str]  # regions some step depends on (they get an ``int have_X``)
    cnames: Dict[str, str] = field(default_factory=dict)
    helpers: Set[str] = field(default_factory=set)
    macros: Dict[str, str] = field(default_factory=dict)  # extra fallbacks (MADV_*), by name
    decls: List[str] = field(default_factory=list)  # main's variables, with their comments
    uses_ret: bool = False

    def cname(self, name: str) -> str:
        """A C identifier fragment for a region name (scenario names may be any Unicode identifier)."""
        if name not in self.cnames:
            candidate = name if name.isascii() else f"region{len(self.cnames) + 1}"
            while candidate in self.cnames.values():
                candidate += "_"
            self.cnames[name] = candidate
        return self.cnames[name]

    def need(self, *names: str) -> None:
        self.helpers.update(names)

    def declare(self, declaration: str, comment: str) -> None:
        self.decls.append(f"{declaration} /* {comment} */")

    def have(self, name: Optional[str]) -> str:
        """``have_X = `` when later steps depend on region X, else nothing (the result is only printed)."""
        if name is None or name not in self.referenced:
            return ""
        cname = self.cname(name)
        self.declare(f"int have_{cname} = 0;", f"region {name} exists")
        return f"have_{cname} = "

    def ret(self) -> str:
        self.uses_ret = True
        return "ret"
