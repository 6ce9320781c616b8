"""The reference lists (mapping kinds, rules, kernel models, Debian kernels, bundled scenarios):
each as a table for people and as a JSON document for scripts, side by side so the two say the
same thing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional, Sequence, Tuple

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from mremapctl.documents import envelope
from mremapctl.render.fit import fits, room_for_prose
from mremapctl.render.text import vm_flags_text
from mremapctl.units import format_size

if TYPE_CHECKING:
    from mremapctl.kernel import Model
    from mremapctl.kind_probe import KindProbe
    from mremapctl.rules import Rule

History = Sequence[Tuple[str, str]]  # (kernel model, change) lines that mention a flag


def _table(*columns: str, **options: Any) -> Table:
    """A borderless table whose long words fold onto the next line instead of being cut."""
    table = Table(box=None, pad_edge=False, header_style="bold", **options)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def kinds_json(probes: Sequence[KindProbe]) -> Dict[str, Any]:
    items = [
        {
            "kind": p.kind,
            "summary": p.summary,
            "available": p.available,
            "reason": p.reason,
            "vm_flags": None if p.vm_flags is None else list(p.vm_flags),
            "path": p.path,
        }
        for p in probes
    ]
    return envelope("kinds", items=items)


def render_kinds(console: Console, probes: Sequence[KindProbe]) -> None:
    """A row per kind; a block per kind where a table would leave the sentences too narrow."""
    flags = [" ".join(p.vm_flags or ()) if p.available else "" for p in probes]
    if not room_for_prose(console, ["kind", *(p.kind for p in probes)], ["here"], ["VmFlags", *flags]):
        for p in probes:
            first = Text(f"{p.kind}  ", style="bold").append(_here(p))
            if p.available:
                first.append("  ").append(vm_flags_text(p.vm_flags))
            console.print(first)
            console.print(Padding(_what(p), (0, 0, 0, 2)))
        return
    table = _table("kind", "here", "VmFlags", "what it is")
    for p in probes:
        table.add_row(p.kind, _here(p), vm_flags_text(p.vm_flags) if p.available else "", _what(p))
    console.print(table)


def _here(p: KindProbe) -> Text:
    return Text("yes", style="green") if p.available else Text("no", style="red")


def _what(p: KindProbe) -> Text:
    """What the kind is, or why it is not here."""
    return Text(p.summary) if p.available else Text(p.reason or "", style="red")


def rules_json(topic: str, kernel: Optional[str], rules: Sequence[Rule], history: History) -> Dict[str, Any]:
    items = [{"id": r.id, "errno": r.errno, "versions": r.versions, "text": r.text, "change": r.change} for r in rules]
    return envelope(
        "explain",
        topic=topic,
        kernel=kernel,
        items=items,
        history=[{"model": model, "change": change} for model, change in history],
    )


def render_rules(console: Console, rules: Sequence[Rule], history: History) -> None:
    """The rules with their kernels and source change, then a flag's history; a block per rule
    where a table would leave the sentences too narrow."""
    names, errnos, versions = [r.id for r in rules], [r.errno or "—" for r in rules], [r.versions for r in rules]
    if room_for_prose(console, ["rule", *names], ["errno", *errnos], ["kernels", *versions]):
        table = _table("rule", "errno", "kernels", "what the kernel checks or does")
        for column in table.columns[:3]:
            column.no_wrap = True
        for r, errno in zip(rules, errnos):
            table.add_row(r.id, errno, r.versions, Text(f"{r.text}\n").append(r.change, style="dim"))
        console.print(table)
    else:
        for r, errno in zip(rules, errnos):
            console.print(Text(f"{r.id}  {errno}  {r.versions}", style="bold", overflow="fold"))
            console.print(Padding(Text(f"{r.text}\n", overflow="fold").append(r.change, style="dim"), (0, 0, 0, 2)))
    if history:
        console.print(Text("\nhistory", style="bold"))
        for model, change in history:
            console.print(Text(f"  {model}: ", style="bold").append(change))


def kernels_json(models: Sequence[Model]) -> Dict[str, Any]:
    items = [{"model": m.name, "covers": m.span, "changes": list(m.changes)} for m in models]
    return envelope("kernels", items=items)


def render_kernels(console: Console, models: Sequence[Model]) -> None:
    if not room_for_prose(console, ["model", *(m.name for m in models)], ["covers", *(m.span for m in models)]):
        for m in models:  # a block per model where a table would leave the changes too narrow
            console.print(Text(f"{m.name}  ({m.span})", style="bold", overflow="fold"))
            console.print(Padding(Text("\n".join(f"• {c}" for c in m.changes), overflow="fold"), (0, 0, 0, 2)))
        return
    table = _table("model", "covers", "what changed")
    table.columns[0].no_wrap = table.columns[1].no_wrap = True
    for m in models:
        table.add_row(m.name, m.span, "\n".join(f"• {c}" for c in m.changes))
    console.print(table)


def vm_list_json(rows: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    return envelope("vm-list", items=list(rows))


def render_vm_list(console: Console, rows: Sequence[Dict[str, Any]]) -> None:
    table = _table("series", "kernel", "arch", "page", "package", "suite", "MB", "cached", "note")
    table.columns[6].justify = "right"
    for r in rows:
        size = f"{r['size'] / 1e6:.0f}" if r["size"] else "?"
        page = format_size(r["page_size"])
        cached = "yes" if r["cached"] else ""
        table.add_row(r["series"], r["upstream"], r["arch"], page, r["package"], r["suite"], size, cached, r["note"])
    if fits(console, table):
        console.print(table)
        return
    for r in rows:  # narrower than the table: a package's name must not be cut, so two lines each
        facts = [f"{r['upstream']} {r['arch']} {format_size(r['page_size'])}", r["suite"]]
        facts += [f"{r['size'] / 1e6:.0f} MB" if r["size"] else "? MB", "cached" if r["cached"] else "", r["note"]]
        console.print(" · ".join(fact for fact in facts if fact), markup=False)
        console.print(f"  {r['package']}", markup=False)


def scenarios_json(scenarios: Sequence[Tuple[str, str]]) -> Dict[str, Any]:
    return envelope("scenarios", items=[{"name": name, "description": text} for name, text in scenarios])


def render_scenarios(console: Console, scenarios: Sequence[Tuple[str, str]]) -> None:
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for name, description in scenarios:
        table.add_row(name, description)
    console.print(table)
