"""Kernel versions and the models that stand for them.

A model is named by the first mainline release whose mremap behaves as it describes, and
covers every release up to the next model. Each carries the user-visible changes that begin
with it, cited by commit title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

from mremapctl.errors import BadInput

Version = Tuple[int, int]


@dataclass(frozen=True)
class Model:
    version: Version
    changes: Tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def span(self) -> str:
        """The releases this model stands for: "5.11–5.12", "6.18+"."""
        later = [m for m in MODELS if m.version > self.version]
        if not later:
            return f"{self.name}+"
        major, minor = later[0].version
        last = f"{major}.{minor - 1}" if minor else {6: "5.19"}.get(major, f"{major - 1}.x")
        return self.name if last == self.name else f"{self.name}–{last}"


MODELS: Tuple[Model, ...] = (
    Model(
        (5, 4),
        (
            "the oldest model: MREMAP_MAYMOVE and MREMAP_FIXED; flag 4 is unknown (EINVAL)",
            "old_size 0 on a private mapping is EINVAL (4.14, 'mm/mremap: fail map duplication attempts "
            "for private mappings')",
            "moves to a fixed address bail out early under map-count pressure (5.1, 'mm,mremap: bail out earlier "
            "in mremap_to under map pressure')",
        ),
    ),
    Model(
        (5, 7),
        ("MREMAP_DONTUNMAP, for private anonymous mappings only ('mm/mremap: add MREMAP_DONTUNMAP to mremap()')",),
    ),
    Model(
        (5, 11),
        (
            "special mappings refuse partial moves and shrinks: EINVAL ('mm: forbid splitting special "
            "mappings', 'mremap: check if it's possible to split original vma')",
            "DONTUNMAP's copy is checked against the overcommit policy first ('mm/mremap: for "
            "MREMAP_DONTUNMAP check security_vm_enough_memory_mm()')",
        ),
    ),
    Model(
        (5, 13),
        (
            "the seed: DONTUNMAP works on any mapping without VM_DONTEXPAND or VM_PFNMAP ('mm: extend "
            "MREMAP_DONTUNMAP to non-anonymous mappings')",
        ),
    ),
    Model(
        (5, 16),
        (
            "hugetlb mappings can be moved and shrunk, huge-page aligned, never grown ('mm, hugepages: add "
            "mremap() support for hugepage backed vma')",
            "every call looks up the VMA at old_address first: shrinking unmapped memory is an error",
            "bug: that error came back as the address 0xe instead of -1 EFAULT (5.16-5.17)",
        ),
    ),
    Model((5, 18), ("the EFAULT sign is fixed ('mm/mremap: fix sign for EFAULT error return value')",)),
    Model(
        (6, 1), ("growing in place merges with the next VMA when compatible ('mm: add merging after mremap resize')",)
    ),
    Model((6, 10), ("mseal(2): mremap of a range holding a sealed VMA fails with EPERM ('mseal: add mseal syscall')",)),
    Model(
        (6, 12),
        (
            "sealing is checked on the VMA at old_address only, right after the lookup ('mm/mremap: "
            "replace can_modify_mm with can_modify_vma')",
        ),
    ),
    Model(
        (6, 16),
        (
            "refactor: parameter checks and the map-count limit come before the VMA lookup ('mm/mremap: "
            "refactor mremap() system call implementation')",
            "regression: a DONTUNMAP source loses VM_ACCOUNT ('mm/mremap: complete refactor of move_vma()')",
        ),
    ),
    Model(
        (6, 17),
        (
            "MREMAP_FIXED same-size moves may span several VMAs and holes ('mm/mremap: permit mremap() "
            "move of multiple VMAs')",
            "lengths are page-rounded before DONTUNMAP's equal-length check; new_size beyond TASK_SIZE "
            "is EINVAL for every call ('mm/mremap: refactor initial parameter sanity checks')",
        ),
    ),
    Model(
        (6, 18),
        (
            "a DONTUNMAP source keeps VM_ACCOUNT again ('mm/mremap: correctly account old mapping after "
            "MREMAP_DONTUNMAP remap')",
            "smaps shows gu (VM_MAYBE_GUARD) on VMAs with guard regions (as on the 6.18.44 reference build)",
        ),
    ),
)

_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.\d+)?(?:[-+~].*)?$")


def parse_version(text: str) -> Version:
    match = _VERSION.match(text.strip())
    if not match:
        raise BadInput(f"bad kernel version {text!r}: expected MAJOR.MINOR such as 5.13 (models: {model_names()})")
    return int(match.group(1)), int(match.group(2))


def model_names() -> str:
    return ", ".join(m.name for m in MODELS)


def resolve(text: Optional[str], default: Optional[str] = None) -> Tuple[Model, Optional[str]]:
    """The model for a version, and a note when it is not an exact model (or was defaulted)."""
    requested = text if text is not None else default
    if requested is None:
        return MODELS[-1], f"no kernel given: the newest model, {MODELS[-1].name}"
    version = parse_version(requested)
    if version < MODELS[0].version:
        raise BadInput(
            f"kernel {requested!r} is older than the oldest model ({MODELS[0].name}); models: {model_names()}"
        )
    newest = MODELS[-1]
    if version > newest.version and version[0] > newest.version[0] + 1:
        raise BadInput(f"kernel {requested!r} is not a Linux version we know; models: {model_names()}")
    chosen = [m for m in MODELS if m.version <= version][-1]
    note = None
    if chosen.version != version:
        note = f"{requested} has no model of its own: the nearest older model, {chosen.name}, covers {chosen.span}"
    return chosen, note


def models_between(low: str, high: str) -> List[Model]:
    lo, hi = parse_version(low), parse_version(high)
    return [m for m in MODELS if lo <= m.version <= hi]
