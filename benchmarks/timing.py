"""Wall time and peak memory of whole commands, in alternating rounds (this machine is noisy:
a ratio of medians taken in the same rounds survives what an absolute time does not)."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from typing import Dict, List, Sequence, Tuple

Command = Sequence[str]


def run_once(argv: Command) -> Tuple[float, int]:
    """(seconds, peak resident KiB) of one run; its output is thrown away, a failure is an error."""
    start = time.perf_counter()
    proc = subprocess.Popen(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0, 1):  # 1: the experiment answered "could not be carried out"
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {err.strip()}")
    return seconds, usage.ru_maxrss


def medians(commands: Dict[str, Command], rounds: int, warmup: int = 1) -> Dict[str, Tuple[float, int]]:
    """Each command ``rounds`` times, round-robin after ``warmup`` untimed rounds: (median s, max KiB)."""
    for _ in range(warmup):
        for argv in commands.values():
            run_once(argv)
    times: Dict[str, List[float]] = {label: [] for label in commands}
    peaks: Dict[str, int] = {label: 0 for label in commands}
    for _ in range(rounds):
        for label, argv in commands.items():
            seconds, peak = run_once(argv)
            times[label].append(seconds)
            peaks[label] = max(peaks[label], peak)
    return {label: (statistics.median(times[label]), peaks[label]) for label in commands}
