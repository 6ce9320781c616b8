"""``--smaps`` and the JSON's memory counters: where a range's pages are after a move, as smaps
and pmap -X count them (Rss, Pss, Swap, Locked, AnonHugePages)."""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List

import pytest


def counters(entries: List[Dict[str, Any]], label: str) -> Dict[str, Any]:
    entry = next(e for e in entries if e["label"] == label)
    return {k: entry[k] for k in ("rss", "pss", "swap", "locked", "anon_huge_pages")}


@pytest.mark.parametrize("kind", ["anon", "memfd"])
def test_dontunmap_leaves_the_old_range_mapped_but_empty(cli: Any, kind: str) -> None:
    data = json.loads(cli(["try", f"--{kind}", "--dontunmap", "--json"]).stdout)
    before, after = counters(data["maps_before"], "old"), counters(data["maps_after"], "old")
    assert before["rss"] == before["pss"] == 16384
    assert after["rss"] == after["pss"] == 0  # taken right after the mremap: the reads come later
    assert counters(data["maps_after"], "new")["rss"] == 16384


def test_smaps_table_shows_before_and_after(cli: Any) -> None:
    result = cli(["try", "--anon", "--dontunmap", "--smaps"])
    assert result.exit_code == 0, result.stderr
    table = result.stdout[result.stdout.index("memory (smaps") : result.stdout.index("contents now")]
    assert "Rss" in table and "Pss" in table and "Swap" in table and "Locked" in table and "AnonHugePages" in table
    assert re.search(r"0x100000000000-0x100000004000\s+old\s+16 KiB → 0\s+16 KiB → 0\s+0\s+0\s+0\s+unchanged", table)
    assert re.search(r"0x7f[0-9a-f]+-0x7f[0-9a-f]+\s+new\s+16 KiB\s+16 KiB\s+0\s+0\s+0\s+added", table)
    assert "▕old 16 KiB anon rss 0▏" in result.stdout  # the picture says it too


def test_without_smaps_no_memory_table(cli: Any) -> None:
    assert "memory (smaps" not in cli(["try", "--anon", "--dontunmap"]).stdout


def test_locked_counts_the_locked_pages(cli: Any) -> None:
    data = json.loads(cli(["try", "--anon", "--mlock", "--maymove", "--grow", "--json"]).stdout)
    assert counters(data["maps_before"], "old")["locked"] == 16384


def test_run_shows_the_counters_after_each_step(cli: Any) -> None:
    result = cli(["run", "dontunmap-memfd", "--smaps", "--no-picture"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("memory (smaps: before → after this step)") >= 2
