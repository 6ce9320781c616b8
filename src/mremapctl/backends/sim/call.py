"""One mremap call being simulated: its arguments, the VMA it found, and the questions the
rules ask about the address space (limits, seals, free space)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from mremapctl import flags as F
from mremapctl.backends.sim.space import PAGE, Vma
from mremapctl.rules import all_rules

if TYPE_CHECKING:
    from mremapctl.backends.sim.machine import SimMachine

U64 = (1 << 64) - 1


def page_align(n: int) -> int:
    """PAGE_ALIGN with the kernel's unsigned wrap-around (2^64-1 becomes 0)."""
    return ((n + PAGE - 1) & U64) // PAGE * PAGE


class Refused(Exception):
    """A rule refused the call: carries the rule id (its errno is in the rule table)."""

    def __init__(self, rule_id: str) -> None:
        super().__init__(rule_id)
        self.rule_id = rule_id


class Call:
    def __init__(self, sim: SimMachine, addr: int, old_raw: int, new_raw: int, flags: int, new_addr: int) -> None:
        self.sim = sim
        self.space = sim.space
        self.version = sim.version
        self.page = PAGE
        self.huge = sim.facts.huge
        self.task_size = sim.facts.task_size
        self.max_map_count = sim.facts.max_map_count
        self.addr, self.old_raw, self.new_raw, self.flags, self.new_addr = addr, old_raw, new_raw, flags, new_addr
        self.old_len, self.new_len = page_align(old_raw), page_align(new_raw)
        self.known_flags = 7 if self.version >= (5, 7) else 3
        self.vma: Optional[Vma] = None
        self.rules = sim.rules  # only the rules of this kernel version

    @property
    def maymove(self) -> bool:
        return bool(self.flags & F.MREMAP_MAYMOVE)

    @property
    def fixed(self) -> bool:
        return bool(self.flags & F.MREMAP_FIXED)

    @property
    def dontunmap(self) -> bool:
        """Before 5.7 the bit means nothing (and is refused as unknown)."""
        return bool(self.flags & F.MREMAP_DONTUNMAP) and self.version >= (5, 7)

    @property
    def moving(self) -> bool:
        return self.fixed or self.dontunmap

    @property
    def map_count(self) -> int:
        return len(self.space.vmas) + self.sim.facts.baseline_map_count

    def check(self, rule_id: str) -> None:
        """Refuse the call if the rule applies to this kernel and its condition holds."""
        rule = self.rules.get(rule_id)
        if rule is not None and rule.when(self):
            raise Refused(rule_id)
        assert rule is not None or rule_id in all_rules(), rule_id  # typos fail the tests

    def lookup(self) -> Vma:
        self.vma = self.space.find(self.addr)
        self.check("no-vma")
        assert self.vma is not None
        return self.vma

    # -- questions the rules ask ------------------------------------------------------------

    def sealed_in(self, start: int, end: int) -> bool:
        return any("sl" in v.flags for v in self.space.overlapping(start, end))

    def mlock_over_limit(self, delta: int) -> bool:
        if "IPC_LOCK" in self.sim.facts.caps:
            return False
        return self.sim.locked_bytes() + delta > self.sim.facts.limits["memlock"]

    def as_over_limit(self, delta: int) -> bool:
        return self.sim.total_bytes() + delta > self.sim.facts.limits["address_space"]

    def overcommit_refuses(self) -> bool:
        """Heuristic overcommit (mode 0) refuses one request larger than RAM (swap is not modelled)."""
        charge = self.new_len - self.old_len if not self.dontunmap else self.new_len
        return bool(self.vma and "ac" in self.vma.flags) and charge > self.sim.facts.total_ram
