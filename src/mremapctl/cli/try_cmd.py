"""``mremapctl try``: one experiment from flags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

import click

from mremapctl.cli import complete
from mremapctl.cli.common import run_options
from mremapctl.cli.output import Output, refuse_together
from mremapctl.cli.params import ADDRESS, BARE, SIZE, OutputFile, ScenarioValue, or_bare, write_text
from mremapctl.kinds import KINDS
from mremapctl.scenario import values as V

if TYPE_CHECKING:
    from pathlib import Path

# `try`'s names for the mmap keys, so a refusal names the option the user typed.
TRY_WORDS = {
    "kind": "--{kind}",
    "shared": "--shared",
    "private": "--private",
    "fill": "--fill",
    "hugetlb": "--huge",
    "dir": "--dir",
    "path": "--file PATH",
    "writable": "--writable",
}

# The kind whose flag takes a path (--file [PATH]); every other kind is a plain flag.
PATH_KIND = next(name for name, kind in KINDS.items() if kind.takes_path)

OPTIONS: List[Callable[[Any], Any]] = [
    *(
        click.option(f"--{name}", f"kind_{name}", is_flag=True, help=kind.summary + ".")
        for name, kind in KINDS.items()
        if not kind.takes_path
    ),
    click.option(
        f"--{PATH_KIND}",
        "file",
        is_flag=False,
        flag_value=BARE,
        default=None,
        type=ScenarioValue(or_bare(V.existing_file), "PATH"),
        metavar="[PATH]",
        help="A file mapping: a new temporary file, or your existing regular file PATH. PATH is never written "
        "unless you ask twice: --writable (open it read-write, map it shared) and --fill (write the fill byte).",
    ),
    click.option(
        "--kind",
        "kind_name",
        type=ScenarioValue(V.kind, "KIND"),
        shell_complete=complete.kinds,
        help="The mapping kind by name (as the flags above).",
    ),
    click.option("--private", is_flag=True, help="MAP_PRIVATE (memfd, file, devzero)."),
    click.option("--shared", is_flag=True, help="MAP_SHARED (memfd, file, devzero)."),
    click.option("--huge", is_flag=True, help="Huge pages for memfd/shmem (MFD_HUGETLB / MAP_HUGETLB)."),
    click.option(
        "--dir", "directory", type=ScenarioValue(V.directory, "DIR"), help="Where --file makes its temporary file."
    ),
    click.option(
        "--writable",
        is_flag=True,
        help="Open --file PATH read-write and map it shared: writes through the mapping reach the file.",
    ),
    click.option("--size", type=SIZE, help="Region size: bytes, or 4p (pages), 16K, 2M, 1G. [default: 4p]"),
    click.option(
        "--prot", type=ScenarioValue(V.prot, "PROT"), default="rw", show_default=True, help="r, rw, rwx, none …"
    ),
    click.option(
        "--fill/--no-fill",
        default=None,
        help="Write the fill byte to every page first. [default: fill, except perf, vdso and aio, whose "
        "contents the kernel owns, and your own --file PATH]",
    ),
    click.option(
        "--fill-byte",
        type=ScenarioValue(V.byte, "CHAR"),
        default="A",
        show_default=True,
        help="The fill byte: one character, or 0x00..0xff.",
    ),
    click.option("--mlock", is_flag=True, help="mlock() the region before the mremap."),
    click.option("--locked", is_flag=True, help="Map it with MAP_LOCKED."),
    click.option("--mseal", is_flag=True, help="mseal() the region before the mremap (6.10+)."),
    click.option("--old-size", type=SIZE, help="mremap old_size (0 allowed; bytes allowed). [default: the region]"),
    click.option("--new-size", type=SIZE, help="mremap new_size. [default: old_size]"),
    click.option("--maymove", is_flag=True, help="MREMAP_MAYMOVE."),
    click.option(
        "--fixed",
        is_flag=False,
        flag_value=BARE,
        default=None,
        type=ScenarioValue(or_bare(ADDRESS.convert_value), "ADDR"),
        metavar="[ADDR]",
        help="MREMAP_FIXED to ADDR (an address expression such as lab+2G); default: a free spot in the lab.",
    ),
    click.option("--dontunmap", is_flag=True, help="MREMAP_DONTUNMAP (adds MREMAP_MAYMOVE, and says so)."),
    click.option(
        "--raw-flags",
        type=ScenarioValue(V.raw_flags, "INT"),
        help="Exact flag bits 0..0xffffffff, undefined ones included (e.g. 0x9); --fixed ADDR gives new_address.",
    ),
    click.option(
        "--hint",
        type=ADDRESS,
        metavar="ADDR",
        help="new_address without MREMAP_FIXED: where --dontunmap asks the kernel to put the copy (a hint).",
    ),
    click.option(
        "--onto",
        is_flag=True,
        help="MREMAP_FIXED onto an existing mapping: first map an anonymous 'target' (filled with T), one page "
        "longer than the move, at the --fixed address.",
    ),
    click.option(
        "--uffd",
        type=click.Choice(list(V.UFFD_MODES)),
        help="Register the region with userfaultfd in this mode before the mremap (UFFDIO_REGISTER).",
    ),
    click.option(
        "--populate",
        type=click.Choice(list(V.POPULATE_ADVICE)),
        help="Fault the pages in without writing data: MADV_POPULATE_READ or _WRITE (5.14+; implies --no-fill).",
    ),
    click.option(
        "--thp",
        type=click.Choice(list(V.THP_ADVICE)),
        help="Transparent huge pages: MADV_HUGEPAGE or MADV_NOHUGEPAGE, before the region is first touched.",
    ),
    click.option("--offset", type=SIZE, help="Start the mremap this far into the region."),
    click.option("--grow", is_flag=True, help="new_size = 2 × old_size."),
    click.option("--shrink", is_flag=True, help="new_size = old_size / 2."),
    click.option(
        "--save-scenario",
        type=OutputFile(),
        metavar="FILE",
        help="Also write the experiment as a scenario file (replay it with `mremapctl run FILE`).",
    ),
]


def _try_options(func: Any) -> Any:
    for option in reversed(OPTIONS):
        func = option(func)
    return func


def _chosen_kind(opts: Dict[str, Any]) -> str:
    """The one kind the flags name (anon when none does); two different kinds are refused."""
    chosen = [f"--{name}" for name in KINDS if opts.get(f"kind_{name}")]
    if opts["file"] is not None:
        chosen.append(f"--{PATH_KIND}")
    if opts["kind_name"]:
        chosen.append(f"--kind {opts['kind_name']}")
    names = {c.removeprefix("--kind ").removeprefix("--") for c in chosen}
    if len(names) > 1:
        raise click.UsageError(f"{' and '.join(chosen)} exclude each other: choose one kind")
    return names.pop() if names else "anon"


def _sharing(opts: Dict[str, Any]) -> Optional[bool]:
    refuse_together(opts, "private", "shared")
    return True if opts["shared"] else False if opts["private"] else None


def _wants_fill(fill: Optional[bool], kind: str, path: Optional[str], populate: Optional[str]) -> bool:
    """Fill unless told not to, except kernel-owned contents, a user's own file (never by default),
    and --populate (which faults pages in without writing them)."""
    if fill is not None:
        return fill
    return KINDS[kind].fillable and path is None and populate is None


def _save(path: Optional[Path], text: str) -> Optional[Path]:
    """Write the scenario if asked to; the path written, for the confirmation line."""
    if path is not None:
        write_text(path, text, "scenario")
    return path


@click.command("try", context_settings={"max_content_width": 100})
@_try_options
@run_options
def try_cmd(output: Output, **opts: Any) -> None:
    """Map a region of a chosen kind, mremap it with chosen flags, and show what happened:
    the call and its result or errno, the maps diff, and what the old and new ranges read now.

    \b
    Examples:
      mremapctl try --memfd --dontunmap            # shared memfd: old range still reads the data
      mremapctl try --anon --dontunmap             # private anon: old range reads zero
      mremapctl try --anon --maymove --grow        # grows in place (the lab leaves room)
      mremapctl try --perf --dontunmap             # EINVAL: VM_PFNMAP|VM_DONTEXPAND (de, pf)
      mremapctl try --anon --fixed                 # move to a free spot in the lab
      mremapctl try --shmem --old-size 0 --maymove # old_size 0 duplicates a shared mapping
      mremapctl try --anon --raw-flags 0x9         # an undefined flag bit: EINVAL
      mremapctl try --anon --dontunmap --smaps     # Rss: the old range is left empty
      mremapctl try --dontunmap --uffd missing     # the GC flip: the old range faults to a handler
      mremapctl try --anon --fixed --onto          # FIXED onto a mapping: that part of it is unmapped
      mremapctl try --memfd --dontunmap --json     # schema-1 JSON for scripts
    """
    from mremapctl.cli.execute import run_and_show
    from mremapctl.experiment import READ_LABELS, TryOptions, build, not_carried_out
    from mremapctl.scenario.dump import dump_scenario

    kind = _chosen_kind(opts)
    path = None if opts["file"] in (None, BARE) else opts["file"]
    try_opts = TryOptions(
        kind=kind,
        shared=_sharing(opts),
        hugetlb=opts["huge"],
        dir=opts["directory"],
        path=path,
        writable=opts["writable"],
        size=opts["size"],
        prot=opts["prot"],
        fill=opts["fill_byte"] if _wants_fill(opts["fill"], kind, path, opts["populate"]) else None,
        mlock=opts["mlock"],
        mseal=opts["mseal"],
        locked=opts["locked"],
        old_size=opts["old_size"],
        new_size=opts["new_size"],
        maymove=opts["maymove"],
        fixed=None if opts["fixed"] is None else "" if opts["fixed"] == BARE else opts["fixed"],
        dontunmap=opts["dontunmap"],
        raw_flags=opts["raw_flags"],
        offset=opts["offset"],
        grow=opts["grow"],
        shrink=opts["shrink"],
        uffd=opts["uffd"],
        hint=opts["hint"],
        onto=opts["onto"],
        populate=opts["populate"],
        thp=opts["thp"],
    )
    run_and_show(
        output,
        opts,
        lambda page: build(try_opts, page, TRY_WORDS),
        READ_LABELS,
        save=lambda scenario: _save(opts["save_scenario"], dump_scenario(scenario)),
        not_carried_out=not_carried_out,
    )
