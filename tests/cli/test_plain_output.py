"""Output without colour: piped or NO_COLOR it has no trailing spaces and says in words what
colour would have said; --no-color on a terminal emits no escape sequence at all."""

from __future__ import annotations

from typing import List

import pytest

from mremapctl.bench.render import NOISY_MARK, cell_text
from tests.cli.conftest import invoke

ESC = "\x1b"

# Every command that needs neither the network nor minutes of work, with what it prints.
COMMANDS = [
    ["try", "--anon", "--dontunmap", "--smaps"],
    ["try", "--memfd", "--dontunmap", "--backend", "sim", "--kernel", "5.12", "--explain"],
    ["run", "gc-heap-flip", "--smaps"],
    ["run", "--list"],
    ["kinds"],
    ["explain", "EINVAL"],
    ["explain", "DONTUNMAP"],
    ["kernels"],
    ["matrix", "--backend", "sim", "--kinds", "anon,memfd"],
    ["matrix", "--kernel", "5.12", "--kernel", "5.13", "--kinds", "memfd,perf"],
    ["demo", "gc", "--backend", "sim", "--kernel", "5.12"],
    ["bench", "--quick", "--sizes", "4K", "--ops", "move", "--placements", "pud", "--populated", "no"],
    ["--help"],
    ["try", "--help"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_piped_output_has_no_trailing_spaces_and_no_escapes(live_backend: object, args: List[str]) -> None:
    result = invoke(args, {"NO_COLOR": "1"})
    assert result.exit_code == 0, result.stderr
    padded = [line for line in result.stdout.splitlines() if line.endswith(" ")]
    assert not padded, f"{len(padded)} lines end in spaces, e.g. {padded[0]!r}"
    assert ESC not in result.stdout


@pytest.mark.parametrize("args", COMMANDS[:3] + COMMANDS[8:10], ids=" ".join)
def test_no_color_on_a_terminal_emits_no_escape_sequence(live_backend: object, args: List[str]) -> None:
    coloured = invoke(args, {"FORCE_COLOR": "1"})  # as on a terminal: styles are escape sequences
    assert ESC in coloured.stdout  # so the test can fail
    plain = invoke([*args, "--no-color"], {"FORCE_COLOR": "1"})
    assert plain.exit_code == 0 and ESC not in plain.stdout
    assert ESC not in invoke(args, {"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout


def test_without_colour_the_band_names_each_kind(live_backend: object) -> None:
    out = invoke(["try", "--memfd", "--dontunmap"], {"NO_COLOR": "1"}).stdout
    assert "▕old 16 KiB memfd▏" in out and "band: a bar per range: region, size, kind" in out


def test_a_noisy_bench_cell_is_marked_not_only_yellow() -> None:
    from mremapctl.bench.cases import Selection, build_cases
    from mremapctl.bench.report import CaseStats

    case = build_cases(Selection(sizes=(4096,)))[0]
    noisy, steady = CaseStats(case, 30, median_ns=1500, spread=3.0), CaseStats(case, 30, median_ns=1500, spread=1.1)
    assert noisy.noisy and cell_text(noisy).plain.endswith(NOISY_MARK)
    assert not cell_text(steady).plain.endswith(NOISY_MARK)


def test_the_matrix_marks_differences_and_says_what_its_columns_send(live_backend: object) -> None:
    out = invoke(
        ["matrix", "--kernel", "5.12", "--kernel", "5.13", "--kinds", "memfd,perf", "--flags", "FIXED,DONTUNMAP"],
        {"NO_COLOR": "1"},
    ).stdout
    lines = out.splitlines()
    assert any(line.split()[:2] == ["memfd", "≠"] for line in lines)
    assert any(line.split()[:2] == ["perf", "EINVAL"] for line in lines)  # the same in both: unmarked
    assert "FIXED, DONTUNMAP: sent with MREMAP_MAYMOVE too" in out
