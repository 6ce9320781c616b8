"""mremap(2)'s rules, in the kernel's words paraphrased, with the releases they hold for.

Conditions read a call context ``c`` (see backends/sim/remap.py): the arguments, the VMA at
old_address (``c.vma``) and the address space. Errors first, in no particular order here:
the order they are checked in is each era's, in the simulator.
"""

from __future__ import annotations

from mremapctl.rules import rule

DU = ("DONTUNMAP",)
FX = ("FIXED",)
MM = ("MAYMOVE",)

# -- argument checks -------------------------------------------------------------------------

rule(
    id="flags-unknown",
    errno="EINVAL",
    topics=("flags", *DU),
    text="a flag bit the kernel does not know (before 5.7 that includes MREMAP_DONTUNMAP, 4)",
    change="mremap(2): only MAYMOVE, FIXED and (5.7+) DONTUNMAP are defined",
    when=lambda c: bool(c.flags & ~c.known_flags),
)
rule(
    id="fixed-needs-maymove",
    errno="EINVAL",
    topics=FX,
    text="MREMAP_FIXED without MREMAP_MAYMOVE",
    change="MREMAP_FIXED (2.3.31): a fixed target implies the mapping may move",
    when=lambda c: c.fixed and not c.maymove,
)
rule(
    id="dontunmap-needs-maymove",
    errno="EINVAL",
    since=(5, 7),
    topics=DU,
    text="MREMAP_DONTUNMAP without MREMAP_MAYMOVE",
    change="mm/mremap: add MREMAP_DONTUNMAP to mremap() (5.7)",
    when=lambda c: c.dontunmap and not c.maymove,
)
rule(
    id="dontunmap-raw-lengths",
    errno="EINVAL",
    since=(5, 7),
    until=(6, 17),
    topics=DU,
    text="MREMAP_DONTUNMAP with old_size != new_size, compared before page rounding",
    change="mm/mremap: add MREMAP_DONTUNMAP to mremap() (5.7)",
    when=lambda c: c.dontunmap and c.old_raw != c.new_raw,
)
rule(
    id="dontunmap-lengths",
    errno="EINVAL",
    since=(6, 17),
    topics=DU,
    text="MREMAP_DONTUNMAP with page-rounded old_size != new_size",
    change="mm/mremap: refactor initial parameter sanity checks (6.17): lengths are rounded first",
    when=lambda c: c.dontunmap and c.old_len != c.new_len,
)
rule(
    id="old-address-unaligned",
    errno="EINVAL",
    text="old_address is not page aligned",
    change="mremap(2): old_address must be page aligned",
    when=lambda c: c.addr % c.page != 0,
)
rule(
    id="new-size-zero",
    errno="EINVAL",
    text="new_size is 0 after rounding up to pages (this includes sizes near 2^64, which wrap)",
    change="mremap(2): a zero-length result is refused",
    when=lambda c: c.new_len == 0,
)
rule(
    id="new-size-over-task-size",
    errno="EINVAL",
    since=(6, 17),
    text="new_size is larger than the user address space (TASK_SIZE), for every call",
    change="mm/mremap: refactor initial parameter sanity checks (6.17)",
    when=lambda c: c.new_len > c.task_size,
)
rule(
    id="new-address-unaligned",
    errno="EINVAL",
    topics=(*FX, *DU),
    text="new_address is not page aligned (checked for FIXED, and for the DONTUNMAP hint)",
    change="mremap_to(): the target must be page aligned",
    when=lambda c: (c.fixed or c.dontunmap) and c.new_addr % c.page != 0,
)
rule(
    id="new-range-over-task-size",
    errno="EINVAL",
    topics=(*FX, *DU),
    text="the new range [new_address, +new_size) ends beyond the user address space",
    change="mremap_to(): the target must fit below TASK_SIZE",
    when=lambda c: (c.fixed or c.dontunmap) and (c.new_len > c.task_size or c.new_addr > c.task_size - c.new_len),
)
rule(
    id="ranges-overlap",
    errno="EINVAL",
    topics=(*FX, *DU),
    text="the new range overlaps the old one (also for a DONTUNMAP hint)",
    change="mremap_to(): source and target must not overlap",
    when=lambda c: (c.fixed or c.dontunmap) and c.addr < c.new_addr + c.new_len and c.new_addr < c.addr + c.old_len,
)
rule(
    id="map-count-early",
    errno="ENOMEM",
    since=(5, 1),
    topics=(*FX, *DU),
    text="a move to a new place could exceed vm.max_map_count (map count + 2 >= max - 3)",
    change="mm,mremap: bail out earlier in mremap_to under map pressure (5.1)",
    when=lambda c: (c.fixed or c.dontunmap) and c.map_count + 2 >= c.max_map_count - 3,
)

