"""`try` can say what a scenario can: userfaultfd, a DONTUNMAP hint, FIXED onto a mapping,
populating without writing, transparent huge pages, exact bits with an address. Each saves as
scenario keys and replays the same."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, List

import pytest


def calls(data: Dict[str, Any]) -> List[str]:
    return [step["call"] for step in data["steps"]]


def memory_of(entries: List[Dict[str, Any]], label: str) -> Dict[str, Any]:
    return next(e for e in entries if e["label"] == label)


def round_trip(cli: Any, tmp_path: Path, args: List[str]) -> Dict[str, Any]:
    """Run `try ARGS`, save it, replay the file: the calls must be the same; the saved TOML is returned
    with the first run's JSON."""
    saved = tmp_path / "exp.toml"
    first = cli(["try", *args, "--save-scenario", str(saved), "--json"])
    assert first.exit_code == 0, first.stderr
    data = json.loads(first.stdout)
    again = json.loads(cli(["run", str(saved), "--json"]).stdout)
    strip = re.compile(r"0x7f[0-9a-f]+")  # kernel-chosen addresses differ from run to run
    assert [strip.sub("ADDR", c) for c in calls(again)] == [strip.sub("ADDR", c) for c in calls(data)]
    return {"json": data, "toml": saved.read_text()}


def test_uffd_registers_before_the_move(cli: Any, tmp_path: Path) -> None:
    done = round_trip(cli, tmp_path, ["--anon", "--dontunmap", "--uffd", "missing"])
    assert 'op = "uffd_register"' in done["toml"] and 'mode = "missing"' not in done["toml"]  # the default
    steps = done["json"]["steps"]
    assert steps[1]["call"].startswith("ioctl(uffd, UFFDIO_REGISTER, {0x100000000000, 16384, MODE_MISSING})")
    assert steps[1]["ok"] and steps[2]["op"] == "mremap"
    assert steps[3]["pages"] == ["uffd"] * 4  # the old range now faults to the (absent) handler


def test_uffd_minor_mode_is_saved(cli: Any, tmp_path: Path) -> None:
    done = round_trip(cli, tmp_path, ["--memfd", "--dontunmap", "--uffd", "minor"])
    assert 'mode = "minor"' in done["toml"]
    assert "MODE_MINOR" in done["json"]["steps"][1]["call"]


def test_hint_is_new_address_without_fixed(cli: Any, tmp_path: Path) -> None:
    done = round_trip(cli, tmp_path, ["--anon", "--dontunmap", "--hint", "lab+2G"])
    assert 'new_address = "lab+2G"' in done["toml"] and '"FIXED"' not in done["toml"]
    mremap = done["json"]["steps"][1]
    assert mremap["call"] == "mremap(0x100000000000, 16384, 16384, MREMAP_MAYMOVE|MREMAP_DONTUNMAP, 0x100080000000)"
    assert mremap["address"] == "0x100080000000"  # the hint was free: the kernel took it


def test_onto_moves_fixed_onto_a_mapping_that_loses_that_part(cli: Any, tmp_path: Path) -> None:
    done = round_trip(cli, tmp_path, ["--anon", "--onto"])
    assert 'name = "target"' in done["toml"] and 'new_address = "target"' in done["toml"]
    data = done["json"]
    assert data["steps"][1]["call"].startswith("mmap(0x100040000000, 20480,")
    moved = "mremap(0x100000000000, 16384, 16384, MREMAP_MAYMOVE|MREMAP_FIXED, 0x100040000000)"
    assert data["steps"][2]["call"] == moved
    left = memory_of(data["maps_after"], "target")
    assert (left["start"], left["end"]) == ("0x100040004000", "0x100040005000")  # the page past the move


@pytest.mark.parametrize(("how", "resident"), [("read", 0), ("write", 16384)])
def test_populate_faults_pages_in_without_data(cli: Any, tmp_path: Path, how: str, resident: int) -> None:
    done = round_trip(cli, tmp_path, ["--anon", "--maymove", "--fixed", "--populate", how])
    assert f'advice = "populate_{how}"' in done["toml"] and "fill" not in done["toml"]
    data = done["json"]
    # a read maps the shared zero page (not resident); a write fault allocates zeroed pages
    assert memory_of(data["maps_before"], "old")["rss"] == resident
    assert data["steps"][-1]["pages"] == ["zero"] * 4


def test_thp_advice_comes_before_the_first_touch(cli: Any, tmp_path: Path) -> None:
    done = round_trip(cli, tmp_path, ["--anon", "--size", "4M", "--thp", "huge", "--maymove", "--fixed"])
    ops = [(s["op"], s["call"]) for s in done["json"]["steps"]]
    assert [op for op, _ in ops[:3]] == ["mmap", "madvise", "write"] and "MADV_HUGEPAGE" in ops[1][1]
    assert "hg" in memory_of(done["json"]["maps_before"], "old")["vm_flags"]
    with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
        thp_on = "[never]" not in f.read()
    if thp_on:  # the region is 2 MiB-aligned in the lab: its pages can be huge from the first write
        assert memory_of(done["json"]["maps_before"], "old")["anon_huge_pages"] > 0


def test_thp_with_a_read_only_region_fills_then_protects(cli: Any) -> None:
    data = json.loads(cli(["try", "--anon", "--thp", "none", "--prot", "r", "--json"]).stdout)
    assert [s["op"] for s in data["steps"][:4]] == ["mmap", "madvise", "write", "mprotect"]
    assert "PROT_READ|PROT_WRITE" in data["steps"][0]["call"] and data["steps"][3]["ok"]
    assert memory_of(data["maps_after"], "new")["perms"] == "r--p"


def test_raw_flags_with_fixed_address_sends_the_bits_to_that_address(cli: Any, tmp_path: Path) -> None:
    done = round_trip(cli, tmp_path, ["--anon", "--raw-flags", "0x3", "--fixed", "lab+3G"])
    assert "raw = 3" in done["toml"] and 'new_address = "lab+3G"' in done["toml"]
    mremap = done["json"]["steps"][1]
    assert mremap["call"] == "mremap(0x100000000000, 16384, 16384, MREMAP_MAYMOVE|MREMAP_FIXED, 0x1000c0000000)"
    assert mremap["address"] == "0x1000c0000000"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--hint", "lab+1G", "--fixed", "lab+2G"], "--hint and --fixed exclude each other"),
        (["--hint", "lab+1G", "--onto"], "--hint and --onto exclude each other"),
        (["--raw-flags", "3", "--fixed"], "--raw-flags gives the exact bits"),
        (["--uffd", "sometimes"], "'sometimes' is not one of 'missing', 'wp', 'minor'"),
        (["--populate", "yes"], "'yes' is not one of 'read', 'write'"),
        (["--thp", "always"], "'always' is not one of 'huge', 'none'"),
        (["--hint", "elsewhere"], "unknown region 'elsewhere'"),
    ],
)
def test_contradictions_and_bad_values_are_one_line(cli_no_live: Any, args: List[str], says: str) -> None:
    result = cli_no_live(["try", *args])
    assert result.exit_code == 2 and says in result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
