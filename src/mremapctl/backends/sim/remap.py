"""mremap as each kernel era performs it: the checks in their order, side effects where they
happen (a FIXED target is unmapped before later checks in old kernels), then the effect.

Every decision names a rule from mremapctl.rules; the order of the calls below is the
knowledge this file adds (see the era notes in each function).
"""

from __future__ import annotations

from dataclasses import replace
from typing import List, Optional, Tuple

from mremapctl.backends.sim.call import AddressSpace, Call, Refused
from mremapctl.backends.sim.space import UFFD_FLAGS, Vma
from mremapctl.kinds import KINDS


class Done(Exception):
    """The call succeeded early: its value and the rule that describes what happened."""

    def __init__(self, value: int, rule_id: str) -> None:
        super().__init__(rule_id)
        self.value, self.rule_id = value, rule_id


def simulate(sim: AddressSpace, addr: int, old: int, new: int, flags: int, new_addr: int) -> Tuple[Optional[int], str]:
    """(value or None, rule id): the model's answer to mremap(addr, old, new, flags, new_addr)."""
    call = Call(sim, addr, old, new, flags, new_addr)
    try:
        params(call)
        if call.holds("multi-vma-move"):
            era_6_17(call)
        elif call.holds("vma-lookup-first"):
            era_5_16(call)
        else:
            era_5_4(call)
    except Refused as refused:
        return None, refused.rule_id
    except Done as done:
        return done.value, done.rule_id
    raise AssertionError("every path ends in Done or Refused")


# -- argument checks, before any lock is taken ----------------------------------------------


def params(c: Call) -> None:
    if not c.holds("params-refactored"):
        c.check("flags-unknown")
        c.check("fixed-needs-maymove")
        c.check("dontunmap-needs-maymove")
        c.check("dontunmap-raw-lengths")
        c.check("old-address-unaligned")
        c.check("new-size-zero")
        return
    c.check("flags-unknown")
    c.check("old-address-unaligned")
    c.check("new-size-zero")
    c.check("new-size-over-task-size")
    if not c.moving:
        return
    if c.holds("params-checked-early"):
        c.check("new-range-over-task-size")
    c.check("new-address-unaligned")
    c.check("fixed-needs-maymove")
    c.check("dontunmap-needs-maymove")
    c.check("dontunmap-raw-lengths")
    c.check("dontunmap-lengths")
    if c.holds("params-checked-early"):
        c.check("ranges-overlap")
    c.check("map-count-early")


# -- eras -----------------------------------------------------------------------------------


def era_5_4(c: Call) -> None:
    """5.4–5.15: no lookup before the paths split; a shrink of unmapped memory succeeds."""
    if c.moving:
        mremap_to(c)
    if c.old_len >= c.new_len:
        unmap_tail(c, errors=c.old_len != c.new_len)
        raise Done(c.addr, "same-size" if c.old_len == c.new_len else "shrink")
    vma = c.lookup()
    to_resize(c, vma)
    grow(c, vma)


def era_5_16(c: Call) -> None:
    """5.16–6.16: the VMA is looked up first; hugetlb rules; mseal in its 6.10 and 6.12 forms."""
    c.vma = c.space.find(c.addr)
    if c.vma is None:
        if c.holds("no-vma-efault-sign-bug"):
            raise Done(14, "no-vma-efault-sign-bug")
        c.check("no-vma")
    vma = c.vma
    assert vma is not None
    c.check("sealed")
    hugetlb_rules(c, vma)
    if c.moving:
        mremap_to(c)
    c.check("sealed-range")
    if c.old_len >= c.new_len:
        unmap_tail(c, errors=c.old_len != c.new_len)
        raise Done(c.addr, "same-size" if c.old_len == c.new_len else "shrink")
    to_resize(c, vma)
    grow(c, vma)


def era_6_17(c: Call) -> None:
    """6.17+: FIXED same-size moves may span VMAs; non-moving shrinks skip the span checks."""
    c.check("map-count-every-call")  # 7.1+: under the lock, before anything is looked up
    if c.fixed and c.old_len == c.new_len:
        remap_move(c)
    vma = c.lookup()
    c.check("sealed")
    hugetlb_rules(c, vma)
    if not c.moving and c.new_len <= c.old_len:
        unmap_tail(c, errors=c.old_len != c.new_len)
        raise Done(c.addr, "same-size" if c.old_len == c.new_len else "shrink")
    to_resize(c, vma, span=c.new_len if c.moving and c.new_len < c.old_len else None)
    if c.moving:
        mremap_to(c, checked=True)
    grow(c, vma)


