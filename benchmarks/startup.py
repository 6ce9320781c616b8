"""Start-up: what a short command costs next to `python -c pass` of the same interpreter.

The issue's targets (median): `try --anon` <= 80 ms and <= 6x `python -c pass`; `try --json`
<= 60 ms; `try --backend sim` <= 70 ms; `--help` <= 40 ms. Run it on a quiet machine, with
bytecode written (a pip install compiles it), with the venv's own python:

    .venv/bin/python benchmarks/startup.py [--rounds 21] [--against OLD/src]

``--against`` also times each command of the tool from another tree (the src/ folder of a `git
archive` of an older commit), in the same rounds, for a ratio this noisy machine cannot move.
"""

from __future__ import annotations

import argparse
import compileall
import sys
from pathlib import Path

from timing import medians

TOOL = [str(Path(sys.executable).with_name("mremapctl"))]  # the console script people run
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    # What the libraries cost before any of the tool's code: click alone (all a --json needs),
    # and click with the parts of rich that every table and picture needs.
    "floor: import click": [sys.executable, "-c", "import click"],
    "floor: click + rich": [sys.executable, "-c", "import click, rich.console, rich.table"],
    "try --anon": [*TOOL, "try", "--anon"],
    "try --anon --json": [*TOOL, "try", "--anon", "--json"],
    "try --anon --backend sim": [*TOOL, "try", "--anon", "--backend", "sim"],
    "try --memfd --dontunmap": [*TOOL, "try", "--memfd", "--dontunmap"],
    "--help": [*TOOL, "--help"],
}
# The tool as a module, so that PYTHONPATH can choose which tree runs (the console script cannot).
AS_MODULE = "import sys; from mremapctl.cli import main; sys.argv[0] = 'mremapctl'; sys.exit(main())"
TARGET_MS = {"try --anon": 80, "try --anon --json": 60, "try --anon --backend sim": 70, "--help": 40}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--against", metavar="SRC", help="another tree's src/ folder, timed in the same rounds")
    args = parser.parse_args()
    commands = dict(COMMANDS)
    if args.against:
        compileall.compile_dir(args.against, quiet=1)  # as a pip install would have
        for label, argv in COMMANDS.items():
            if argv[0] == TOOL[0]:
                commands[f"{label} (this tree)"] = ["env", sys.executable, "-c", AS_MODULE, *argv[1:]]
                commands[f"{label} (against)"] = ["env", f"PYTHONPATH={args.against}", sys.executable, "-c", AS_MODULE]
                commands[f"{label} (against)"] += argv[1:]
    results = medians(commands, args.rounds, warmup=2)
    floor = results["python -c pass"][0]
    print(f"{'command':40} {'median':>9} {'× pass':>7} {'target':>8}")
    for label, (seconds, _) in results.items():
        target = f"{TARGET_MS[label]} ms" if label in TARGET_MS else ""
        print(f"{label:40} {seconds * 1000:7.1f} ms {seconds / floor:6.1f}× {target:>8}")


if __name__ == "__main__":
    main()
