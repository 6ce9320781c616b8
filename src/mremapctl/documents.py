"""JSON schema 1: the envelope every ``--json`` document starts with (docs/json.md), and the run
object (docs/run.schema.json). ``run_from_json`` reads a run back, which is how runs cross process
and machine boundaries (the vm backend's batches).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Dict, List, Literal, Optional, get_args

from mremapctl.results import (
    SMAPS_COUNTERS,
    DiffRow,
    MapEntry,
    MemoryUse,
    ModelInfo,
    PageRuns,
    Run,
    StepResult,
    diff_maps,
    runs_of,
)

TOOL = "mremapctl"
SCHEMA = 1
# What a document holds; docs/json.md describes each kind's fields.
DocumentKind = Literal[
    "run",
    "runs",
    "matrix",
    "survey",
    "survey-comparison",
    "bench",
    "gc",
    "kinds",
    "explain",
    "kernels",
    "vm-list",
    "scenarios",
]
KINDS = get_args(DocumentKind)


def envelope(kind: DocumentKind, **fields: Any) -> Dict[str, Any]:
    """A JSON document: which tool wrote it, in which schema, and what it holds, then its fields.
    Lists of things go under ``items``."""
    return {"tool": TOOL, "schema": SCHEMA, "kind": kind, **fields}


def _hex(value: Optional[int]) -> Optional[str]:
    return None if value is None else hex(value)


def entry_json(entry: MapEntry) -> Dict[str, Any]:
    return {
        "start": hex(entry.start),
        "end": hex(entry.end),
        "perms": entry.perms,
        "offset": entry.offset,
        "dev": entry.dev,
        "inode": entry.inode,
        "path": entry.path,
        "vm_flags": list(entry.vm_flags) if entry.vm_flags is not None else None,
        "label": entry.label,
        **memory_json(entry.memory),
    }


def memory_json(memory: Optional[MemoryUse]) -> Dict[str, Optional[int]]:
    """The smaps counters as fields of the entry, in bytes; null where not read or not known."""
    known = memory or MemoryUse()
    return {name: getattr(known, name) for name in SMAPS_COUNTERS.values()}


def diff_json(row: DiffRow) -> Dict[str, Any]:
    return {
        "status": row.status,
        "before": row.before and entry_json(row.before),
        "after": row.after and entry_json(row.after),
    }


def step_json(step: StepResult) -> Dict[str, Any]:
    out: Dict[str, Any] = {
        "index": step.index,
        "op": step.op,
        "status": step.status,
        "ok": step.ok,
        "errno": step.errno,
        "errno_value": step.errno_value,
        "address": _hex(step.address),
        "rule": step.rule,
        "explain": step.explain,
        "call": step.call,
    }
    if step.name is not None:
        out["name"] = step.name
    if step.at is not None:
        out["at"] = hex(step.at)
    if step.runs is not None:
        out["result"] = step.runs[0][0] if step.runs else None
        if step.page_count <= PAGES_IN_JSON:
            out["pages"] = step.pages
        out["runs"] = [{"result": value, "pages": count} for value, count in step.runs]
    if step.answer is not None:
        out["answer"] = step.answer
    if step.expect is not None:
        out["expect"] = step.expect
        out["expect_met"] = step.expect_met
    if step.note is not None:
        out["note"] = step.note
    if step.maps_after is not None:
        out["maps_after"] = [entry_json(e) for e in step.maps_after]
    return out


def run_json(run: Run) -> Dict[str, Any]:
    return envelope(
        "run",
        backend=run.backend,
        lab={"start": hex(run.lab_start), "end": hex(run.lab_end)},
        kernel=run.kernel,
        kernel_version=run.kernel_version,
        arch=run.arch,
        model=asdict(run.model) if run.model else None,
        page_size=run.page_size,
        steps=[step_json(s) for s in run.steps],
        maps_before=[entry_json(e) for e in run.maps_before],
        maps_after=[entry_json(e) for e in run.maps_after],
        diff=[diff_json(r) for r in diff_maps(run.maps_before, run.maps_after)],
        other_mappings=run.other_mappings,
        notes=run.notes,
        failure=run.failure,
    )


def runs_json(runs: List[Run]) -> Dict[str, Any]:
    return envelope("runs", items=[run_json(run) for run in runs])


def _int(value: Optional[str]) -> Optional[int]:
    return None if value is None else int(value, 16)


def entry_from_json(data: Dict[str, Any]) -> MapEntry:
    flags = data.get("vm_flags")
    return MapEntry(
        int(data["start"], 16),
        int(data["end"], 16),
        data["perms"],
        data["offset"],
        data["dev"],
        data["inode"],
        data["path"],
        tuple(flags) if flags is not None else None,
        data.get("label"),
        _memory(data),
    )


def _memory(data: Dict[str, Any]) -> Optional[MemoryUse]:
    """The counters of an entry (None from writers before they were added, or when none was read)."""
    counters = {name: data.get(name) for name in SMAPS_COUNTERS.values()}
    return MemoryUse(**counters) if any(value is not None for value in counters.values()) else None


def step_from_json(data: Dict[str, Any]) -> StepResult:
    maps = data.get("maps_after")
    return StepResult(
        index=data["index"],
        op=data["op"],
        call=data["call"],
        status=data["status"],
        errno=data.get("errno"),
        errno_value=data.get("errno_value"),
        address=_int(data.get("address")),
        at=_int(data.get("at")),
        runs=_runs(data),
        name=data.get("name"),
        rule=data.get("rule"),
        explain=data.get("explain"),
        expect=data.get("expect"),
        note=data.get("note"),
        maps_after=[entry_from_json(e) for e in maps] if maps is not None else None,
        answer=data.get("answer"),
    )


def runs_from_json(document: Dict[str, Any]) -> List[Run]:
    if document.get("kind") != "runs":
        raise ValueError("not a mremapctl list of runs")
    return [run_from_json(data) for data in document["items"]]


def run_from_json(data: Dict[str, Any]) -> Run:
    # "kind" came after schema 1's first runs: a run without it is still a run
    if data.get("tool") != TOOL or data.get("schema") != SCHEMA or data.get("kind", "run") != "run":
        raise ValueError("not a mremapctl schema-1 run")
    run = Run(
        data["backend"],
        data["kernel"],
        data.get("page_size", 4096),
        int(data["lab"]["start"], 16),
        int(data["lab"]["end"], 16),
    )
    run.steps = [step_from_json(s) for s in data["steps"]]
    run.maps_before = [entry_from_json(e) for e in data["maps_before"]]
    run.maps_after = [entry_from_json(e) for e in data["maps_after"]]
    run.other_mappings = data.get("other_mappings", 0)
    run.notes = list(data.get("notes", []))
    run.failure = data.get("failure")
    run.kernel_version = data.get("kernel_version")
    run.arch = data.get("arch")
    run.model = ModelInfo(**data["model"]) if data.get("model") else None
    return run


PAGES_IN_JSON = 1024  # above this many pages a read is given as runs only (a 1 GiB one would be 262,144 entries)


def _runs(data: Dict[str, Any]) -> Optional[PageRuns]:
    """A step's page results: its runs, or (from older writers) its pages."""
    if "runs" in data:
        return [(run["result"], run["pages"]) for run in data["runs"]]
    return runs_of(data["pages"]) if data.get("pages") is not None else None
