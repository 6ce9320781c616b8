"""Are `mremapctl bench` medians right? Compare them with a C reference doing the same moves.

Builds benchmarks/mremap_ref.c with the system compiler (cc, into a temporary directory), then for
--rounds rounds measures every populated cell with the Python benchmark (through the library,
in a fresh lab child) and with the C reference (a fresh process) — same addresses, same sample
counts, same warm-up — back to back, alternating which goes first. For every cell whose
reference median is at least --threshold-us it prints both medians (over rounds) and the
median over rounds of the per-round Python / C ratio: on a small shared machine the state
drifts between rounds (page allocator, other load), and pairing the two sides per round
cancels that drift. The bar: every ratio within 10 %. ``--control`` compares the C
reference with itself the same way: the noise floor of the machine.

    .venv/bin/python benchmarks/bench_fidelity.py [--sizes 2M,16M,128M,1G] [--samples 10] [--rounds 11]

Exit status 0 when every compared cell is within --tolerance, 1 otherwise.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Tuple

from mremapctl.backends.live.child import page_table_lab
from mremapctl.backends.live.lab_mapping import THP_ADVICE
from mremapctl.backends.live.libc import Syscalls
from mremapctl.bench import Selection, Settings, run_bench
from mremapctl.bench.cases import IN_PLACE_OPS, Case, addresses, build_cases, parse_sizes
from mremapctl.bench.measure import cell_groups
from mremapctl.units import format_ns, format_size

SOURCE = Path(__file__).with_name("mremap_ref.c")
Key = Tuple[str, str, int, str, bool]


def build(workdir: Path) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        sys.exit("bench_fidelity: no C compiler (cc) on PATH")
    binary = workdir / "mremap_ref"
    subprocess.run([cc, "-O2", "-Wall", "-Wextra", "-std=gnu11", "-o", str(binary), str(SOURCE), "-lm"], check=True)
    return binary


def run_c(
    binary: Path, group: List[Case], lab_start: int, samples: int, thp: str, overheads: List[int]
) -> Dict[Key, int]:
    """The C reference for one group, in a fresh process (as the Python side gets a fresh child)."""
    case = group[0]
    src, dst = addresses(case, lab_start)
    op = "resize" if case.op in IN_PLACE_OPS else case.op
    line = f"0 {op} {case.mapping} {case.size} {src} {dst} {int(case.populated)} {samples} 1 {THP_ADVICE[thp] or 0}\n"
    out = subprocess.run([str(binary)], input=line, capture_output=True, text=True, check=True).stdout.splitlines()
    overheads.append(int(out[0].split()[2]))  # "overhead MIN MEDIAN P90"
    medians: Dict[Key, int] = {}
    for result in out[1:]:
        _, result_op, *fields = result.split()
        if fields[0] != "error":
            medians[(result_op, case.mapping, case.size, case.placement, case.populated)] = int(fields[1])
    return medians


def run_python(group: List[Case], samples: int, thp: str, overheads: List[int]) -> Dict[Key, int]:
    """The Python benchmark, through the library, for one group (one cell, or a grow/shrink pair)."""
    case = group[0]
    selection = Selection(
        sizes=(case.size,),
        ops=tuple(c.op for c in group),
        placements=(case.placement,),
        mappings=(case.mapping,),
        populated=(case.populated,),
    )
    report = run_bench(selection, Settings(samples=samples, max_time=0, thp=thp))
    overheads.append(report.overhead.median_ns)
    return {
        (c.case.op, c.case.mapping, c.case.size, c.case.placement, c.case.populated): c.median_ns
        for c in report.cells
        if c.median_ns is not None
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2M,16M,128M,1G")
    parser.add_argument(
        "--resize-max",
        default="128M",
        help="skip grow/shrink cells above this size: each of their samples populates the size again",
    )
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--thp", default="system", choices=list(THP_ADVICE))
    parser.add_argument("--threshold-us", type=float, default=50.0)
    parser.add_argument("--tolerance", type=float, default=0.10)
    parser.add_argument(
        "--control", action="store_true", help="C against C instead of Python: the noise floor of this machine"
    )
    args = parser.parse_args()
    resize_max = parse_sizes(args.resize_max)[0]
    cases = build_cases(Selection(sizes=parse_sizes(args.sizes), populated=(True,)))
    groups = [g for g in cell_groups(cases) if g[0].op not in IN_PLACE_OPS or g[0].size <= resize_max]
    lab_start = page_table_lab(Syscalls()).start
    sides: Dict[str, Dict[Key, List[int]]] = {"python": {}, "C": {}}
    overheads: Dict[str, List[int]] = {"python": [], "C": []}
    with tempfile.TemporaryDirectory() as tmp:
        binary = build(Path(tmp))
        for round_ in range(args.rounds):
            print(f"round {round_ + 1}/{args.rounds}", file=sys.stderr, flush=True)
            for group in groups:  # interleaved cell by cell: both sides see the same machine state
                for side in ("python", "C") if round_ % 2 == 0 else ("C", "python"):
                    if side == "python" and not args.control:
                        results = run_python(group, args.samples, args.thp, overheads[side])
                    else:
                        results = run_c(binary, group, lab_start, args.samples, args.thp, overheads[side])
                    for key, value in results.items():
                        sides[side].setdefault(key, []).append(value)
    first = "C (control)" if args.control else "python (cffi syscall + perf_counter_ns)"
    print(
        f"per-call overhead subtracted, median: {first} {format_ns(statistics.median(overheads['python']))}; "
        f"C (syscall + clock_gettime) {format_ns(statistics.median(overheads['C']))}"
    )
    return report(sides["python"], sides["C"], args.threshold_us * 1000, args.tolerance)


def report(py: Dict[Key, List[int]], ref: Dict[Key, List[int]], threshold_ns: float, tolerance: float) -> int:
    rows, below, worst = [], 0, 0.0
    for key in sorted(ref, key=lambda k: (k[0], k[1], k[3], k[2])):
        c_median = statistics.median(ref[key])
        if key not in py or c_median < threshold_ns:
            below += 1
            continue
        # the median of per-round ratios: each round's two sides ran back to back, so slow phases of
        # the machine (this is a 2-CPU VM) cancel out instead of landing on one side only
        ratio = statistics.median(p / c for p, c in zip(py[key], ref[key]))
        worst = max(worst, abs(ratio - 1))
        rows.append((key, statistics.median(py[key]), c_median, ratio))
    print(f"{'op':10} {'mapping':7} {'placement':10} {'size':>8} {'python':>9} {'C':>9} {'py/C':>6}")
    for (op, mapping, size, placement, _), p, c, ratio in rows:
        flag = "" if abs(ratio - 1) <= tolerance else "  ✗"
        cells = f"{op:10} {mapping:7} {placement:10} {format_size(size):>8}"
        print(f"{cells} {format_ns(p):>9} {format_ns(c):>9} {ratio:6.3f}{flag}")
    print(
        f"{len(rows)} cells ≥ {format_ns(threshold_ns)} compared ({below} below the threshold not compared); "
        f"largest deviation {worst:.1%} (tolerance {tolerance:.0%})"
    )
    return 0 if worst <= tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
