"""``demo gc`` for people (a table of the flow's steps) and for scripts (a ``"kind": "gc"`` document)."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from rich import box
from rich.table import Table
from rich.text import Text

from mremapctl.calls import mremap_call
from mremapctl.documents import envelope
from mremapctl.gc_demo.heap import OBJECTS_PER_PAGE
from mremapctl.gc_demo.live import PAUSE_FLAGS, GcResult
from mremapctl.gc_demo.sim import NOT_MODELLED, NOT_REACHED, Walk
from mremapctl.units import format_ns, format_size

RESOLVE = {"anon": ("MISSING", "UFFDIO_COPY"), "memfd": ("MINOR", "UFFDIO_CONTINUE")}
OUTCOME_STYLE = {"ok": "bold green", "uffd": "bold cyan", NOT_MODELLED: "dim", NOT_REACHED: "dim"}


def live_json(result: GcResult) -> Dict[str, Any]:
    return _gc_json(
        "live",
        result.kernel,
        result.heap,
        result.size,
        pause_ns=result.pause_ns,
        faults=result.faults,
        fault_ns_median=result.fault_ns_median,
        contents_ok=result.contents_ok,
        pages=result.pages,
        mutators=result.mutators,
        minor_faults=result.minor_faults,
        register_ns=result.register_ns,
        service_ns_median=result.service_ns_median,
        compact_ns=result.compact_ns,
        bad_pages=result.bad_pages[:20],
        problems=result.problems[:20],
    )


def sim_json(walk: Walk) -> Dict[str, Any]:
    steps = [
        {"step": s.name, "call": s.call, "outcome": s.outcome, "rule": s.rule, "explain": s.detail} for s in walk.steps
    ]
    # what the model cannot tell is null, so both backends' documents have the same fields
    unknown = dict.fromkeys(("pause_ns", "faults", "fault_ns_median", "contents_ok"))
    return _gc_json(
        "sim", walk.kernel, walk.heap, walk.size, **unknown, stops_at=walk.stops_at, steps=steps, notes=walk.model_notes
    )


def _gc_json(backend: str, kernel: str, heap: str, size: int, **fields: Any) -> Dict[str, Any]:
    return envelope("gc", backend=backend, kernel=kernel, heap=heap, size=size, **fields)


def _steps_table(rows: List[Tuple[str, str, Text, str]], timed: bool = True) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
    table.add_column("step", no_wrap=True)
    table.add_column("what", overflow="fold")
    table.add_column("result", no_wrap=True)
    if timed:
        table.add_column("time", justify="right", no_wrap=True)
    for row in rows:
        table.add_row(*(row if timed else row[:3]))
    return table


def render_live(console: Any, r: GcResult) -> None:
    objects = r.pages * OBJECTS_PER_PAGE
    console.print(
        Text.assemble(
            ("demo gc", "bold"),
            (" · live · kernel ", "dim"),
            (r.kernel, "bold"),
            (
                f" · {r.heap} heap {format_size(r.size)} ({r.pages} pages, {r.live_objects:,} of {objects:,} objects "
                f"live) · {r.mutators} mutators",
                "dim",
            ),
        )
    )
    console.print(_steps_table(live_rows(r)))
    console.print(live_summary(r))
    console.print(Text(pause_note(r), style="dim"))
    for problem in r.problems[:5]:
        console.print(Text(f"⚠ {problem}", style="yellow"))


def pause_note(r: GcResult) -> str:
    """How the pause was measured, in an order that cannot be misread (timed, less the timer)."""
    net, timed, timer = (format_ns(ns) for ns in (r.pause_ns, r.pause_raw_ns, r.pause_raw_ns - r.pause_ns))
    return f"pause {net}: {timed} as timed, less {timer} for the timer itself"


def live_rows(r: GcResult) -> List[Tuple[str, str, Text, str]]:
    mode, ioctl = RESOLVE[r.heap]
    ok, bad = Text("ok", style="bold green"), Text("FAILED", style="bold red")
    how = "compacts each page in place through the from-space, then" if r.heap == "memfd" else "compacts into a buffer,"
    pause = f"{mremap_call(r.heap_addr, r.size, r.size, PAUSE_FLAGS, r.from_space)}: the stop-the-world move"
    compact = (
        f"{r.mutators} mutators touched {r.pages} pages; the handler served {r.faults} faults "
        f"({r.minor_faults} minor): it {how} {ioctl}"
    )
    check = ok if r.contents_ok else Text(f"FAILED: {len(r.bad_pages)} pages differ", style="bold red")
    return [
        ("heap", f"{r.heap} heap mapped at {r.heap_addr:#x}, filled with objects", ok, ""),
        ("pause", pause, ok, format_ns(r.pause_ns)),
        ("register", f"UFFDIO_REGISTER MODE_{mode} on the heap ({ioctl} offered)", ok, format_ns(r.register_ns)),
        ("compact", compact, ok if r.faults == r.pages else bad, format_ns(r.compact_ns)),
        ("check", "every heap page holds exactly its compacted objects", check, ""),
    ]


def live_summary(r: GcResult) -> Text:
    return Text.assemble(
        ("pause ", "dim"),
        (format_ns(r.pause_ns), "bold"),
        (" · faults ", "dim"),
        (str(r.faults), "bold"),
        (" · per fault ", "dim"),
        (format_ns(r.fault_ns_median), "bold"),
        (
            f" (median wait of a mutator beyond the {format_ns(r.access_ns_median)} access itself, {r.mutators} "
            f"mutators sharing one handler; the handler's own work {format_ns(r.service_ns_median)})",
            "dim",
        ),
        (" · contents ", "dim"),
        ("ok" if r.contents_ok else "WRONG", "bold green" if r.contents_ok else "bold red"),
    )


def render_sim(console: Any, walk: Walk) -> None:
    console.print(
        Text.assemble(
            ("demo gc", "bold"),
            (" · sim · kernel ", "dim"),
            (walk.kernel, "bold"),
            (f" · {walk.heap} heap {format_size(walk.size)}", "dim"),
        )
    )
    for note in walk.model_notes:
        console.print(Text(note, style="dim"))
    rows = []
    for step in walk.steps:
        result = Text(step.outcome, style=OUTCOME_STYLE.get(step.outcome, "bold red"))
        detail = f"{step.call}\n{step.detail}" + (f" (rule {step.rule})" if step.rule else "")
        rows.append((step.name, detail, result, ""))
    console.print(_steps_table(rows, timed=False))
    stop = walk.stops_at
    if stop is None:
        console.print(
            Text(
                f"{walk.kernel}: the {walk.heap} flow goes through (the fault resolution runs live only)",
                style="bold green",
            )
        )
    else:
        failed = next(s for s in walk.steps if s.name == stop)
        console.print(
            Text(f"{walk.kernel}: the {walk.heap} flow stops at the {stop}: {failed.outcome}", style="bold red")
        )
