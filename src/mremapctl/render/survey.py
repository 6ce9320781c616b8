"""A survey for people (rich), for bug reports (Markdown) and for scripts (JSON, which
``survey --compare`` reads back)."""

from __future__ import annotations

from typing import Any, Dict, List

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mremapctl.documents import envelope
from mremapctl.survey.survey import Deviation, Survey


def _cell(d: Deviation) -> str:
    kind, variant, flags, size = d.cell
    label = kind + ("" if variant == "plain" else f" {variant}")
    return f"{label}: {'|'.join(flags) or 'no flags'} {size}"


def verdict(s: Survey) -> str:
    partial = f"{s.cut_short}, so this is partial: " if s.cut_short else ""
    return partial + _verdict(s)


def _verdict(s: Survey) -> str:
    if s.exact:
        also = [name for name, count in s.per_model.items() if count == 0 and name != s.behaves_like]
        tie = f"; the {', '.join(also)} models answer these experiments alike" if also else ""
        return f"behaves like Linux {s.behaves_like} (the newest model it matches in every cell{tie})"
    return f"closest to Linux {s.behaves_like}, with {len(s.deviations)} deviation(s); no model matches every cell"


def render_survey(console: Console, s: Survey) -> None:
    console.print(Text("kernel ", style="dim").append(s.kernel, style="bold"))
    console.print(Text(verdict(s), style="bold green" if s.exact and not s.cut_short else "bold yellow"))
    counts = "  ".join(f"{name}:{count}" for name, count in s.per_model.items())
    console.print(Text(f"deviations per model: {counts}", style="dim"))
    if s.deviations:
        table = Table(
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            header_style="bold",
            title=f"where this kernel differs from the {s.behaves_like} model",
            title_justify="left",
        )
        for column in ("experiment", "live", "model", "rule the model applied"):
            table.add_column(column)
        for d in s.deviations:
            table.add_row(_cell(d), Text(d.live, style="bold"), d.model, d.rule or "")
        console.print(table)
    for why in s.unavailable.values():
        console.print(Text(f"unavailable here: {why.removeprefix('unavailable: ')}", style="dim"))
    console.print(Text(f"{len(s.cells)} live experiments in {s.seconds:.1f} s", style="dim"))
    if s.cut_short:
        console.print(Text(s.cut_short, style="bold red"))


def survey_markdown(s: Survey) -> str:
    lines = [f"## mremapctl survey: {s.kernel}", "", f"**{verdict(s)}**", "", "| model | deviations |", "|---|---|"]
    lines += [f"| {name} | {count} |" for name, count in s.per_model.items()]
    if s.deviations:
        lines += [
            "",
            f"### Deviations from the {s.behaves_like} model",
            "",
            "| experiment | live | model | rule |",
            "|---|---|---|---|",
        ]
        lines += [f"| {_cell(d)} | {d.live} | {d.model} | {d.rule or ''} |" for d in s.deviations]
    if s.unavailable:
        lines += ["", "### Unavailable here", ""] + [
            f"- {v.removeprefix('unavailable: ')}" for v in s.unavailable.values()
        ]
    lines += ["", f"{len(s.cells)} live experiments, mremapctl survey --markdown", ""]
    if s.cut_short:
        lines += [f"**{s.cut_short}**", ""]
    return "\n".join(lines)


def render_comparison(console: Console, a: Dict[str, Any], b: Dict[str, Any], diff: List[Dict[str, Any]]) -> None:
    console.print(f"A: {a['kernel']} (behaves like {a['behaves_like']})")
    console.print(f"B: {b['kernel']} (behaves like {b['behaves_like']})")
    if not diff:
        console.print(Text("the two machines answer every common experiment the same way", style="bold green"))
        return
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        header_style="bold",
        title=f"{len(diff)} experiments differ",
        title_justify="left",
    )
    for column in ("experiment", "A", "B"):
        table.add_column(column)
    for row in diff:
        variant = "" if row["variant"] == "plain" else f" {row['variant']}"
        table.add_row(
            f"{row['kind']}{variant}: {'|'.join(row['flags']) or 'no flags'} {row['size_rel']}", row["a"], row["b"]
        )
    console.print(table)


def survey_json(s: Survey) -> Dict[str, Any]:
    return envelope(
        "survey",
        kernel=s.kernel,
        behaves_like=s.behaves_like,
        exact=s.exact,
        deviations=[deviation_json(d) for d in s.deviations],
        per_model=s.per_model,
        unavailable=[{"kind": k, "reason": v} for k, v in s.unavailable.items()],
        experiments=len(s.cells),
        interrupted=bool(s.cut_short),
        cut_short=s.cut_short or None,
        seconds=round(s.seconds, 3),
        cells=[c.to_json() for c in s.cells],
    )


def deviation_json(d: Deviation) -> Dict[str, Any]:
    kind, variant, flags, size = d.cell
    return {
        "kind": kind,
        "variant": variant,
        "flags": list(flags),
        "size_rel": size,
        "live": d.live,
        "model": d.model,
        "rule": d.rule,
    }


def comparison_json(a: Dict[str, Any], b: Dict[str, Any], diff: List[Dict[str, Any]]) -> Dict[str, Any]:
    return envelope("survey-comparison", a=a["kernel"], b=b["kernel"], differences=diff)
