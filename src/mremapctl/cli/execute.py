"""The part every experiment command shares: open the backend, run, render, choose the exit code."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple, cast

from mremapctl.cli.output import Output, refuse_together
from mremapctl.errors import Unavailable
from mremapctl.lab import Lab
from mremapctl.primitives import RunOptions
from mremapctl.results import Run
from mremapctl.scenario.load import Scenario

if TYPE_CHECKING:
    from mremapctl.backends.live.runner import LiveBackend


def run_options_from(opts: Dict[str, Any], per_step_maps: bool = True) -> RunOptions:
    return RunOptions(
        timeout=opts["timeout"], force=opts["force"], full_maps=opts["full_maps"], per_step_maps=per_step_maps
    )


def run_and_show(
    output: Output,
    opts: Dict[str, Any],
    make_scenario: Callable[[int], Tuple[Scenario, List[str]]],
    read_labels: Optional[Sequence[str]] = None,
    save: Optional[Callable[[Scenario], Any]] = None,
    check: bool = False,
    not_carried_out: Optional[Callable[[Run], Optional[str]]] = None,
) -> Run:
    """Run the scenario ``make_scenario(page_size)`` builds and print it; exits 1 when it could not run
    (``not_carried_out`` says why a run that completed still did not do the experiment)."""
    from mremapctl.documents import run_json

    if opts.get("show_c"):
        refuse_together(opts, "show_c", "svg", "html")  # a C program instead of the output to save
        show_c(make_scenario, opts["lab_size"], opts.get("page_size"))
    with output.progress("experiment") as progress:
        warm_up = None if output.json else _import_renderer
        run = carry_out(opts, make_scenario, read_labels is not None, save, progress.say, warm_up)
    if not run.failure and not_carried_out:
        run.failure = not_carried_out(run)
    output.record = bool(opts.get("svg") or opts.get("html"))  # --svg / --html export what was printed
    output.show(run_json(run), render_and_export, opts, run, read_labels)
    if run.failure:
        raise Unavailable(f"the experiment could not be carried out: {run.failure}")
    if check:
        verdict(output, run)
    return run


def carry_out(
    opts: Dict[str, Any],
    make_scenario: Callable[[int], Tuple[Scenario, List[str]]],
    one_call: bool,
    save: Optional[Callable[[Scenario], Any]],
    progress: Callable[[str], None],
    warm_up: Optional[Callable[[], None]] = None,
) -> Run:
    """Open the backend, build the scenario for its page size, run it, and annotate the run.

    A live run's child does the experiment while this process only waits: the model's prediction
    is made then, and ``warm_up`` (importing what will render it) is called then too.
    """
    from mremapctl.backends.select import open_backend

    backend, why = open_backend(
        opts.get("backend") or "auto",
        opts.get("kernel"),
        progress,
        opts["lab_size"],
        opts.get("arch"),
        opts.get("page_size"),
    )
    scenario, notes = make_scenario(backend.page_size)
    saved = save(scenario) if save else None
    if saved:
        notes.append(f"saved the experiment as {saved} (replay it with `mremapctl run {saved}`)")
    # `try` (one call) shows the maps before and after its mremap only; `run` after every step.
    options = run_options_from(opts, per_step_maps=not one_call)
    prediction = Prediction(scenario, opts["lab_size"])
    if backend.name == "live":
        live = cast("LiveBackend", backend)

        def meanwhile() -> None:
            prediction.make(live.kernel_version, live.page_size)
            if warm_up:
                warm_up()

        run = live.run(scenario, options, meanwhile=meanwhile)
    else:
        run = backend.run(scenario, options)
    if why:
        run.notes.insert(0, why)
    if backend.name == "vm":  # a guest's soft-dirty support shows in its maps, not in this machine's config
        prediction.make(run.kernel_version or run.kernel, run.page_size, run.arch, run.maps_after)
    prediction.apply(run)
    run.notes.extend(notes)
    return run


class Prediction:
    """What the model of a run's kernel says of the scenario, to annotate a live or vm run with
    (never fatal: the live answer stands)."""

    def __init__(self, scenario: Scenario, lab_size: int) -> None:
        self.scenario, self.lab_size = scenario, lab_size
        self.model: Any = None
        self.predicted: Optional[Run] = None
        self.refused: Optional[str] = None

    def make(self, kernel: str, page_size: int, arch: Optional[str] = None, maps: Optional[List[Any]] = None) -> None:
        """``maps``: the run's, to read soft-dirty support from (default: this machine's kernel config)."""
        from mremapctl.backends.select import open_sim
        from mremapctl.errors import BadInput, Unavailable
        from mremapctl.platforms import Platform, host_arch

        self.model = open_sim(kernel, self.lab_size, Platform(arch or host_arch(), page_size))
        if maps is not None:
            self.model.facts.soft_dirty = any("sd" in (e.vm_flags or ()) for e in maps)
        try:
            self.predicted = self.model.run(self.scenario)
        except (BadInput, Unavailable) as err:  # e.g. advice the model does not know: live ran it all the same
            self.refused = str(err).split(";")[0]

    def apply(self, run: Run) -> None:
        from mremapctl.annotate import annotate
        from mremapctl.kernel import model_info

        if self.model is None:
            return
        if self.predicted is None:
            run.notes.append(f"no prediction from the model of this kernel: {self.refused}")
            return
        annotate(run, self.predicted)
        run.model = model_info(self.model.answers_as)
        if self.model.answers_as.newer_than_models:  # the annotation stands, marked as the newest model's guess
            run.notes.extend(self.model.answers_as.notes)


def _import_renderer() -> None:
    import mremapctl.render.text  # noqa: F401 (rich and the tables, imported while a child experiments)


def render_and_export(console: Any, opts: Dict[str, Any], run: Run, read_labels: Optional[Sequence[str]]) -> None:
    """Tables and pictures for people; --svg / --html keep a copy."""
    from mremapctl.cli.params import write_text
    from mremapctl.render.text import Show, render_experiment, render_run

    show = Show(
        tables=opts.get("tables", True),
        picture=opts.get("picture", True),
        explain=opts.get("explain", False),
        smaps=opts.get("smaps", False),
        full_maps=opts.get("full_maps", False),
    )
    if read_labels is not None:
        render_experiment(console, run, read_labels, show)
    else:
        render_run(console, run, show)
    if opts.get("svg"):
        write_text(opts["svg"], console.export_svg(title="mremapctl", clear=False), "SVG image")
    if opts.get("html"):
        write_text(opts["html"], console.export_html(), "HTML page")


def verdict(output: Output, run: Run) -> None:
    """`run --check`: exit 1 when an expectation was missed, else say how many held."""
    judged = [s for s in run.steps if s.expect_met is not None]
    missed = [s for s in judged if s.expect_met is False]
    if missed:
        raise Unavailable(f"{len(missed)} step(s) did not meet their expect")
    output.note(
        f"check: all {len(judged)} expectations met"
        if judged
        else "check: this scenario has no expect lines, so there was nothing to check"
    )


def show_c(make_scenario: Callable[[int], Tuple[Scenario, List[str]]], lab_size: int, page_size: Optional[str]) -> None:
    """--show-c: print the experiment as a C program for this machine's page size (or --page-size's)
    instead of running it."""
    from mremapctl.platforms import parse_page_size
    from mremapctl.render.c_program import c_program
    from mremapctl.units import host_page_size

    page = parse_page_size(page_size) or host_page_size()
    print(c_program(make_scenario(page)[0], page, lab=Lab(size=lab_size)), end="")
    sys.exit(0)
