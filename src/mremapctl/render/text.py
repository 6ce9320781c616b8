"""Rich renderings of a Run: the header, strace-style call lines, maps diffs, contents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, List, Optional, Sequence, Tuple

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from mremapctl.calls import errno_message
from mremapctl.flags import DONTUNMAP_BLOCKERS
from mremapctl.pages import summarise_runs
from mremapctl.render.fit import fits
from mremapctl.render.memory import memory_view
from mremapctl.render.picture import band, legend
from mremapctl.results import CRASHED, SKIPPED, DiffRow, MapEntry, Run, StepResult, diff_maps
from mremapctl.teach import explain_step
from mremapctl.units import format_size


def indent(renderable: RenderableType) -> Padding:
    """Three spaces in, and no padding to the right (piped output has no trailing spaces)."""
    return Padding(renderable, (0, 0, 0, 3), expand=False)


STATUS_STYLE = {"added": "green", "removed": "red", "changed": "yellow", "unchanged": "dim"}


def header(run: Run) -> Text:
    text = Text()
    text.append("backend ", style="dim").append(run.backend, style="bold")
    text.append(" · kernel ", style="dim").append(run.kernel, style="bold")
    text.append(" · page ", style="dim").append(format_size(run.page_size))
    text.append(" · lab ", style="dim").append(f"{run.lab_start:#x}–{run.lab_end:#x}")
    for note in run.notes:
        text.append(f"\n{note}", style="dim")
    return text


def result_text(step: StepResult) -> Text:
    if step.status == SKIPPED:
        return Text(step.note or "skipped", style="dim")
    if step.status == CRASHED:
        return Text(f"crashed: {step.note}", style="bold red")
    if step.errno:
        if step.op == "write":
            return Text(f"{step.errno} on access", style="bold red")
        return Text(f"-1 {step.errno} ({errno_message(step.errno)})", style="bold red")
    if step.runs is not None:
        return Text(summarise_runs(step.runs))
    if step.answer is not None:
        return Text(step.answer, style="bold")
    if step.address is not None and step.op in ("mmap", "mremap"):
        return Text(hex(step.address), style="bold green")
    return Text("0", style="green")


def call_line(step: StepResult, numbered: bool = True) -> Text:
    line = Text(f"{step.index:>2} ", style="dim") if numbered else Text()
    if step.status == SKIPPED:
        return line.append(f"{step.op}: ").append(result_text(step))
    line.append(step.call).append(" = ").append(result_text(step))
    if step.expect is not None and step.expect_met is not None:
        line.append(
            "  ✓ expected" if step.expect_met else f"  ✗ expected {step.expect}",
            style="green" if step.expect_met else "bold red",
        )
    return line


def call_block(step: StepResult, numbered: bool = True) -> Group:
    """The call line, then its note and (for mremap) the deciding rule, indented when they wrap."""
    parts: List[Any] = [call_line(step, numbered)]
    if step.note and step.status not in (CRASHED, SKIPPED):  # those carry the note in the call line
        parts.append(indent(Text(step.note, style="yellow" if "⚠" in step.note else "dim")))
    if step.rule and step.op == "mremap":
        rule = Text(f"rule {step.rule}: ", style="dim").append(step.explain or "", style="dim")
        parts.append(indent(rule))
    return Group(*parts)


def vm_flags_text(flags: Optional[Iterable[str]]) -> Text:
    text = Text()
    if flags is None:
        return Text("?", style="dim")
    for i, flag in enumerate(flags):
        if i:
            text.append(" ")
        text.append(flag, style="bold red" if flag in DONTUNMAP_BLOCKERS else "")
    return text


def backing(entry: MapEntry) -> str:
    return entry.path or "[anon]"


def maps_table(rows: Sequence[DiffRow], title: Optional[str] = None) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    table.collapse_padding = True  # two spaces between columns: the full table fits more terminals
    for name in ("range", "size", "perms", "offset", "backing", "region", "VmFlags", "status"):
        table.add_column(
            name,
            justify="right" if name in ("size", "offset") else "left",
            no_wrap=name in ("range", "status", "VmFlags", "size", "perms"),
            overflow="fold",
        )
    for row in rows:
        entry = row.after or row.before
        assert entry is not None
        # Text, not str: paths such as "anon_inode:[perf_event]" are not rich markup.
        table.add_row(
            f"{entry.start:#x}-{entry.end:#x}",
            format_size(entry.size),
            entry.perms,
            hex(entry.offset),
            Text(backing(entry)),
            Text(entry.label or ""),
            vm_flags_text(entry.vm_flags),
            _status(row),
        )
    return table


def maps_view(console: Console, rows: Sequence[DiffRow], title: Optional[str] = None) -> RenderableType:
    """The maps table when it fits the terminal whole, else one block per range: a range, size,
    perms or VmFlags value is never cut to make a column fit."""
    table = maps_table(rows, title)
    return table if fits(console, table) else maps_blocks(rows, title)


def maps_blocks(rows: Sequence[DiffRow], title: Optional[str] = None) -> Group:
    """Each range as three lines: range, size, perms and status; where it comes from; its VmFlags
    (wrapped between flags, never inside one)."""
    parts: List[Any] = [Text(title, style="bold")] if title else []
    for row in rows:
        entry = row.after or row.before
        assert entry is not None
        first = Text(f"{entry.start:#x}-{entry.end:#x}", style="bold")
        first.append(f"  {format_size(entry.size)}  {entry.perms}  ").append(_status(row))
        origin = Text(f"offset {entry.offset:#x}  backing {backing(entry)}", style="dim")
        if entry.label:
            origin.append(f"  region {entry.label}", style="dim")
        flags = Text("VmFlags ", style="dim").append(vm_flags_text(entry.vm_flags))
        parts += [first, indent(origin), indent(flags)]
    return Group(*parts)


def _status(row: DiffRow) -> Text:
    status = row.status
    if row.status == "changed" and row.before and row.after:
        status = "changed " + change_summary(row.before, row.after)
    return Text(status, style=STATUS_STYLE[row.status])


def change_summary(before: MapEntry, after: MapEntry) -> str:
    """What differs, in a few words: "(size 16 KiB→32 KiB, -lo)"."""
    parts = []
    if (before.start, before.end) != (after.start, after.end):
        parts.append(
            f"size {format_size(before.size)}→{format_size(after.size)}" if before.start == after.start else "range"
        )
    if before.perms != after.perms:
        parts.append(f"{before.perms}→{after.perms}")
    if before.vm_flags is not None and after.vm_flags is not None:
        gone = [f"-{f}" for f in before.vm_flags if f not in after.vm_flags]
        new = [f"+{f}" for f in after.vm_flags if f not in before.vm_flags]
        parts += gone + new
    if before.offset != after.offset:
        parts.append("offset")
    return "(" + ", ".join(parts) + ")" if parts else ""


def contents_table(reads: Sequence[Tuple[str, StepResult]]) -> Table:
    """One row per read step, labelled ("old range", "new range")."""
    table = Table(title="contents now", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("read of")
    table.add_column("at", no_wrap=True)
    table.add_column("first byte of each page")
    for label, step in reads:
        if step.status == SKIPPED:
            table.add_row(Text(label), "—", Text(step.note or "skipped", style="dim"))
        else:
            table.add_row(
                Text(label), hex(step.at) if step.at is not None else "", Text(summarise_runs(step.runs or []))
            )
    return table


def others_line(run: Run) -> Text:
    if run.backend == "sim":
        return Text("the simulation models the lab and the experiment's ranges, not the rest of a process", style="dim")
    return Text(
        f"{run.other_mappings} other mappings of the process are not shown (--full-maps shows them)", style="dim"
    )


@dataclass
class Show:
    """What to print besides the calls: tables, the address-space picture, explanations, the
    smaps memory counters, and whether the maps are the whole process's (--full-maps)."""

    tables: bool = True
    picture: bool = True
    explain: bool = False
    smaps: bool = False
    full_maps: bool = False

    def maps_title(self) -> str:
        return "maps (the whole process)" if self.full_maps else "maps (lab and the experiment's ranges)"


