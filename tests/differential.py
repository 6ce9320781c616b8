"""Live versus the model of the running kernel: scenarios, and how their runs are compared.

Used by the differential tests (tests/backends/test_differential.py) and by the long
hand-run mode (scripts/differential.py).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

from hypothesis import strategies as st

from mremapctl.annotate import comparable_runs
from mremapctl.results import MapEntry, Run

KIND_CHOICES = [
    {"kind": "anon"},
    {"kind": "shmem"},
    {"kind": "memfd"},
    {"kind": "memfd", "shared": False},
    {"kind": "file"},
    {"kind": "file", "shared": False},
    {"kind": "file", "dir": "/dev/shm"},
    {"kind": "devzero"},
    {"kind": "devzero", "shared": True},
    {"kind": "sysvshm"},
    {"kind": "secretmem"},
    {"kind": "perf", "size": "3p", "fill": None},
    {"kind": "vdso", "size": None, "fill": None},
    {"kind": "aio", "size": None, "fill": None},
]
FLAG_BITS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xB, 0xD, 0xF]


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value) + '"'


def steps_toml(steps: List[Dict[str, Any]]) -> str:
    out = []
    for step in steps:
        out.append("[[step]]")
        out += [f"{k} = {_toml(v)}" for k, v in step.items() if v is not None]
        out.append("")
    return "\n".join(out)


# Mostly a few pages; now and then 2 MiB (a PMD) or 1 GiB (a PUD), where a cost per page would show.
PAGE_COUNTS = [1, 2, 3, 4, 5, 6] * 4 + [512, 262144]
BIG_KINDS = ("anon", "shmem", "memfd")


@st.composite
def regions(draw: Any) -> List[Dict[str, Any]]:
    """Region A (of any kind), maybe modified, plus neighbours and a target."""
    kind = dict(draw(st.sampled_from(KIND_CHOICES)))
    pages = draw(st.sampled_from(PAGE_COUNTS if kind["kind"] in BIG_KINDS else PAGE_COUNTS[:6]))
    a: Dict[str, Any] = {"op": "mmap", "name": "A", "size": f"{pages}p", "fill": "A"}
    a.update(kind)
    if kind["kind"] in ("anon", "shmem", "memfd", "file", "devzero") and draw(st.booleans()):
        a["prot"] = draw(st.sampled_from(["r", "none", "rw", "rwx"]))
        if draw(st.booleans()):
            a["fill"] = None
    steps = [a]
    size = pages if a.get("size") else 3
    neighbour = draw(st.sampled_from(["none", "adjacent", "gap", "same-kind-adjacent"]))
    if neighbour != "none" and a["kind"] not in ("vdso", "aio"):
        at = f"A+{size}p" if neighbour != "gap" else f"A+{size + 2}p"
        n = {"op": "mmap", "name": "N", "size": f"{draw(st.integers(1, 3))}p", "at": at}
        if neighbour == "same-kind-adjacent" and a["kind"] in ("anon", "shmem"):
            n["kind"] = a["kind"]
        steps.append(n)
    if draw(st.booleans()):
        steps.append(
            {
                "op": "mmap",
                "name": "T",
                "kind": draw(st.sampled_from(["anon", "shmem"])),
                "size": f"{draw(st.integers(1, 8))}p",
                "at": "lab+1G",
                "fill": "T",
            }
        )
    modifier = draw(st.sampled_from(["", "", "", "mlock", "mseal", "mprotect-split", "uffd"]))
    if modifier == "mlock":
        steps.append({"op": "mlock", "at": "A", "size": f"{size}p"})
    elif modifier == "mseal":
        steps.append({"op": "mseal", "at": "A", "size": f"{size}p"})
    elif modifier == "mprotect-split" and size > 1:
        steps.append({"op": "mprotect", "at": "A", "size": "1p", "prot": "r"})
    elif modifier == "uffd" and a["kind"] == "anon":
        steps.append({"op": "uffd_register", "at": "A", "size": f"{size}p"})
    return steps


@st.composite
def size_expr(draw: Any, pages: int) -> str:
    return draw(
        st.sampled_from(
            [
                f"{pages}p",
                "0",
                "1p",
                f"{pages + 1}p",
                f"{2 * pages}p",
                f"{max(1, pages // 2)}p",
                "4097",
                "1",
                f"{pages}p+1",
                "2M",
                "18446744073709551615",
            ]
        )
    )


@st.composite
def scenarios(draw: Any) -> str:
    steps = draw(regions())
    pages = int(steps[0]["size"][:-1]) if steps[0].get("size") else (3 if steps[0]["kind"] == "perf" else 1)
    names = [s["name"] for s in steps if s["op"] == "mmap"]
    for _ in range(draw(st.integers(1, 2))):
        offset = draw(st.sampled_from(["", "", "+1p", "+1", "-1p"]))
        mremap: Dict[str, Any] = {
            "op": "mremap",
            "old": f"A{offset}" if offset != "-1p" or names[-1] else "A",
            "old_size": draw(size_expr(pages)),
            "new_size": draw(size_expr(pages)),
            "raw": draw(st.sampled_from(FLAG_BITS)),
        }
        target = draw(
            st.sampled_from(
                ["", "lab+1G", "lab+2G", "A+1p", "lab+1G+1", "lab+3G"]
                + (["T"] if "T" in names else [])
                + (["N"] if "N" in names else [])
            )
        )
        if target:
            mremap["new_address"] = target
        if offset == "-1p":
            mremap["old"] = "A-1p"
        if not any(s.get("name") == "B" for s in steps):
            mremap["name"] = "B"
        steps.append(mremap)
        if steps[0]["kind"] == "vdso":
            continue  # the vDSO's code bytes are build-specific and not modelled: compare maps only
        steps.append({"op": "read", "at": "A", "size": f"{pages}p"})
        if mremap.get("name") == "B":
            steps.append({"op": "read", "at": "B"})
    return steps_toml(steps)


# -- comparing runs ----------------------------------------------------------------------------

_PID = re.compile(r"mremapctl\.\d+\.")


def _in_lab(run: Run, start: int) -> bool:
    return run.lab_start <= start < run.lab_end


def normal_entry(run: Run, entry: MapEntry) -> Tuple[Any, ...]:
    """What must agree: exact placement inside the lab; shape only for a kernel-chosen place."""
    path = _PID.sub("mremapctl.<pid>.", entry.path)
    if _in_lab(run, entry.start):
        return (
            "lab",
            entry.start - run.lab_start,
            entry.size,
            entry.perms,
            entry.offset,
            path,
            entry.vm_flags,
            entry.label,
        )
    return ("out", entry.size, entry.perms, path, entry.vm_flags, entry.label)


def normal_step(run: Run, index: int) -> Tuple[Any, ...]:
    step = run.steps[index]
    address: Optional[Any] = step.address
    if address is not None and step.op == "mremap" and not _in_lab(run, address):
        address = "outside the lab"
    elif address is not None:
        address -= run.lab_start
    return (step.op, step.outcome, address, tuple(comparable_runs(run, index)))


def differences(live: Run, sim: Run) -> List[str]:
    """Human-readable differences between a live run and the model's run of the same scenario."""
    out = []
    if live.failure:
        out.append(f"live run failed: {live.failure}")
    for i in range(max(len(live.steps), len(sim.steps))):
        if i >= len(live.steps) or i >= len(sim.steps):
            out.append(f"step {i + 1}: missing on one side")
            continue
        a, b = normal_step(live, i), normal_step(sim, i)
        if a != b:
            out.append(f"step {i + 1} {live.steps[i].call}: live {a[1:]} sim {b[1:]} (rule {sim.steps[i].rule})")
    out += memory_differences(live, sim)
    la = sorted(normal_entry(live, e) for e in live.maps_after)
    sa = sorted(normal_entry(sim, e) for e in sim.maps_after)
    if la != sa:
        out.append(
            "maps after differ:\n  live "
            + "\n       ".join(map(str, la))
            + "\n  sim  "
            + "\n       ".join(map(str, sa))
        )
    return out


def memory_differences(live: Run, sim: Run) -> List[str]:
    """The smaps counters of the lab's ranges, wherever the model says it knows them."""
    known = {(e.start - live.lab_start, e.size): e.memory for e in live.maps_after if _in_lab(live, e.start)}
    out = []
    for entry in sim.maps_after:
        live_memory = known.get((entry.start - sim.lab_start, entry.size))
        if not _in_lab(sim, entry.start) or entry.memory is None or live_memory is None:
            continue
        fields = ("rss", "pss", "swap", "locked")
        said = {f: (getattr(live_memory, f), getattr(entry.memory, f)) for f in fields}
        if any(a != b for a, b in said.values()):
            out.append(f"memory of {entry.label or entry.path} differs (live, sim): {said}")
    return out
