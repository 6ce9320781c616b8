"""Instructions per single-mremap simulation, counted by valgrind: a figure this noisy machine
cannot move (wall time moves by 15% between runs; this by none).

The cost of N scenarios minus the cost of a few (start-up cancels out), over the same cases as
sim_speed.py. ``--against SRC`` counts another tree too (a `git archive` of an older commit's
src/ folder, compiled), for a ratio:

    .venv/bin/python benchmarks/sim_instructions.py [--runs 600] [--against /tmp/old/src]
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

WORK = """
import sys
sys.path.insert(0, {benchmarks!r})
from sim_speed import CASES
from mremapctl.backends.select import open_sim
from mremapctl.experiment import build
from mremapctl.primitives import RunOptions
backend = open_sim("6.18")
scenarios = [build(case, 4096)[0] for case in CASES]
for i in range(int(sys.argv[1])):
    backend.run(scenarios[i % len(scenarios)], RunOptions())
"""


def instructions(runs: int, src: Optional[str]) -> int:
    """What valgrind counts for a process that runs ``runs`` scenarios (``src``: the tree to import)."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}  # the same dict orders, so the same work, every time
    if src:
        env["PYTHONPATH"] = src
    code = WORK.format(benchmarks=str(Path(__file__).resolve().parent))
    argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", code, str(runs)]
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stderr
    found = re.search(r"Collected : (\d+)", out)
    if not found:
        raise SystemExit(f"valgrind said nothing countable:\n{out[-2000:]}")
    return int(found.group(1))


def per_scenario(runs: int, src: Optional[str]) -> float:
    if src:
        compileall.compile_dir(src, quiet=1)  # a first import would count the compiling
    instructions(60, src)  # and the tool's own bytecode, written here if it was not yet
    return (instructions(60 + runs, src) - instructions(60, src)) / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=600)
    parser.add_argument("--against", metavar="SRC", help="another tree's src/ folder, to compare")
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is not installed (apt install valgrind)")
    here = per_scenario(args.runs, None)
    print(f"this tree     {here:12,.0f} instructions per scenario")
    if args.against:
        there = per_scenario(args.runs, args.against)
        print(f"{args.against}  {there:12,.0f} instructions per scenario  (this tree: {here / there:.3f}x)")


if __name__ == "__main__":
    main()
