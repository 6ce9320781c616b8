"""The address-space band and the student explanations."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from mremapctl.backends.select import open_sim
from mremapctl.experiment import TryOptions, build
from mremapctl.render.picture import band, legend
from mremapctl.results import diff_maps
from mremapctl.teach import explain_step
from tests.cli.conftest import invoke


def picture(**opts: object) -> str:
    run = open_sim("6.18").run(build(TryOptions(**opts), 4096)[0])  # type: ignore[arg-type]
    console = Console(width=200, no_color=True)
    with console.capture() as capture:
        console.print(band(diff_maps(run.maps_before, run.maps_after), run.lab_start, run.lab_end))
    return capture.get().strip()


def test_move_marks_the_old_place_gone_and_the_new_one_added() -> None:
    assert picture(kind="anon", fixed="") == "lab ╎✗old 16 KiB╎··1 GiB··▕+new 16 KiB▏··31 GiB··"


def test_dontunmap_keeps_the_old_region_and_shows_the_copy_elsewhere() -> None:
    text = picture(kind="memfd", dontunmap=True)
    assert text.startswith("lab ▕old 16 KiB▏··32 GiB·· │ elsewhere ▕+new 16 KiB▏ 0x7")


def test_without_colour_each_bar_names_its_kind_and_the_legend_says_so() -> None:
    run = open_sim("6.18").run(build(TryOptions(kind="memfd", dontunmap=True), 4096)[0])
    rows = diff_maps(run.maps_before, run.maps_after)
    text = band(rows, run.lab_start, run.lab_end, plain=True).plain
    assert text.startswith("lab ▕old 16 KiB memfd▏") and "▕+new 16 KiB memfd▏" in text
    assert "anon" not in legend(plain=True).plain and "kind" in legend(plain=True).plain
    assert "memfd" in legend().plain  # in colour the legend is the colour key


def test_with_smaps_the_bars_say_what_is_resident() -> None:
    run = open_sim("6.18").run(build(TryOptions(kind="anon", dontunmap=True), 4096)[0])
    text = band(diff_maps(run.maps_before, run.maps_after), run.lab_start, run.lab_end, smaps=True).plain
    assert "▕old 16 KiB rss 0▏" in text and "▕+new 16 KiB rss 16 KiB▏" in text


def test_growth_in_place_is_a_change() -> None:
    assert picture(kind="anon", maymove=True, grow=True) == "lab ▕~new 32 KiB▏··32 GiB··"


def test_explanations_come_from_the_rules() -> None:
    run = open_sim("5.12").run(build(TryOptions(kind="memfd", dontunmap=True), 4096)[0])
    mremap = next(s for s in run.steps if s.op == "mremap")
    text = explain_step(mremap) or ""
    assert "Before Linux 5.13" in text and "Linux 5.7–5.12" in text
    read = next(s for s in run.steps if s.op == "read")
    assert "data:X means" in (explain_step(read) or "")


def test_explain_picture_and_exports_on_the_command_line(tmp_path: Path) -> None:
    svg, html = tmp_path / "out.svg", tmp_path / "out.html"
    result = invoke(
        ["try", "--anon", "--dontunmap", "--backend", "sim", "--explain", "--svg", str(svg), "--html", str(html)]
    )
    assert result.exit_code == 0
    assert "↳ The data now lives at the new address" in result.stdout and "lab ▕old 16 KiB anon▏" in result.stdout
    assert svg.read_text().startswith("<svg") and "DONTUNMAP" in svg.read_text()
    assert "<html" in html.read_text() and "DONTUNMAP" in html.read_text()
    quiet = invoke(["try", "--anon", "--dontunmap", "--backend", "sim", "--no-picture"])
    assert "lab ▕" not in quiet.stdout


def test_show_c_prints_a_program_that_builds_and_runs(tmp_path: Path, live_backend: object, cc: str) -> None:
    import subprocess

    result = invoke(["try", "--memfd", "--dontunmap", "--show-c"])
    assert result.exit_code == 0 and result.stdout.startswith("/*") and "int main(void)" in result.stdout
    source = tmp_path / "exp.c"
    source.write_text(result.stdout)
    subprocess.run([cc, "-O2", "-o", str(tmp_path / "exp"), str(source)], check=True)
    out = subprocess.run([str(tmp_path / "exp")], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[1].startswith("step 2 mremap ok 0x7") and out[2] == "step 3 read ok data:A data:A data:A data:A"
