"""A survey for people (rich), for bug reports (Markdown) and for scripts (JSON, which
``survey --compare`` reads back)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Dict, List, Optional, Tuple

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mremapctl.documents import envelope
from mremapctl.survey.about import Machine
from mremapctl.survey.fleet import experiment_json, experiment_name
from mremapctl.survey.lessons import StepDeviation
from mremapctl.survey.survey import Deviation, Survey
from mremapctl.units import format_size


def _step(d: StepDeviation) -> str:
    return f"{d.step} {d.call}" if d.step else d.call


def verdict(s: Survey) -> str:
    partial = f"{s.cut_short}, so this is partial: " if s.cut_short else ""
    return partial + _verdict(s)


def _verdict(s: Survey) -> str:
    if s.exact:
        also = [name for name, count in s.per_model.items() if count == 0 and name != s.behaves_like]
        tie = f"; the {', '.join(also)} models answer them alike" if also else ""
        return f"behaves like Linux {s.behaves_like} (a model it matches in every cell and lesson step{tie})"
    count = s.per_model[s.behaves_like]
    return f"closest to Linux {s.behaves_like}, with {count} deviation(s); no model matches every cell and lesson step"


def _table(title: str, *columns: str) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold", title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    return table


def facts(machine: Machine) -> List[Tuple[str, str]]:
    """The machine's facts a bug report needs, as (what, value) in the order a reader wants them."""

    def said(value: Optional[bool]) -> str:
        return "unknown" if value is None else "yes" if value else "no"

    return [
        ("host", machine.hostname),
        ("kernel", f"{machine.kernel} ({machine.backend})"),
        ("architecture", machine.architecture or "n/a"),
        ("page size", format_size(machine.page_size)),
        ("syscalls through", machine.syscall_layer or "n/a"),
        ("soft-dirty (VmFlag sd)", said(machine.soft_dirty)),
        ("secretmem", said(machine.secretmem)),
        ("mseal", said(machine.mseal)),
        ("mremapctl", machine.tool_version),
        ("date", machine.date),
        ("command", machine.command),
    ]


def render_survey(console: Console, s: Survey, machine: Optional[Machine] = None) -> None:
    console.print(Text("kernel ", style="dim").append(s.kernel, style="bold"))
    if machine:
        shown = [f"{what} {value}" for what, value in facts(machine)[2:8]]
        console.print(Text(" · ".join(shown), style="dim"))
    console.print(Text(verdict(s), style="bold green" if s.exact and not s.cut_short else "bold yellow"))
    counts = "  ".join(f"{name}:{count}" for name, count in s.per_model.items())
    console.print(Text(f"deviations per model: {counts}", style="dim"))
    if s.deviations:
        table = _table(
            f"where this kernel differs from the {s.behaves_like} model",
            "experiment",
            "live",
            "model",
            "rule the model applied",
        )
        for d in s.deviations:
            table.add_row(experiment_name(d.cell), Text(d.live, style="bold"), d.model, d.rule or "")
        console.print(table)
    if s.step_deviations:
        table = _table(
            f"lessons that answer otherwise than on the {s.behaves_like} model", "lesson", "step", "live", "model"
        )
        for step in s.step_deviations:
            table.add_row(step.lesson, _step(step), Text(step.live, style="bold"), step.model)
        console.print(table)
    for why in s.unavailable.values():
        console.print(Text(f"unavailable here: {why.removeprefix('unavailable: ')}", style="dim"))
    console.print(Text(f"{len(s.cells)} {_ran_on(machine)} experiments in {s.seconds:.1f} s", style="dim"))
    if s.cut_short:
        console.print(Text(s.cut_short, style="bold red"))


def survey_markdown(s: Survey, machine: Optional[Machine] = None) -> str:
    lines = [f"## mremapctl survey: {s.kernel}", "", f"**{verdict(s)}**", ""]
    if machine:
        rows = [(what, f"`{value}`" if what == "command" else value) for what, value in facts(machine)]
        lines += ["| | |", "|---|---|"] + [f"| {what} | {_md(value)} |" for what, value in rows] + [""]
    lines += ["| model | deviations |", "|---|---|"]
    lines += [f"| {name} | {count} |" for name, count in s.per_model.items()]
    if s.deviations:
        lines += [
            "",
            f"### Deviations from the {s.behaves_like} model",
            "",
            "| experiment | live | model | rule |",
            "|---|---|---|---|",
        ]
        lines += [f"| {experiment_name(d.cell)} | {d.live} | {d.model} | {d.rule or ''} |" for d in s.deviations]
    if s.step_deviations:
        lines += ["", f"### Lessons that answer otherwise than the {s.behaves_like} model", ""]
        lines += ["| lesson | step | live | model |", "|---|---|---|---|"]
        lines += [f"| {x.lesson} | {_step(x)} | {x.live} | {x.model} |" for x in s.step_deviations]
    if s.unavailable:
        lines += ["", "### Unavailable here", ""] + [
            f"- {v.removeprefix('unavailable: ')}" for v in s.unavailable.values()
        ]
    lines += ["", f"{len(s.cells)} {_ran_on(machine)} experiments; {FLAG_SETS_NOTE}", ""]
    if s.cut_short:
        lines += [f"**{s.cut_short}**", ""]
    return "\n".join(lines)


def survey_json(s: Survey, machine: Optional[Machine] = None) -> Dict[str, Any]:
    return envelope(
        "survey",
        machine=machine.to_json() if machine else None,
        kernel=s.kernel,
        behaves_like=s.behaves_like,
        exact=s.exact,
        deviations=[deviation_json(d) for d in s.deviations],
        lesson_deviations=[asdict(d) for d in s.step_deviations],
        per_model=s.per_model,
        unavailable=[{"kind": k, "reason": v} for k, v in s.unavailable.items()],
        experiments=len(s.cells),
        interrupted=bool(s.cut_short),
        cut_short=s.cut_short or None,
        seconds=round(s.seconds, 3),
        cells=[c.to_json() for c in s.cells],
    )


def deviation_json(d: Deviation) -> Dict[str, Any]:
    return {**experiment_json(d.cell), "live": d.live, "model": d.model, "rule": d.rule}


# The flag sets as the matrix and survey name them leave out the MAYMOVE they send.
FLAG_SETS_NOTE = "FIXED and DONTUNMAP are sent with MREMAP_MAYMOVE, which the kernel requires with either"


def _md(text: str) -> str:
    """A value for a Markdown table cell: its pipes escaped (a command may hold some)."""
    return text.replace("|", "\\|")


def _ran_on(machine: Optional[Machine]) -> str:
    """ "live", "vm" or "sim": what ran the experiments (a survey is live unless said otherwise)."""
    return machine.backend if machine else "live"