def plain(console: Console) -> bool:
    """No colour on this console (a pipe, --no-color, NO_COLOR): what colour says must be said in words."""
    return console.color_system is None


def pictured(rows: Sequence[DiffRow], run: Run, show: Show) -> List[DiffRow]:
    """The rows the band draws: with --full-maps the tables list the whole process, but the picture
    stays on the lab and the experiment's ranges (the ones with a region name)."""
    if not show.full_maps:
        return list(rows)
    return [r for r in rows if _entry_of(r).label or run.lab_start <= _entry_of(r).start < run.lab_end]


def _entry_of(row: DiffRow) -> MapEntry:
    entry = row.after or row.before
    assert entry is not None
    return entry


def picture(console: Console, rows: Sequence[DiffRow], run: Run, show: Show) -> None:
    console.print(band(pictured(rows, run, show), run.lab_start, run.lab_end, show.smaps, plain(console)))


def maps_and_memory(console: Console, rows: Sequence[DiffRow], show: Show, title: Optional[str], when: str) -> None:
    """The maps table, then (--smaps) the memory counters of the same ranges, ``when`` saying
    between which moments they changed."""
    console.print(maps_view(console, rows, title))
    if show.smaps:
        console.print(memory_view(console, rows, f"memory (smaps: {when})"))


