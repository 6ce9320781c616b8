"""The GC flow through the kernel model of a chosen version: where does each kernel stop?

The model runs the steps it knows as a scenario (map and fill the heap, the DONTUNMAP pause,
the userfaultfd registration, a mutator's read of the heap, a read of the from-space). The
fault resolution (UFFDIO_COPY / UFFDIO_CONTINUE) is not modelled; neither is MINOR-mode
registration before the 5.14 model, whose answer is given from the kernel's history instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from mremapctl.errors import BadInput
from mremapctl.results import Run, StepResult
from mremapctl.scenario import parse_scenario

NOT_REACHED, NOT_MODELLED = "not reached", "not modelled"
HEAP_KIND = {"anon": "a private anonymous heap", "memfd": "a memfd-shared heap"}
MINOR_TOUCH = "a mutator's access would take a minor fault into the handler (not modelled)"


@dataclass
class WalkStep:
    name: str  # heap | pause | register | touch | from-space | resolve
    call: str
    outcome: str  # ok, an errno name, "uffd" (would wait for the handler), not reached, not modelled
    detail: str = ""
    rule: Optional[str] = None


@dataclass
class Walk:
    kernel: str
    heap: str
    size: int
    model_notes: List[str] = field(default_factory=list)
    steps: List[WalkStep] = field(default_factory=list)

    @property
    def stops_at(self) -> Optional[str]:
        """The first step the kernel refuses (None: the flow goes through)."""
        return next((s.name for s in self.steps if s.outcome not in ("ok", "uffd", NOT_MODELLED)), None)


def scenario_text(heap: str, size: int, with_uffd: bool) -> str:
    mode = "minor" if heap == "memfd" else "missing"
    shared = "shared = true\n" if heap == "memfd" else ""
    text = (
        f'[[step]]\nop = "mmap"\nname = "heap"\nkind = "{heap}"\n{shared}size = "{size}"\nfill = "H"\n\n'
        f'[[step]]\nop = "mremap"\nold = "heap"\nnew_size = "{size}"\nflags = ["MAYMOVE", "FIXED", "DONTUNMAP"]\n'
        'new_address = "lab+16G"\nname = "from"\n\n'
    )
    if with_uffd:
        text += (
            f'[[step]]\nop = "uffd_register"\nat = "heap"\nmode = "{mode}"\n\n[[step]]\nop = "read"\nat = "heap"\n\n'
        )
    return text + '[[step]]\nop = "read"\nat = "from"\n'


def walk(kernel: str, heap: str, size: int) -> Walk:
    """Run the flow against the model of ``kernel`` and describe each step's outcome."""
    from mremapctl.backends.select import open_sim
    from mremapctl.kernel import parse_version
    from mremapctl.rules import get

    backend = open_sim(kernel)
    result = Walk(backend.kernel, heap, size)
    modelled = True
    try:
        run = backend.run(parse_scenario(scenario_text(heap, size, with_uffd=True)))
    except BadInput as err:  # the model does not know MINOR mode before 5.14
        run, modelled = backend.run(parse_scenario(scenario_text(heap, size, with_uffd=False))), False
        result.model_notes.append(str(err))
    result.model_notes = run.notes + result.model_notes
    by_op, reads = _steps(run)
    result.steps.append(_from_run("heap", by_op["mmap"], f"map {HEAP_KIND[heap]} and fill it with objects"))
    result.steps.append(_from_run("pause", by_op["mremap"], "the stop-the-world move"))
    if modelled:
        result.steps.append(_from_run("register", by_op["uffd_register"], "userfaultfd on the heap"))
        result.steps.append(_touch(reads[0]))
    else:
        minor = get("uffd-minor-mode").applies(parse_version(kernel))
        result.steps.append(_minor_history(minor, backend.lab.start, size))
        result.steps.append(WalkStep("touch", f"read({backend.lab.start:#x}, {size})", NOT_MODELLED, MINOR_TOUCH))
    result.steps.append(_resolve(heap))
    result.steps.append(_from_run("from-space", reads[-1], "the moved copy the handler compacts from"))
    _cut_after_stop(result)
    return result


def _steps(run: Run) -> Tuple[Dict[str, StepResult], List[StepResult]]:
    """The run's steps by op, and its reads in order (heap, from-space)."""
    return {s.op: s for s in run.steps if s.op != "read"}, [s for s in run.steps if s.op == "read"]


def _from_run(name: str, step: StepResult, what: str) -> WalkStep:
    outcome = step.outcome
    detail = step.explain or (step.note or what)
    if step.op == "read" and step.pages:
        outcome, detail = ("ok", f"reads {step.pages[0]}: {what}") if step.ok else (outcome, detail)
    return WalkStep(name, step.call, outcome, detail, step.rule)


def _touch(step: StepResult) -> WalkStep:
    page = step.pages[0] if step.pages else step.outcome
    if page == "uffd":
        return WalkStep("touch", step.call, "uffd", "a mutator's access waits for the handler (a userfaultfd fault)")
    return WalkStep("touch", step.call, "ok", f"reads {page}: no fault reaches the handler")


def _minor_history(supported: bool, heap_addr: int, size: int) -> WalkStep:
    call = f"ioctl(uffd, UFFDIO_REGISTER, {{{heap_addr:#x}, {size}, MODE_MINOR}})"
    if supported:
        return WalkStep("register", call, NOT_MODELLED, "MINOR faults on shmem exist since 5.14 (not in this model)")
    return WalkStep(
        "register",
        call,
        "EINVAL",
        "from the kernel's history, not the model: MINOR faults on shmem came in 5.14 (UFFD_FEATURE_MINOR_SHMEM); "
        "before, UFFDIO_API refuses the feature and MODE_MINOR on a shmem range is EINVAL",
    )


def _resolve(heap: str) -> WalkStep:
    ioctl = "UFFDIO_CONTINUE" if heap == "memfd" else "UFFDIO_COPY"
    return WalkStep(
        "resolve", f"ioctl(uffd, {ioctl}, …)", NOT_MODELLED, "the model has no userfaultfd ioctls: live only"
    )


def _cut_after_stop(result: Walk) -> None:
    stop = result.stops_at
    if stop is None:
        return
    index = next(i for i, s in enumerate(result.steps) if s.name == stop)
    for step in result.steps[index + 1 :]:
        step.outcome, step.detail, step.rule = NOT_REACHED, f"the flow stopped at the {stop}", None