# -- shared pieces --------------------------------------------------------------------------


def hugetlb_rules(c: Call, vma: Vma) -> None:
    if "ht" not in vma.flags:
        return
    c.old_len = -(-c.old_len // c.huge) * c.huge
    c.new_len = -(-c.new_len // c.huge) * c.huge
    c.check("hugetlb-unaligned")
    c.check("hugetlb-grow")


def to_resize(c: Call, vma: Vma, span: Optional[int] = None) -> None:
    """vma_to_resize() / remap_is_valid(): may this VMA be resized or moved like this?"""
    c.vma = vma
    c.check("old-size-zero-private")
    c.check("dontunmap-private-anon-only")
    c.check("dontunmap-dontexpand-pfnmap")
    c.check("hugetlb-refused")
    if (span if span is not None else c.old_len) > vma.end - c.addr:
        raise Refused("range-leaves-vma")
    if c.old_len == c.new_len or (span is not None):
        return
    c.check("grow-dontexpand-pfnmap")
    c.check("mlock-limit")
    c.check("address-space-limit")
    c.check("overcommit")


def unmap_tail(c: Call, errors: bool) -> None:
    if c.new_len >= c.old_len:
        return
    rule = c.sim.munmap_rule(c.addr + c.new_len, c.addr + c.old_len)
    if rule and errors:
        if rule == "hugetlb-split-unaligned":
            c.sim.refused_unmap(c.addr + c.new_len, c.addr + c.old_len)
        raise Refused("tail-sealed" if rule == "sealed" else rule)
    if not rule:
        c.sim.unmap(c.addr + c.new_len, c.addr + c.old_len)


def mremap_to(c: Call, checked: bool = False) -> None:
    """The FIXED / DONTUNMAP path. ``checked``: 6.17+ ran the VMA checks already."""
    if not checked:
        early = c.holds("params-refactored")  # these ran with the parameters
        if not early:
            c.check("new-address-unaligned")
        c.check("new-range-over-task-size")
        c.check("ranges-overlap")
        if not early:
            c.check("map-count-early")
        c.check("sealed-range")
    if c.fixed:
        rule = c.sim.munmap_rule(c.new_addr, c.new_addr + c.new_len)
        if rule:
            raise Refused("target-sealed" if rule == "sealed" else rule)
        c.sim.unmap(c.new_addr, c.new_addr + c.new_len)
    if c.old_len > c.new_len:
        unmap_tail(c, errors=True)
        c.old_len = c.new_len
    # The unmaps above may have split the source, or (a FIXED target over it) removed it:
    # the kernel looks the VMA up again, EFAULT if it is gone.
    vma = c.lookup()
    if not checked:
        to_resize(c, vma)
    c.check("dontunmap-address-space")
    assert c.vma is not None
    dest = c.new_addr if c.fixed else c.sim.free_range(c.new_len, hint=c.new_addr if c.dontunmap else 0)
    move_vma(c, c.vma, dest)


def grow(c: Call, vma: Vma) -> None:
    """A call that grows: in place if it can, else move (MAYMOVE) or ENOMEM."""
    if (
        c.addr + c.old_len == vma.end
        and c.space.is_free(vma.end, vma.end + c.new_len - c.old_len)
        and c.addr + c.new_len <= c.sim.facts.task_size
    ):
        grown = replace(vma, end=vma.start + (c.addr - vma.start) + c.new_len)
        c.space.remove(vma)
        c.space.insert(grown)
        if c.holds("grow-merges"):
            c.space.merge_around(grown)
        raise Done(c.addr, "grow-in-place")
    c.check("grow-blocked")
    move_vma(c, vma, c.sim.free_range(c.new_len, hint=0))


def move_vma(c: Call, vma: Vma, dest: int) -> None:
    c.check("map-count")
    c.check("map-count-move")
    whole = c.addr == vma.start and c.addr + c.old_len == vma.end
    refusal = c.sim.split_refusal(vma, c.addr, c.addr + c.old_len)
    if refusal and c.old_len:
        raise Refused(refusal)
    if vma.special and KINDS[vma.special].whole_moves_only and not whole:
        raise Refused("special-move-hook")
    pgoff = vma.pgoff + (c.addr - vma.start) // c.page
    if vma.anonymous and vma.anon_vma is None:
        pgoff = dest // c.page  # an unfaulted anonymous VMA is rebased to its new address
    # Without UFFD_FEATURE_EVENT_REMAP (the model's userfaultfd never asks for it) the copy
    # leaves the registration behind: it stays with the old range.
    new = replace(vma, start=dest, end=dest + c.new_len, pgoff=pgoff, flags=vma.flags - UFFD_FLAGS)
    old_len = c.old_len
    c.space.move_ptes(c.addr, dest, old_len)
    if c.dontunmap:
        place_dontunmap_copy(c, vma, new, whole)
    else:
        if old_len:
            c.sim.unmap(c.addr, c.addr + old_len)
        c.space.merge_around(c.space.insert(new))
    if c.old_len == 0:
        raise Done(dest, "duplicate")
    raise Done(dest, "dontunmap-move" if c.dontunmap else ("move-fixed" if c.fixed else "move"))


def place_dontunmap_copy(c: Call, vma: Vma, copy: Vma, whole: bool) -> None:
    """The old range stays mapped without page tables; the lock moves to the copy.

    Fixed kernels (7.3, 7.2.11, 6.12.114, 6.1.191) split a locked source first and never merge the
    copy into it. Before, the copy is placed first: an unfaulted anonymous copy right next to its
    source merges into it, and the source's flag changes then apply to the merged VMA.
    """
    if c.holds("dontunmap-no-self-merge"):
        source = vma
        if "lo" in vma.flags and c.holds("dontunmap-locked-split"):
            source = c.space.isolate(c.addr, c.addr + c.old_len)[0]
            whole = True
        kept = keep_source(c, source, whole)
        c.space.merge_around(c.space.insert(copy), exclude=kept)
        return
    c.space.merge_around(c.space.insert(copy))
    holder = c.space.find(c.addr)  # the source, or the VMA the copy merged it into
    assert holder is not None
    keep_source(c, holder, whole and holder.start == vma.start and holder.end == vma.end)


def keep_source(c: Call, vma: Vma, emptied: bool) -> Vma:
    """The DONTUNMAP source after the move: unlocked (and, 6.16–6.17.7, unaccounted); an emptied
    whole VMA gets a fresh anon_vma (5.12+) and, 7.2+, a page offset that follows its address."""
    flags = vma.flags - {"lo", "lf"}
    if c.holds("dontunmap-source-account"):
        flags = flags - {"ac"}
    fresh = emptied and c.holds("dontunmap-fresh-anon-vma")
    # only memory without a file: a private /dev/zero mapping keeps its offset (seen on 6.1.192)
    pgoff = vma.start // c.page if emptied and vma.obj is None and c.holds("dontunmap-pgoff-reset") else vma.pgoff
    kept = replace(vma, flags=flags, anon_vma=None if fresh else vma.anon_vma, pgoff=pgoff)
    c.space.remove(vma)
    return c.space.insert(kept)


def remap_move(c: Call) -> None:
    """6.17+: a FIXED same-size move, piece by piece across VMAs and holes."""
    end = c.addr + c.old_len
    vmas: List[Vma] = c.space.overlapping(c.addr, end)
    if not vmas or vmas[0].start > c.addr:
        raise Refused("multi-vma-hole" if vmas else "no-vma")
    first = None
    for i, vma in enumerate(vmas):
        capable = not (vma.flags & UFFD_FLAGS) and not (vma.obj is not None and vma.obj.own_placement)
        if not capable and (i > 0 or vma.end < end):
            raise Refused("multi-vma-refused")
        start, stop = max(vma.start, c.addr), min(vma.end, end)
        piece = Call(c.sim, start, stop - start, stop - start, c.flags, c.new_addr + (start - c.addr))
        piece.vma = vma
        piece.check("sealed")
        hugetlb_rules(piece, vma)
        to_resize(piece, vma)
        try:
            mremap_to(piece, checked=True)
        except Done as done:
            first = done.value if first is None else first
    raise Done(
        c.new_addr,
        "multi-vma-move" if len(vmas) > 1 or vmas[0].end < end else ("dontunmap-move" if c.dontunmap else "move-fixed"),
    )