def render_run(console: Console, run: Run, show: Optional[Show] = None) -> None:
    """A scenario, step by step: each call with its result, and the maps after each change."""
    show = show or Show()
    console.print(header(run))
    previous: List[MapEntry] = []
    for step in run.steps:
        console.print(call_block(step))
        _explain(console, step, show)
        if step.maps_after is not None:
            rows = diff_maps(previous, step.maps_after)
            if any(r.status != "unchanged" for r in rows):
                if show.picture:
                    picture(console, rows, run, show)
                if show.tables:
                    maps_and_memory(console, rows, show, None, "before → after this step")
            previous = step.maps_after
    if show.picture:
        console.print(legend(plain(console)))
    footer(console, run)


def _explain(console: Console, step: StepResult, show: Show) -> None:
    if show.explain:
        text = explain_step(step)
        if text:
            console.print(indent(Text(f"↳ {text}", style="italic")))


def render_experiment(console: Console, run: Run, read_labels: Sequence[str], show: Optional[Show] = None) -> None:
    """``try``: header, the mremap call, the maps diff around it, and what the ranges read now."""
    show = show or Show()
    console.print(header(run))
    for step in run.steps:
        if step.op == "mremap" or (step.op != "read" and (not step.ok or step.note)):
            console.print(call_block(step, numbered=False))
            if step.op == "mremap":
                _explain(console, step, show)
    rows = diff_maps(run.maps_before, run.maps_after)
    if not rows:
        empty = (
            "maps: not read, the run stopped before its snapshots"
            if run.failure
            else "maps: nothing is mapped in the lab"
        )
        console.print(Text(empty, style="dim"))
    if rows and show.picture:
        picture(console, rows, run, show)
        console.print(legend(plain(console)))
    if rows and show.tables:
        maps_and_memory(console, rows, show, show.maps_title(), "before → right after the mremap, before the reads")
    reads = list(zip(read_labels, [s for s in run.steps if s.op == "read"]))
    if reads and show.tables:
        console.print(contents_table(reads))
        for label, step in reads:
            if step.note and "⚠" in step.note:
                console.print(indent(Text(f"{label}: {step.note}", style="yellow")))
    else:  # --no-tables: the calls and the picture only, so the reads are calls too
        for _, step in reads:
            console.print(call_block(step, numbered=False))
    if show.explain:
        said = {explain_step(step) for _, step in reads} - {None}
        for text in sorted(said):  # type: ignore[type-var]
            console.print(indent(Text(f"↳ {text}", style="italic")))
    footer(console, run)


def footer(console: Console, run: Run) -> None:
    if run.other_mappings or run.backend == "sim":  # none left out: --full-maps, or no snapshot
        console.print(others_line(run))
    if run.failure:
        console.print(Text(f"the run stopped early: {run.failure}", style="bold red"))
