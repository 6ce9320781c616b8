"""Live matrix throughput (issue: >= 500 experiments/s, whole command) next to fork+exit cost,
and the simulated matrix over every kernel model (issue: < 5 s), measured in one run.

    python benchmarks/matrix_speed.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def fork_exit_per_second(n: int = 500) -> float:
    start = time.perf_counter()
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
    return n / (time.perf_counter() - start)


def command(args: list) -> tuple:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "mremapctl", *args, "--json"], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)["summary"]["experiments"], time.perf_counter() - start


def main() -> None:
    print(f"fork+exit of this Python: {fork_exit_per_second():,.0f}/s")
    for label, args in (
        ("live matrix (whole command)", ["matrix", "--backend", "live"]),
        ("sim matrix, every model", ["matrix", "--backend", "sim", "--kernels", "5.4..6.18"]),
    ):
        experiments, seconds = command(args)
        print(f"{label:32} {experiments:5} experiments in {seconds:5.2f} s = {experiments / seconds:7,.0f}/s")


if __name__ == "__main__":
    main()
