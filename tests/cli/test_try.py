"""``mremapctl try``: the tables a person reads and the JSON a script reads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "run.schema.json").read_text())


def test_memfd_dontunmap_tables(cli: Any) -> None:
    result = cli(["try", "--memfd", "--dontunmap"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("backend live · kernel ") and "page 4 KiB" in lines[0]
    assert "lab 0x100000000000–0x100800000000" in lines[0]
    assert any("--dontunmap implies MREMAP_MAYMOVE" in line for line in lines)
    call = next(line for line in lines if line.startswith("mremap("))
    assert re.fullmatch(
        r"mremap\(0x100000000000, 16384, 16384, MREMAP_MAYMOVE\|MREMAP_DONTUNMAP, 0\) = 0x7f[0-9a-f]+", call
    )
    table = result.stdout[result.stdout.index("maps (lab") : result.stdout.index("contents now")]
    assert re.search(
        r"0x100000000000-0x100000004000\s+16 KiB\s+rw-s\s+0x0\s+/memfd:old \(deleted\)\s+old\s+"
        r"rd wr sh mr mw me ms\s+unchanged",
        table,
    )
    assert re.search(r"0x7f[0-9a-f]+-0x7f[0-9a-f]+\s+16 KiB\s+rw-s .* new .* added", table)
    assert re.search(r"old range\s+0x100000000000\s+data:A ×4", result.stdout)
    assert re.search(r"new range\s+0x7f[0-9a-f]+\s+data:A ×4", result.stdout)
    assert re.search(r"\d+ other mappings of the process are not shown", result.stdout)


def test_refusal_is_a_result_not_a_failure(cli: Any) -> None:
    result = cli(["try", "--perf", "--dontunmap"])
    assert result.exit_code == 0
    assert "= -1 EINVAL (Invalid argument)" in result.stdout
    assert "pf io dc de dd" in result.stdout
    assert "skipped: region 'new' was not created" in result.stdout


def test_unknown_bits_in_hex(cli: Any) -> None:
    result = cli(["try", "--raw-flags", "0x9"])
    assert "MREMAP_MAYMOVE|0x8) = -1 EINVAL" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--memfd", "--dontunmap"],
        ["--anon", "--dontunmap"],
        ["--perf", "--dontunmap"],
        ["--anon", "--maymove", "--grow"],
        ["--vdso", "--fixed"],
        ["--file", "--private", "--dontunmap"],
    ],
)
def test_json_follows_the_schema(cli: Any, args: list) -> None:
    result = cli(["try", *args, "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    jsonschema.validate(data, SCHEMA)
    assert data["backend"] == "live" and data["lab"]["start"] == "0x100000000000"


def test_json_contents(cli: Any) -> None:
    data = json.loads(cli(["try", "--anon", "--dontunmap", "--json"]).stdout)
    mremap = next(s for s in data["steps"] if s["op"] == "mremap")
    assert mremap["ok"] and mremap["call"] == "mremap(0x100000000000, 16384, 16384, MREMAP_MAYMOVE|MREMAP_DONTUNMAP, 0)"
    reads = [s for s in data["steps"] if s["op"] == "read"]
    assert reads[0]["result"] == "zero" and reads[1]["pages"] == ["data:A"] * 4
    assert [d["status"] for d in data["diff"]] == ["unchanged", "added"]
    perf = json.loads(cli(["try", "--perf", "--dontunmap", "--json"]).stdout)
    refused = next(s for s in perf["steps"] if s["op"] == "mremap")
    assert (refused["errno"], refused["errno_value"], refused["address"]) == ("EINVAL", 22, None)


def test_save_scenario_replays(cli: Any, tmp_path: Path) -> None:
    saved = tmp_path / "exp.toml"
    first = json.loads(cli(["try", "--memfd", "--dontunmap", "--save-scenario", str(saved), "--json"]).stdout)
    again = json.loads(cli(["run", str(saved), "--json"]).stdout)
    assert next(s["call"] for s in again["steps"]) == first["steps"][0]["call"]
    assert [s.get("pages") for s in again["steps"]][2] == ["data:A"] * 4


def test_full_maps_shows_the_process(cli: Any) -> None:
    result = cli(["try", "--full-maps", "--json"])
    paths = {e["path"] for e in json.loads(result.stdout)["maps_after"]}
    assert "[stack]" in paths and "[vdso]" in paths


def test_full_maps_is_titled_the_whole_process_and_pictures_the_experiment(cli: Any) -> None:
    result = cli(["try", "--anon", "--dontunmap", "--full-maps"])
    assert result.exit_code == 0, result.stderr
    assert "maps (the whole process)" in result.stdout and "maps (lab and" not in result.stdout
    band = next(line for line in result.stdout.splitlines() if line.startswith("lab "))
    assert band.count("▕") == 2  # old and new only: the process's other mappings are in the table
    assert "[stack]" in result.stdout and "other mappings of the process are not shown" not in result.stdout


def test_no_tables_hides_every_table_and_keeps_the_calls(cli: Any) -> None:
    result = cli(["try", "--anon", "--dontunmap", "--no-tables", "--smaps"])
    assert result.exit_code == 0, result.stderr
    for title in ("maps (", "memory (", "contents now"):
        assert title not in result.stdout
    assert "read(0x100000000000, 16384) = zero ×4" in result.stdout  # the reads, as calls
    assert re.search(r"read\(0x7f[0-9a-f]+, 16384\) = data:A ×4", result.stdout)
