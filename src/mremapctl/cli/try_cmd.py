"""``mremapctl try``: one experiment from flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import click

from mremapctl.cli.common import Output, run_options
from mremapctl.kinds import KINDS

KIND_FLAGS = [
    click.option(f"--{name}", "kind", flag_value=name, help=kind.summary + ".")
    for name, kind in KINDS.items()
    if name != "file"
]


def _kind_options(func: Any) -> Any:
    for option in reversed(KIND_FLAGS):
        func = option(func)
    return func


def _parse_int(value: Optional[str]) -> Optional[int]:
    if value is None:
        return None
    from mremapctl.errors import BadInput

    try:
        return int(value, 0)
    except ValueError:
        raise BadInput(f"bad --raw-flags {value!r}: expected an integer such as 5 or 0x5") from None


def _save(path: Optional[Path], text: str) -> Optional[Path]:
    """Write the scenario if asked to; the path written, for the confirmation line."""
    if path is None:
        return None
    try:
        path.write_text(text)
    except OSError as err:
        from mremapctl.errors import BadInput

        raise BadInput(f"cannot write {str(path)!r}: {err.strerror}") from None
    return path


def _wants_fill(fill: Optional[bool], kind: str) -> bool:
    return fill if fill is not None else KINDS[kind].fillable


@click.command("try", context_settings={"max_content_width": 100})
@_kind_options
@click.option(
    "--file",
    "file",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[PATH]",
    help="A file mapping: a new temporary file, or the existing PATH (mapped private and read-only "
    "to the file unless --writable).",
)
@click.option("--kind", "kind_name", metavar="KIND", help="The mapping kind by name (same as the flags above).")
@click.option("--private", "shared", flag_value=False, default=None, help="MAP_PRIVATE (memfd, file, devzero).")
@click.option("--shared", "shared", flag_value=True, help="MAP_SHARED (memfd, file, devzero).")
@click.option("--huge", is_flag=True, help="Huge pages for memfd/shmem (MFD_HUGETLB / MAP_HUGETLB).")
@click.option("--dir", "directory", metavar="DIR", help="Where --file makes its temporary file (tmpfs vs disk).")
@click.option("--writable", is_flag=True, help="Allow writes to the --file PATH (needed to map it shared).")
@click.option("--size", metavar="SIZE", help="Region size: bytes, or 4p (pages), 16K, 2M, 1G. [default: 4p]")
@click.option("--prot", default="rw", show_default=True, help="Protection: r, rw, rwx, none …")
@click.option(
    "--fill/--no-fill",
    default=None,
    help="Write the fill byte to every page first. [default: fill, except perf, vdso and aio, whose "
    "contents the kernel owns]",
)
@click.option("--fill-byte", default="A", show_default=True, metavar="CHAR", help="The fill byte (or 0xNN).")
@click.option("--mlock", is_flag=True, help="mlock() the region before the mremap.")
@click.option("--locked", is_flag=True, help="Map it with MAP_LOCKED.")
@click.option("--mseal", is_flag=True, help="mseal() the region before the mremap (6.10+).")
@click.option("--old-size", metavar="SIZE", help="mremap old_size (0 allowed; bytes allowed). [default: the region]")
@click.option("--new-size", metavar="SIZE", help="mremap new_size. [default: old_size]")
@click.option("--maymove", is_flag=True, help="MREMAP_MAYMOVE.")
@click.option(
    "--fixed",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[ADDR]",
    help="MREMAP_FIXED to ADDR (an address expression such as lab+2G); default: a free spot in the lab.",
)
@click.option("--dontunmap", is_flag=True, help="MREMAP_DONTUNMAP (adds MREMAP_MAYMOVE, and says so).")
@click.option("--raw-flags", metavar="INT", help="Exact flag bits, undefined ones included (e.g. 0x9).")
@click.option("--offset", metavar="SIZE", help="Start the mremap this far into the region.")
@click.option("--grow", is_flag=True, help="new_size = 2 × old_size.")
@click.option("--shrink", is_flag=True, help="new_size = old_size / 2.")
@click.option(
    "--save-scenario",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Also write the experiment as a scenario file (replay it with `mremapctl run FILE`).",
)
@run_options
def try_cmd(**opts: Any) -> None:
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
      mremapctl try --memfd --dontunmap --json     # schema-1 JSON for scripts
    """
    from mremapctl.cli.execute import run_and_show
    from mremapctl.experiment import READ_LABELS, TryOptions, build
    from mremapctl.scenario.dump import dump_scenario

    kind = opts["kind_name"] or ("file" if opts["file"] is not None else opts["kind"]) or "anon"
    if opts["kind_name"] and opts["kind_name"] not in KINDS:
        from mremapctl.errors import BadInput

        raise BadInput(f"unknown kind {opts['kind_name']!r}: known kinds are {', '.join(KINDS)}")
    try_opts = TryOptions(
        kind=kind,
        shared=opts["shared"],
        hugetlb=opts["huge"],
        dir=opts["directory"],
        path=opts["file"] or None,
        writable=opts["writable"],
        size=opts["size"],
        prot=opts["prot"],
        fill=opts["fill_byte"] if _wants_fill(opts["fill"], kind) else None,
        mlock=opts["mlock"],
        mseal=opts["mseal"],
        locked=opts["locked"],
        old_size=opts["old_size"],
        new_size=opts["new_size"],
        maymove=opts["maymove"],
        fixed=opts["fixed"],
        dontunmap=opts["dontunmap"],
        raw_flags=_parse_int(opts["raw_flags"]),
        offset=opts["offset"],
        grow=opts["grow"],
        shrink=opts["shrink"],
    )
    output = Output(json=opts["as_json"], color=opts["color"])
    run_and_show(
        output,
        opts,
        lambda page: build(try_opts, page),
        READ_LABELS,
        save=lambda scenario: _save(opts["save_scenario"], dump_scenario(scenario)),
    )