# -- the VMA at old_address ------------------------------------------------------------------

rule(
    id="no-vma",
    errno="EFAULT",
    text="nothing is mapped at old_address",
    change="vma_to_resize(); from 5.16 every call looks the VMA up first (mm, hugepages: add mremap() "
    "support for hugepage backed vma)",
    when=lambda c: c.vma is None,
)
rule(
    id="no-vma-efault-sign-bug",
    errno=None,
    since=(5, 16),
    until=(5, 18),
    text="nothing is mapped at old_address, but the kernel returns +EFAULT (the 'address' 0xe) instead of -1",
    change="bug from 'mm, hugepages: add mremap() support for hugepage backed vma' (5.16), fixed by 'mm/mremap: "
    "fix sign for EFAULT error return value' (5.18)",
    when=lambda c: c.vma is None,
)
rule(
    id="sealed-range",
    errno="EPERM",
    since=(6, 10),
    until=(6, 12),
    topics=("mseal",),
    text="a sealed VMA lies in [old_address, +old_size)",
    change="mseal: add mseal syscall (6.10)",
    when=lambda c: c.sealed_in(c.addr, c.addr + c.old_len),
)
rule(
    id="sealed",
    errno="EPERM",
    since=(6, 12),
    topics=("mseal",),
    text="the VMA at old_address is sealed (mseal), for every kind of call",
    change="mm/mremap: replace can_modify_mm with can_modify_vma (6.12)",
    when=lambda c: c.vma is not None and "sl" in c.vma.flags,
)
rule(
    id="hugetlb-refused",
    errno="EINVAL",
    until=(5, 16),
    topics=("hugetlb",),
    text="hugetlb mappings cannot be moved or grown",
    change="vma_to_resize() refused is_vm_hugetlb_page() until 5.16",
    when=lambda c: c.vma is not None and "ht" in c.vma.flags,
)
rule(
    id="hugetlb-unaligned",
    errno="EINVAL",
    since=(5, 16),
    topics=("hugetlb",),
    text="hugetlb: old_address or new_address is not huge-page aligned",
    change="mm, hugepages: add mremap() support for hugepage backed vma (5.16)",
    when=lambda c: c.vma is not None and "ht" in c.vma.flags and (c.addr % c.huge or c.new_addr % c.huge),
)
rule(
    id="hugetlb-grow",
    errno="EINVAL",
    since=(5, 16),
    topics=("hugetlb",),
    text="hugetlb: the mapping would grow (sizes are rounded up to huge pages first)",
    change="mm, hugepages: add mremap() support for hugepage backed vma (5.16)",
    when=lambda c: c.vma is not None and "ht" in c.vma.flags and c.new_len > c.old_len,
)
rule(
    id="old-size-zero-private",
    errno="EINVAL",
    since=(4, 14),
    topics=("old_size 0",),
    text="old_size 0 asks for a duplicate, which only a shared mapping can give",
    change="mm/mremap: fail map duplication attempts for private mappings (4.14)",
    when=lambda c: c.old_len == 0 and not ({"sh", "ms"} & c.vma.flags),
)
rule(
    id="dontunmap-private-anon-only",
    errno="EINVAL",
    since=(5, 7),
    until=(5, 13),
    topics=DU,
    text="MREMAP_DONTUNMAP works only on private anonymous mappings (no file, not shared)",
    change="mm/mremap: add MREMAP_DONTUNMAP to mremap() (5.7); widened in 5.13",
    when=lambda c: c.dontunmap and (not c.vma.anonymous or "sh" in c.vma.flags),
)
rule(
    id="dontunmap-dontexpand-pfnmap",
    errno="EINVAL",
    since=(5, 13),
    topics=DU,
    text="MREMAP_DONTUNMAP is refused for VM_DONTEXPAND or VM_PFNMAP mappings (VmFlags de, pf)",
    change="mm: extend MREMAP_DONTUNMAP to non-anonymous mappings (5.13, the seed)",
    when=lambda c: c.dontunmap and bool({"de", "pf"} & c.vma.flags),
)
rule(
    id="range-leaves-vma",
    errno="EFAULT",
    text="[old_address, +old_size) runs past the end of the VMA it starts in",
    change="vma_to_resize(): the old range must lie in one VMA",
    when=lambda c: c.old_len > c.vma.end - c.addr,
)
rule(
    id="grow-dontexpand-pfnmap",
    errno="EFAULT",
    text="a VM_DONTEXPAND or VM_PFNMAP mapping (VmFlags de, pf) cannot grow",
    change="vma_to_resize(): special mappings never expand",
    when=lambda c: c.new_len > c.old_len and bool({"de", "pf"} & c.vma.flags),
)
rule(
    id="mlock-limit",
    errno="EAGAIN",
    topics=("mlock",),
    text="growing a locked mapping would pass RLIMIT_MEMLOCK (without CAP_IPC_LOCK)",
    change="vma_to_resize(): locked growth is limited like mlock",
    when=lambda c: c.new_len > c.old_len and "lo" in c.vma.flags and c.mlock_over_limit(c.new_len - c.old_len),
)
rule(
    id="address-space-limit",
    errno="ENOMEM",
    text="growing would pass RLIMIT_AS",
    change="may_expand_vm()",
    when=lambda c: c.new_len > c.old_len and c.as_over_limit(c.new_len - c.old_len),
)
rule(
    id="overcommit",
    errno="ENOMEM",
    text="the overcommit policy refuses to charge the new pages",
    change="security_vm_enough_memory_mm()",
    when=lambda c: c.overcommit_refuses(),
)
rule(
    id="dontunmap-address-space",
    errno="ENOMEM",
    since=(5, 7),
    topics=DU,
    text="MREMAP_DONTUNMAP keeps the old range, so a whole extra copy must fit under RLIMIT_AS",
    change="mm/mremap: add MREMAP_DONTUNMAP to mremap() (5.7)",
    when=lambda c: c.dontunmap and c.as_over_limit(c.old_len),
)
rule(
    id="grow-blocked",
    errno="ENOMEM",
    topics=MM,
    text="cannot grow in place (the range does not end the VMA, or what follows is mapped) and MAYMOVE was not given",
    change="mremap(2): without MREMAP_MAYMOVE the mapping never moves",
    when=lambda c: not c.maymove,
)
rule(
    id="no-room",
    errno="ENOMEM",
    topics=MM,
    text="no free range of new_size exists for the move",
    change="get_unmapped_area()",
    when=lambda c: False,
)
rule(
    id="map-count",
    errno="ENOMEM",
    text="the move would exceed vm.max_map_count (map count >= max - 3)",
    change="move_vma()",
    when=lambda c: c.map_count >= c.max_map_count - 3,
)
rule(
    id="split-refused",
    errno="EINVAL",
    since=(5, 11),
    text="a special mapping (vDSO, vvar) refuses to be split: move or unmap it whole",
    change="mm: forbid splitting special mappings; mremap: check if it's possible to split original vma (5.11)",
    when=lambda c: False,
)
rule(
    id="perf-split-refused",
    errno="EINVAL",
    text="the perf ring buffer cannot be split: shrink, partial move or partial unmap are refused",
    change="perf: Prevent VMA split of buffer mappings (mainline 6.16, backported to the stable series: seen on "
    "Debian's 5.10.262, 6.1.192 and 6.12.118 and on 6.18; the models describe the stable releases here)",
)
rule(
    id="special-move-hook",
    errno="EINVAL",
    text="the mapping's own mremap hook refused the move (the vDSO moves only whole)",
    change="vdso_mremap(), aio_ring_mremap()",
    when=lambda c: False,
)
rule(
    id="target-sealed",
    errno="EPERM",
    since=(6, 10),
    topics=(*FX, "mseal"),
    text="MREMAP_FIXED would unmap a sealed VMA at the target",
    change="mseal: add mseal syscall (6.10)",
    when=lambda c: False,
)
rule(
    id="tail-sealed",
    errno="EPERM",
    since=(6, 10),
    topics=("mseal",),
    text="shrinking would unmap part of a sealed VMA",
    change="mseal: add mseal syscall (6.10)",
    when=lambda c: False,
)
rule(
    id="multi-vma-hole",
    errno="EFAULT",
    since=(6, 17),
    topics=FX,
    text="a multi-VMA FIXED move must start at a mapped address",
    change="mm/mremap: permit mremap() move of multiple VMAs (6.17)",
    when=lambda c: False,
)
rule(
    id="multi-vma-refused",
    errno="EFAULT",
    since=(6, 17),
    topics=FX,
    text="a VMA in a multi-VMA move cannot be moved that way (userfaultfd-armed, or a driver placing its "
    "own mappings); earlier VMAs stay moved",
    change="mm/mremap: permit mremap() move of multiple VMAs; catch invalid multi VMA moves earlier (6.17)",
    when=lambda c: False,
)

