"""Several machines' surveys side by side (``survey --compare``): a column per machine, headed by
its host name and kernel, a row per experiment; for people, for a Markdown report, for scripts."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mremapctl.documents import envelope
from mremapctl.render.fit import split_columns
from mremapctl.survey.fleet import Fleet, Row, experiment_name, row_json

DIFFERS = "≠"  # a mark, not only a colour: piped or NO_COLOR the rows that differ still show


def shown_rows(fleet: Fleet, changes_only: bool) -> List[Row]:
    return fleet.changes() if changes_only else fleet.rows


def summary(fleet: Fleet) -> str:
    return f"{len(fleet.changes())} of {len(fleet.rows)} experiments differ between the {len(fleet.surveys)} machines"


def answer_text(answer: Optional[str], differs: bool) -> Text:
    text = Text("not surveyed" if answer is None else answer, style="dim" if answer is None else "")
    if differs and answer is not None:
        text.stylize("bold")
    return text


def render_fleet(console: Console, fleet: Fleet, changes_only: bool) -> None:
    """Who is compared, then one table (split into several only where too wide for the terminal)."""
    for number, (label, survey) in enumerate(zip(fleet.labels, fleet.surveys), 1):
        line = Text(f"{number}. ", style="dim").append(label, style="bold")
        line.append(f"  behaves like {survey.behaves_like}", style="dim")
        machine = survey.machine
        if machine:
            line.append(f" · {machine.architecture or 'n/a'} · {machine.date} · {survey.path.name}", style="dim")
        console.print(line)
    rows = shown_rows(fleet, changes_only)
    if not rows:
        console.print(Text("the machines answer every experiment the same way", style="bold"))
        return
    columns = list(range(len(fleet.surveys)))

    def table(chosen: Sequence[int]) -> Table:
        grid = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold", collapse_padding=True)
        grid.add_column("experiment", no_wrap=True)
        grid.add_column("", no_wrap=True)  # the ≠ mark
        for i in chosen:
            host, _, kernel = fleet.labels[i].partition(" · ")
            grid.add_column(f"{host}\n{kernel}", no_wrap=True)
        for row in rows:
            marks = DIFFERS if row.differs else ""
            grid.add_row(
                experiment_name(row.experiment), marks, *(answer_text(row.answers[i], row.differs) for i in chosen)
            )
        return grid

    for part in split_columns(console, columns, table):
        console.print(part)
    console.print(Text(f"{summary(fleet)} ({DIFFERS} marks them; --changes-only shows only those)", style="dim"))


def fleet_json(fleet: Fleet, changes_only: bool) -> Dict[str, Any]:
    machines = [
        {
            "label": label,
            "file": str(survey.path),
            "kernel": survey.kernel,
            "behaves_like": survey.behaves_like,
            "machine": survey.machine.to_json() if survey.machine else None,
        }
        for label, survey in zip(fleet.labels, fleet.surveys)
    ]
    return envelope(
        "survey-comparison",
        machines=machines,
        experiments=len(fleet.rows),
        changes_only=changes_only,
        rows=[row_json(row) for row in shown_rows(fleet, changes_only)],
        # the two-survey form's fields, kept: its first two kernels and the rows that differ
        a=fleet.surveys[0].kernel,
        b=fleet.surveys[1].kernel,
        differences=[row_json(row) for row in fleet.changes()],
    )


def fleet_markdown(fleet: Fleet, changes_only: bool) -> str:
    """For a report: the machines, then a row per experiment (or per difference)."""
    lines = [
        "## mremapctl survey comparison",
        "",
        "| # | machine | behaves like | architecture | date |",
        "|---|---|---|---|---|",
    ]
    for number, (label, survey) in enumerate(zip(fleet.labels, fleet.surveys), 1):
        machine = survey.machine
        arch, date = (machine.architecture or "n/a", machine.date) if machine else ("?", "?")
        lines.append(f"| {number} | {label} | {survey.behaves_like} | {arch} | {date} |")
    lines += ["", summary(fleet) + ".", ""]
    rows = shown_rows(fleet, changes_only)
    if rows:
        heads = " | ".join(f"{n}" for n in range(1, len(fleet.surveys) + 1))
        lines += [f"| experiment | {heads} |", "|---|" + "---|" * len(fleet.surveys)]
        for row in rows:
            answers = " | ".join(_md_answer(a, row.differs) for a in row.answers)
            lines.append(f"| {experiment_name(row.experiment)} | {answers} |")
        lines.append("")
    return "\n".join(lines)


def _md_answer(answer: Optional[str], differs: bool) -> str:
    if answer is None:
        return "—"
    return f"**{answer}**" if differs else answer
