"""Big regions: a 1 GiB experiment next to the C floor for the same work, and the simulation at
sizes no page-by-page model could hold.

The floor (benchmarks/big_floor.c, built here with cc -O2) maps, fills, grows with MREMAP_MAYMOVE and
reads the first byte of every page of the new range; mremapctl does that and more (maps before
and after, the old range read, the model's prediction). Ratios of medians from alternating runs:

    .venv/bin/python benchmarks/big_regions.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import medians

HERE = Path(__file__).resolve().parent
TOOL = [sys.executable, "-m", "mremapctl", "try", "--anon", "--maymove", "--grow", "--json"]
GiB = 1 << 30


def build_floor(directory: str) -> str:
    binary = str(Path(directory) / "big_floor")
    subprocess.run(["cc", "-O2", "-o", binary, str(HERE / "big_floor.c")], check=True)
    return binary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        floor = build_floor(tmp)
        pairs = {
            "live 1G filled": ([*TOOL, "--size", "1G"], [floor, str(GiB), "fill"]),
            "live 1G unfilled": ([*TOOL, "--size", "1G", "--no-fill"], [floor, str(GiB), "nofill"]),
            "live 16G unfilled": ([*TOOL, "--size", "16G", "--no-fill", "--lab-size", "64G"], None),
            "sim 1G": ([*TOOL, "--size", "1G", "--backend", "sim"], None),
            "sim 4G": ([*TOOL, "--size", "4G", "--backend", "sim"], None),
            "sim 64G": ([*TOOL, "--size", "64G", "--backend", "sim", "--lab-size", "256G"], None),
        }
        commands = {}
        for label, (tool, reference) in pairs.items():
            commands[label] = tool
            if reference:
                commands[f"{label} (C floor)"] = reference
        results = medians(commands, args.rounds)
    print(f"{'experiment':26} {'median':>9} {'peak RSS':>10} {'÷ C floor':>10}")
    for label in pairs:
        seconds, peak = results[label]
        floor_result = results.get(f"{label} (C floor)")
        ratio = f"{seconds / floor_result[0]:8.2f}×" if floor_result else ""
        print(f"{label:26} {seconds:7.2f} s {peak / 1024:7.0f} MB {ratio:>10}")
        if floor_result:
            print(f"{'  C floor':26} {floor_result[0]:7.2f} s {floor_result[1] / 1024:7.0f} MB")


if __name__ == "__main__":
    main()
