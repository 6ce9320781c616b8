"""Plain sentences for students (`--explain`): what the kernel did in a step, and why.

Built from the rules data: a rule's one-line text and the kernel change it comes from,
plus a few sentences of context for the rules a student meets first.
"""

from __future__ import annotations

from typing import Dict, Optional

from mremapctl.results import StepResult
from mremapctl.rules import all_rules

CONTEXT: Dict[str, str] = {
    "same-size": "Without MREMAP_FIXED or MREMAP_DONTUNMAP there is nothing to move, so even MAYMOVE changes "
    "nothing: the kernel hands back the old address.",
    "grow-in-place": "The pages already there stay where they are; only the VMA's end moves, so no data or page "
    "table is touched.",
    "move": "The kernel found no room to grow in place and MAYMOVE allowed it to relocate: the page tables "
    "were moved to a fresh range, then the old range was unmapped like munmap.",
    "move-fixed": "MREMAP_FIXED names the destination, and whatever was mapped there is thrown away first, "
    "exactly like mmap with MAP_FIXED.",
    "duplicate": "old_size 0 does not move anything: it maps the same shared pages a second time, so a write "
    "through either address shows through the other.",
    "dontunmap-move": "The data now lives at the new address, but the old VMA stays. Touching the old range "
    "faults afresh: anonymous memory comes back zero-filled, shared or file memory comes back "
    "from the page cache. A garbage collector registers the old range with userfaultfd to "
    "catch those faults.",
    "grow-blocked": "Growing in place needs free address space right after the mapping. Without MAYMOVE the "
    "kernel may not move it elsewhere, so it gives up with ENOMEM.",
    "dontunmap-private-anon-only": "Before Linux 5.13, MREMAP_DONTUNMAP was written for private anonymous "
    "heaps only; the 5.13 change opened it to shared memory for the Android "
    "userfaultfd garbage collector.",
    "dontunmap-dontexpand-pfnmap": "Since 5.13 DONTUNMAP works on any mapping except those marked "
    "VM_DONTEXPAND or VM_PFNMAP (VmFlags de, pf): driver and special "
    "mappings whose pages cannot simply fault in again.",
    "flags-unknown": "The kernel checks the flag bits before anything else and refuses any it does not define.",
    "old-size-zero-private": "A duplicate of a private mapping would not share anything, so since 4.14 the "
    "kernel refuses it instead of silently creating an unrelated mapping.",
    "range-leaves-vma": "Resizing or moving works on one VMA at a time; the old range must not run past it.",
    "grow-dontexpand-pfnmap": "Special mappings (VmFlags de or pf) have a fixed size chosen by their driver.",
    "sealed": "mseal made the VMA immutable: it can no longer be moved, resized or unmapped.",
    "no-vma": "There is no mapping at old_address, so there is nothing to remap.",
}

READS = {
    "zero": "zero means the page's first byte is 0: a freshly faulted anonymous page, or a file, shared or "
    "kernel page that holds 0 there.",
    "SIGSEGV": "SIGSEGV means nothing readable is mapped there (or the page is a guard page).",
    "SIGBUS": "SIGBUS means the VMA is there but the page behind it is not, e.g. past the end of a file.",
    "uffd": "uffd means the access would wait for a userfaultfd handler: the range is registered and the page "
    "is missing.",
}


def explain_step(step: StepResult) -> Optional[str]:
    """Two or three sentences for a student, or None when there is nothing to add."""
    if step.status == "skipped":
        return "This step was skipped because it works on a region an earlier step failed to create."
    if step.op == "read" and step.pages:
        said = {READS[p] for p in step.pages if p in READS}
        data = any(p.startswith("data:") for p in step.pages)
        parts = (
            ["data:X means the page holds what was written there (its first byte is X)."] if data else []
        ) + sorted(said)
        return " ".join(parts) or None
    rule = all_rules().get(step.rule or "")
    if rule is None:
        return None
    # The rule's own line is printed with the call; here: why, and where it comes from.
    text = CONTEXT.get(rule.id, "")
    versions = "every version modelled" if rule.versions == "all" else f"Linux {rule.versions}"
    return (text + " " if text else "") + f"({versions}; {rule.change}.)"
