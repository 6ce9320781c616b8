"""How many single-mremap scenarios per second the simulation runs (issue: >= 10,000/s).

A scenario here is what `try` runs minus rendering: map a region (filled), mremap it, read
both ranges; each through the engine, with maps snapshots, as a user's run would be.

    python benchmarks/sim_speed.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import itertools
import time

from mremapctl.backends.select import open_sim
from mremapctl.experiment import TryOptions, build
from mremapctl.primitives import RunOptions

CASES = [
    TryOptions(kind="memfd", dontunmap=True),
    TryOptions(kind="anon", dontunmap=True),
    TryOptions(kind="perf", dontunmap=True, fill=None),
    TryOptions(kind="anon", maymove=True, grow=True),
    TryOptions(kind="shmem", fixed=""),
    TryOptions(kind="anon", raw_flags=9),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--kernel", default="6.18")
    args = parser.parse_args()
    backend = open_sim(args.kernel)
    scenarios = [build(opts, 4096)[0] for opts in CASES]
    for label, options in (
        ("with per-step maps", RunOptions()),
        ("final maps only (matrix)", RunOptions(per_step_maps=False)),
    ):
        count, start = 0, time.perf_counter()
        for scenario in itertools.cycle(scenarios):
            backend.run(scenario, options)
            count += 1
            if count % 200 == 0 and time.perf_counter() - start > args.seconds:
                break
        elapsed = time.perf_counter() - start
        print(f"{label:28} {count / elapsed:10,.0f} scenarios/s  ({count} in {elapsed:.2f} s)")


if __name__ == "__main__":
    main()