# -- what a successful call did ---------------------------------------------------------------

rule(
    id="same-size",
    errno=None,
    topics=MM,
    text="same size without FIXED or DONTUNMAP: nothing to do, old_address is returned (even with MAYMOVE)",
    change="mremap(2)",
)
rule(
    id="shrink",
    errno=None,
    text="shrinking in place: the tail is unmapped like munmap (it may cover other mappings and holes)",
    change="mremap(2)",
)
rule(
    id="grow-in-place",
    errno=None,
    text="the range ends its VMA and the space after it is free: the VMA is extended in place",
    change="mremap(2); from 6.1 the result may merge with the next VMA (mm: add merging after mremap resize)",
)
rule(
    id="move",
    errno=None,
    topics=MM,
    text="moved: page tables are relinked to a new range (no data is copied) and the old range is unmapped",
    change="move_vma()",
)
rule(
    id="move-fixed",
    errno=None,
    topics=FX,
    text="moved to new_address: whatever was mapped there was unmapped first, like MAP_FIXED",
    change="mremap_to()",
)
rule(
    id="duplicate",
    errno=None,
    topics=("old_size 0",),
    text="old_size 0 on a shared mapping: a second mapping of the same pages, nothing unmapped",
    change="mremap(2)",
)
rule(
    id="dontunmap-move",
    errno=None,
    since=(5, 7),
    topics=DU,
    text="moved with DONTUNMAP: the old range stays mapped without page tables; a read there faults in "
    "afresh (zero for anonymous memory, the page cache for shared or file memory)",
    change="mm/mremap: add MREMAP_DONTUNMAP to mremap() (5.7); non-anonymous since 5.13",
)
rule(
    id="multi-vma-move",
    errno=None,
    since=(6, 17),
    topics=FX,
    text="a FIXED same-size move across several VMAs: each piece moved, holes kept",
    change="mm/mremap: permit mremap() move of multiple VMAs (6.17)",
)
rule(
    id="dontunmap-source-account",
    errno=None,
    since=(6, 16),
    until=(6, 18),
    topics=DU,
    text="the DONTUNMAP source loses VM_ACCOUNT (ac) — a regression",
    change="mm/mremap: complete refactor of move_vma() (6.16); fixed by 'mm/mremap: correctly account old "
    "mapping after MREMAP_DONTUNMAP remap' (6.18)",
)
rule(
    id="dontunmap-unlocks-source",
    errno=None,
    since=(5, 7),
    topics=(*DU, "mlock"),
    text="DONTUNMAP clears VM_LOCKED (lo) on the old range; the lock moves to the new one",
    change="mm/mremap: add MREMAP_DONTUNMAP to mremap() (5.7)",
)
