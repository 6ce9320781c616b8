"""``try``'s one experiment, built as an ordinary scenario so it can be saved and replayed.

The scenario maps a region called ``old``, optionally locks or seals it, mremaps it (the
result is called ``new``), then reads both ranges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from mremapctl import flags as F
from mremapctl.calls import errno_message
from mremapctl.errors import BadInput
from mremapctl.expr import AddrExpr, SizeExpr
from mremapctl.kinds import KINDS
from mremapctl.lab import GiB, align_up
from mremapctl.results import FAILED, SKIPPED, Run
from mremapctl.scenario.load import Scenario, validate, writes_into_user_files
from mremapctl.scenario.steps import Mlock, Mmap, Mremap, Mseal, Read, Step


@dataclass
class TryOptions:
    kind: str = "anon"
    shared: Optional[bool] = None
    hugetlb: bool = False
    dir: Optional[str] = None
    path: Optional[str] = None
    writable: bool = False
    size: Optional[str] = None
    prot: str = "rw"
    fill: Optional[str] = "A"
    mlock: bool = False
    mseal: bool = False
    locked: bool = False
    old_size: Optional[str] = None
    new_size: Optional[str] = None
    maymove: bool = False
    fixed: Optional[str] = None  # "" = a free spot in the lab
    dontunmap: bool = False
    raw_flags: Optional[int] = None
    offset: Optional[str] = None
    grow: bool = False
    shrink: bool = False
    notes: List[str] = field(default_factory=list)


def _pages_text(value: int, page: int) -> str:
    return f"{value // page}p" if value % page == 0 and value else str(value)


def flag_bits(opts: TryOptions) -> Tuple[int, List[str]]:
    """The mremap flags, and a note for each flag implied rather than asked for."""
    if opts.raw_flags is not None:
        if opts.maymove or opts.dontunmap or opts.fixed == "":
            raise BadInput("--raw-flags gives the exact bits: drop --maymove and --dontunmap (--fixed ADDR may stay)")
        return opts.raw_flags, []
    bits, notes = 0, []
    if opts.maymove:
        bits |= F.MREMAP_MAYMOVE
    if opts.fixed is not None:
        bits |= F.MREMAP_FIXED
    if opts.dontunmap:
        bits |= F.MREMAP_DONTUNMAP
    for flag, option in ((F.MREMAP_DONTUNMAP, "--dontunmap"), (F.MREMAP_FIXED, "--fixed")):
        if bits & flag and not bits & F.MREMAP_MAYMOVE:
            bits |= F.MREMAP_MAYMOVE
            notes.append(
                f"{option} implies MREMAP_MAYMOVE (the kernel refuses it without); --raw-flags sends exact bits"
            )
    return bits, notes


def build(opts: TryOptions, page_size: int, words: Optional[Dict[str, str]] = None) -> Tuple[Scenario, List[str]]:
    """The scenario ``try`` runs, and notes to show the user (``words``: the CLI's names for the keys)."""
    if opts.grow and opts.shrink:
        raise BadInput("--grow and --shrink exclude each other")
    if (opts.grow or opts.shrink) and opts.new_size is not None:
        raise BadInput("--grow/--shrink choose the new size: drop --new-size")
    bits, notes = flag_bits(opts)
    steps: List[Step] = [_mmap_step(opts)]
    if opts.mlock:
        steps.append(Mlock(at=AddrExpr("old")))
    if opts.mseal:
        steps.append(Mseal(at=AddrExpr("old")))
    steps.append(_mremap_step(opts, bits, page_size))
    steps += [Read(at=AddrExpr("old")), Read(at=AddrExpr("new"))]
    validate(tuple(steps), "try", words)
    return Scenario(tuple(steps), description=describe(opts, bits)), notes + writes_into_user_files(tuple(steps))


def _mmap_step(opts: TryOptions) -> Mmap:
    return Mmap(
        name="old",
        kind=opts.kind,
        shared=opts.shared,
        size=SizeExpr(opts.size) if opts.size else None,
        prot=opts.prot,
        fill=opts.fill,
        locked=opts.locked,
        hugetlb=opts.hugetlb,
        dir=opts.dir,
        path=opts.path,
        writable=opts.writable,
    )


def _sizes(opts: TryOptions, page_size: int) -> Tuple[Optional[int], int, Optional[int], Optional[int]]:
    """(region size, offset, old_size, new_size) in bytes; None where the kernel decides the size."""
    size_text = opts.size or KINDS[opts.kind].default_size
    region = SizeExpr(size_text).resolve(page_size) if size_text is not None else None
    offset = SizeExpr(opts.offset).resolve(page_size) if opts.offset else 0
    if opts.old_size is not None:
        old_size: Optional[int] = SizeExpr(opts.old_size).resolve(page_size)
    else:
        old_size = region - offset if region is not None else None
    if old_size is not None and old_size < 0:
        raise BadInput(f"--offset {opts.offset} is beyond the region's size")
    if opts.new_size is not None:
        new_size: Optional[int] = SizeExpr(opts.new_size).resolve(page_size)
    else:  # old_size 0 asks for a duplicate: of the whole region unless told otherwise
        new_size = region if old_size == 0 else old_size
    if opts.grow or opts.shrink:
        if old_size is None:
            raise BadInput(f"kind {opts.kind!r} has a kernel-chosen size: give --old-size and --new-size")
        new_size = old_size * 2 if opts.grow else old_size // 2 // page_size * page_size
        if opts.shrink and new_size == 0:
            raise BadInput(f"--shrink halves old_size to whole pages: {old_size} bytes is less than two pages")
    return region, offset, old_size, new_size


def _mremap_step(opts: TryOptions, bits: int, page_size: int) -> Mremap:
    region, offset, old_size, new_size = _sizes(opts, page_size)
    new_address = None
    if opts.fixed:  # with --raw-flags too: the bits are exact, the address is where FIXED goes
        new_address = AddrExpr(opts.fixed)
    elif opts.fixed is not None or bits & F.MREMAP_FIXED:  # a free spot: the next GiB the region leaves alone
        end = max(region or page_size, new_size or 0)
        new_address = AddrExpr(f"lab+{align_up(end + 1, GiB) // GiB}G")
    explicit_old = old_size is not None and (offset or opts.old_size is not None)
    return Mremap(
        old=AddrExpr(f"old+{_pages_text(offset, page_size)}" if offset else "old"),
        old_size=SizeExpr(_pages_text(old_size, page_size)) if explicit_old and old_size is not None else None,
        new_size=SizeExpr(_pages_text(new_size, page_size)) if new_size is not None and new_size != old_size else None,
        flags=tuple(F.mremap_flag_names(bits)) if opts.raw_flags is None else (),
        raw=opts.raw_flags,
        new_address=new_address,
        name="new",
    )


def describe(opts: TryOptions, bits: int) -> str:
    flags = F.decode_flags(bits, F.MREMAP_FLAGS, "MREMAP_")
    return f"try: {opts.kind} region, mremap with {flags}"


READ_LABELS = ("old range", "new range")

# Why a setup call of `try` fails, in a few words (the errno alone rarely says it).
SETUP_REASONS = {
    ("mmap", "EINVAL"): "mmap refuses a zero length, and flags or a size the kind does not allow",
    ("mmap", "ENODEV"): "this file cannot be mapped",
    ("mmap", "EAGAIN"): "MAP_LOCKED would exceed RLIMIT_MEMLOCK",
    ("mmap", "ENOMEM"): "no room, or the overcommit limit",
    ("mmap", "EACCES"): "the file's open mode does not allow this protection",
    ("mmap", "EPERM"): "not permitted (a seal, or an operation that needs privilege)",
    ("mlock", "ENOMEM"): "over RLIMIT_MEMLOCK, or part of the range is not mapped",
    ("mlock", "EPERM"): "not permitted: RLIMIT_MEMLOCK is 0 and CAP_IPC_LOCK is missing",
    ("mseal", "ENOSYS"): "this kernel has no mseal() (6.10+)",
    ("mseal", "EINVAL"): "this kernel refuses mseal() here (on 32-bit, or a bad range)",
}


def not_carried_out(run: Run) -> Optional[str]:
    """Why `try`'s experiment did not happen: its mremap was skipped because a setup call failed."""
    mremap = next((s for s in run.steps if s.op == "mremap"), None)
    if mremap is None or mremap.status != SKIPPED:
        return None
    failed = next((s for s in run.steps if s.status == FAILED), None)
    if failed is None or failed.errno is None:
        return "its setup did not complete, so the mremap was not called"
    reason = SETUP_REASONS.get((failed.op, failed.errno), errno_message(failed.errno))
    return f"{failed.call} failed with {failed.errno} ({reason}), so the mremap was not called"
