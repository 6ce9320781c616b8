"""One mremap call being simulated: its arguments, the VMA it found, and the questions the
rules ask about the address space (limits, seals, free space)."""

from __future__ import annotations

from typing import Dict, Optional, Protocol

from mremapctl import flags as F
from mremapctl.backends.sim.facts import Facts
from mremapctl.backends.sim.space import Space, Vma
from mremapctl.rules import Rule, all_rules
from mremapctl.units import U64_MAX


def page_align(n: int, page: int) -> int:
    """PAGE_ALIGN with the kernel's unsigned wrap-around (2^64-1 becomes 0)."""
    return ((n + page - 1) & U64_MAX) // page * page


class Refused(Exception):
    """A rule refused the call: carries the rule id (its errno is in the rule table)."""

    def __init__(self, rule_id: str) -> None:
        super().__init__(rule_id)
        self.rule_id = rule_id


class AddressSpace(Protocol):
    """What a call asks of the simulated process (SimMachine is one): its VMAs, limits and rules,
    and the unmapping and placement the kernel's mremap code calls out to."""

    space: Space
    facts: Facts
    rules: Dict[str, Rule]

    def holds(self, rule_id: str) -> bool: ...
    def locked_bytes(self) -> int: ...
    def total_bytes(self) -> int: ...
    def munmap_rule(self, start: int, end: int) -> Optional[str]: ...
    def split_refusal(self, vma: Vma, start: int, end: int) -> Optional[str]: ...
    def refused_unmap(self, start: int, end: int) -> None: ...
    def unmap(self, start: int, end: int) -> None: ...
    def free_range(self, length: int, hint: int = 0) -> int: ...


class Call:
    def __init__(self, sim: AddressSpace, addr: int, old_raw: int, new_raw: int, flags: int, new_addr: int) -> None:
        self.sim = sim
        self.space = sim.space
        self.holds = sim.holds
        self.page = sim.facts.page
        self.huge = sim.facts.huge
        self.task_size = sim.facts.task_size
        self.max_map_count = sim.facts.max_map_count
        self.addr, self.old_raw, self.new_raw, self.flags, self.new_addr = addr, old_raw, new_raw, flags, new_addr
        self.old_len, self.new_len = page_align(old_raw, self.page), page_align(new_raw, self.page)
        has_dontunmap = self.holds("dontunmap-flag")
        self.known_flags = 7 if has_dontunmap else 3
        self.maymove = bool(flags & F.MREMAP_MAYMOVE)
        self.fixed = bool(flags & F.MREMAP_FIXED)
        self.dontunmap = bool(flags & F.MREMAP_DONTUNMAP) and has_dontunmap  # before 5.7 the bit means nothing
        self.moving = self.fixed or self.dontunmap
        self.vma: Optional[Vma] = None
        self.rules = sim.rules  # only the rules of this kernel version

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

    def locked_dontunmap_split(self) -> int:
        """1 when a DONTUNMAP of a locked VMA will split it first (7.3, 7.2.11): one more map."""
        locked = self.vma is not None and "lo" in self.vma.flags
        return int(self.dontunmap and locked and self.holds("dontunmap-locked-split"))

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
