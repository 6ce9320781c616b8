"""Random command lines and scenario files through the real CLI, in-process: never a traceback,
never a hang, exit codes 0, 1 or 2 only, and every 1 or 2 exactly one `mremapctl: error:` line.

The options come from the commands themselves (click's declarations), so a new option is fuzzed
without touching this file. CI runs MREMAPCTL_FUZZ_INPUTS (default 2,000) inputs from a fixed
seed; by hand, ``MREMAPCTL_FUZZ_INPUTS=20000 MREMAPCTL_FUZZ_SEED=$RANDOM pytest tests/cli/test_fuzz.py -s``.
"""

from __future__ import annotations

import _thread
import collections
import os
import random
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Counter, Dict, List, Optional

import click
import pytest

from mremapctl.cli import COMMANDS, cli
from mremapctl.kinds import KINDS
from tests.cli.conftest import Result, invoke

INPUTS = int(os.environ.get("MREMAPCTL_FUZZ_INPUTS", "2000"))
SEED = int(os.environ.get("MREMAPCTL_FUZZ_SEED", "20261201"))
SECONDS_PER_INPUT = 30.0  # a hang, not a slow run: the slowest valid input here takes ~4 s

JUNK = ["", " ", "0", "-1", "-", "--", "abc", "∞", "é", "9" * 30, "0x", "1Q", "lab", "None", "true", "%s", "{}", "[]"]
SIZES = ["4p", "16K", "1", "4097", "0", "2M", "1p+1", "-5", "99999999999999999999", "p", "2p+", "0x3000", "3M"]
ADDRESSES = ["lab", "lab+1G", "lab+2p", "lab-1p", "old", "new", "old+1p", "0x100000000000", "0x7f0000000000", "x"]
KERNELS = ["5.4", "5.10", "5.12", "5.13", "6.1", "6.18", "7.3", "4.0", "5.x", "99", "6.18.5"]
VALUES: Dict[str, List[str]] = {  # by option name, besides JUNK
    "size": SIZES,
    "old_size": SIZES,
    "new_size": SIZES,
    "offset": SIZES,
    "sizes": ["4K", "4K,2M", "same,grow", "none", "1G", "zero"],
    "fixed": ADDRESSES,
    "kernel": KERNELS,
    "kernels": [*KERNELS, "5.4..6.18", "6.1..5.4", ".."],
    "kernel_range": ["5.4..6.18", "5.12..5.13", "6.1..5.4", "..", "5.x..6"],
    "kind_name": list(KINDS),
    "kinds": ["anon", "anon,memfd", "perf", "gpu", ",", "memfd,secretmem"],
    "variants": ["plain", "mlocked,sealed", "prot-none", "x"],
    "flags": ["MAYMOVE", "DONTUNMAP", "FIXED|DONTUNMAP", "none", "MOVE"],
    "prot": ["r", "rw", "rwx", "none", "w", "rq"],
    "fill_byte": ["A", "0x41", "0x0", "0xff", "0x100", "12", "AB"],
    "raw_flags": ["0x1", "0x3", "0x7", "0x9", "4", "0xffffffff", "-1", "0x1_0000_0000"],
    "timeout": ["0.5", "5", "0", "-1", "1e9", "nan"],
    "parallel": ["1", "2", "3", "0", "-3"],
    "samples": ["1", "3", "0", "-1"],
    "mutators": ["1", "2", "0", "-1", "1000000"],
    "ops": ["move", "dontunmap,grow", "x"],
    "topic": ["EINVAL", "EFAULT", "DONTUNMAP", "FIXED", "ENOSPC", "dontunmap-move"],
}
# Arguments that would leave the machine (Debian's mirrors), wipe a cache, or populate gigabytes:
# right for a person, wrong for a fuzzer. Each stays covered by its own tests. --arch and
# --page-size only choose the guest of --backend vm, which the fuzzer never picks: they would
# only add refusals (tests/vm/test_vm_arm64_cli.py covers them).
NEVER = {"--force", "--show-c", "--arch", "--page-size"}
BOUNDED_BACKENDS = ["auto", "live", "sim", "sim", "sim", "gpu", ""]


def options_of(command: click.Command) -> List[click.Option]:
    return [p for p in command.params if isinstance(p, click.Option) and p.opts[0] not in NEVER]


def a_value(rng: random.Random, param: click.Parameter, tmp: Path) -> str:
    name = param.name or ""
    if name == "backend" or name == "backends":
        return rng.choice(BOUNDED_BACKENDS)
    if isinstance(param.type, click.Choice) and rng.random() < 0.8:
        return str(rng.choice(list(param.type.choices)))
    if name in ("svg", "html", "save_scenario"):
        return rng.choice([str(tmp / "out.file"), "/nonexistent/x", "", str(tmp)])
    if name in ("file", "directory", "compare"):
        return rng.choice([str(tmp / "notes.txt"), "/dev/null", "/tmp", "/proc/self/maps", "", "/nonexistent"])
    pool = VALUES.get(name, [])
    return rng.choice(pool) if pool and rng.random() < 0.75 else rng.choice(JUNK)


def random_command(rng: random.Random, tmp: Path) -> List[str]:
    name = rng.choice([*(["try"] * 8), *(["run"] * 5), "matrix", "matrix", "explain", "kinds", "kernels", *COMMANDS])
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    argv = [name]
    if isinstance(command, click.Group):
        argv.append(rng.choice(["fetch", "nosuch", "--help", "list --bogus", "clean --bogus", "gc --help"]))
        return " ".join(argv).split()
    for param in command.params:
        if isinstance(param, click.Argument) and rng.random() < 0.9:
            argv.append(rng.choice(argument_values(name, tmp)))
    for option in rng.sample(options_of(command), k=min(len(options_of(command)), rng.randint(0, 5))):
        argv.append(rng.choice(option.opts))
        if not option.is_flag and not option.count:
            argv += [a_value(rng, option, tmp) for _ in range(option.nargs)]
    return bounded(argv)


def argument_values(command: str, tmp: Path) -> List[str]:
    scenario_files = [str(p) for p in sorted(tmp.glob("scenario-*.toml"))]
    return {
        "run": ["dontunmap-memfd", "gc-heap-flip", "no-such", "-", *scenario_files],
        "explain": VALUES["topic"] + JUNK,
        "batch": [str(tmp / "notes.txt"), "/nonexistent", *scenario_files],
    }.get(command, JUNK)


def bounded(argv: List[str]) -> List[str]:
    """Live work stays small: matrix and survey never run the whole grid live, bench only a cell."""
    if argv[0] in ("matrix", "survey") and "--kinds" not in argv:
        argv += ["--kinds", "anon,memfd"] if argv[0] == "matrix" else ["--backend", "gpu"]
    if argv[0] == "bench":
        argv += ["--quick", "--sizes", "4K", "--ops", "move", "--samples", "2"]
    if argv[0] == "demo":
        argv += ["--size", "1M", "--mutators", "1"]
    if "--backend" in argv and argv[argv.index("--backend") + 1 :][:1] == ["live"]:
        argv = [a if a not in ("1G", "2M", "3M") else "4p" for a in argv]
    return argv


# -- scenario files ------------------------------------------------------------------------------

STEP_KEYS: Dict[str, Dict[str, List[Any]]] = {
    "mmap": {
        "name": ["A", "B", "lab", "1x", ""],
        "kind": [*KINDS, "gpu", 3],
        "size": [*SIZES, 4096, -4096, 2**70],
        "prot": ["rw", "r", "none", 7],
        "fill": ["A", "0x41", "AB", 65],
        "shared": [True, False, "yes"],
        "at": ADDRESSES,
        "replace": [True, False],
        "same_as": ["A", "Z"],
        "locked": [True, 1],
    },
    "mremap": {
        "old": ["A", "B", "lab", 0x100000000000, -1],
        "old_size": [*SIZES, 0, 2**64],
        "new_size": [*SIZES, 8192],
        "flags": [["MAYMOVE"], ["MAYMOVE", "DONTUNMAP"], ["FIXED"], "MOVE", [1]],
        "raw": [1, 3, 9, -1, 2**40, "0x3"],
        "new_address": ADDRESSES,
        "name": ["B", "C", "A"],
    },
    "read": {"at": ["A", "B", "C", "lab"], "size": SIZES},
    "write": {"at": ["A", "B"], "byte": ["B", "0x00", "BB"], "size": SIZES},
    "munmap": {"at": ["A", "B+1p"], "size": SIZES},
    "mprotect": {"at": ["A"], "prot": ["r", "none", "x"]},
    "mlock": {"at": ["A"], "onfault": [True, "no"]},
    "mseal": {"at": ["A", "B"]},
    "madvise": {"at": ["A"], "advice": ["dontneed", "guard_install", "hugepage", "bogus"]},
    "uffd_register": {"at": ["A"], "mode": ["missing", "minor", "wp", "x"]},
    "setrlimit": {"memlock": ["1p", "unlimited", -1], "as": ["1G"], "nofile": [1]},
    "drop_cap": {"cap": ["IPC_LOCK", "CAP_SYS_ADMIN", "FLY"]},
    "jump": {"to": ["A"]},
}


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value)


def random_scenario(rng: random.Random) -> bytes:
    lines = ['description = "fuzz"'] if rng.random() < 0.3 else []
    ops = ["mmap"] + [rng.choice(list(STEP_KEYS)) for _ in range(rng.randint(0, 5))]
    for op in ops:
        lines.append("[[step]]")
        if rng.random() < 0.97:
            lines.append(f'op = "{op}"')
        keys = STEP_KEYS[op]
        for key in rng.sample(list(keys), k=rng.randint(0, len(keys))):
            lines.append(f"{key} = {toml_value(rng.choice(keys[key]))}")
        if rng.random() < 0.05:
            lines.append(f"{rng.choice(['colour', 'expect', 'size'])} = {toml_value(rng.choice(JUNK))}")
        if op == "mremap" and rng.random() < 0.3:
            lines.append('expect = "EINVAL"')
    data = ("\n".join(lines) + "\n").encode()
    damage = rng.random()
    if damage < 0.05:
        data = data[: rng.randint(0, len(data))]  # truncated
    elif damage < 0.08:
        data = b"\xff\xfe" + data  # not UTF-8
    elif damage < 0.1:
        data = data.replace(b"=", b":", 1)  # not TOML
    return data


# -- the harness ---------------------------------------------------------------------------------


def run_bounded(argv: List[str], seconds: float) -> Optional[Result]:
    """The CLI in-process; None if it outlived `seconds` (it is then interrupted, as Ctrl-C would)."""
    finished = threading.Event()

    def watchdog() -> None:
        if not finished.wait(seconds):
            _thread.interrupt_main()

    threading.Thread(target=watchdog, daemon=True).start()
    started = time.monotonic()
    try:
        result = invoke(argv)
    except Exception:  # escaped main(): what a user would see as a traceback
        result = Result(-2, "", "Traceback (escaped main)\n" + traceback.format_exc())
    finally:
        finished.set()
    return None if time.monotonic() - started >= seconds else result


def problems_of(argv: List[str], result: Optional[Result]) -> List[str]:
    if result is None:
        return [f"hang (over {SECONDS_PER_INPUT:g} s): {argv}"]
    found = []
    if result.exit_code not in (0, 1, 2):
        found.append(f"exit {result.exit_code}: {argv}\n{result.stderr[-500:]}")
    if "Traceback" in result.stderr + result.stdout:
        found.append(f"traceback: {argv}\n{result.stderr[-2000:]}")
    if result.exit_code in (1, 2):
        lines = result.stderr.strip().splitlines()
        if len(lines) != 1 or not lines[0].startswith("mremapctl: error: "):
            found.append(f"exit {result.exit_code} without one error line: {argv}\n{result.stderr[-800:]}")
    return found


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, live_backend: Any) -> Path:
    monkeypatch.setenv("MREMAPCTL_VM_CACHE", str(tmp_path / "vm-cache"))  # `vm clean` cleans this one
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_bytes(b"a user's file\n" * 400)
    return tmp_path


def test_no_input_makes_a_traceback_a_hang_or_a_stray_exit_code(workspace: Path) -> None:
    rng = random.Random(SEED)
    codes: Counter[int] = collections.Counter()
    problems: List[str] = []
    started = time.monotonic()
    for i in range(INPUTS):
        if i % 3 == 0:  # a fresh scenario file for `run` to pick
            (workspace / f"scenario-{i % 30:02}.toml").write_bytes(random_scenario(rng))
        argv = random_command(rng, workspace)
        result = run_bounded(argv, SECONDS_PER_INPUT)
        codes[result.exit_code if result else -1] += 1
        problems += problems_of(argv, result)
        notes = workspace / "notes.txt"
        assert notes.read_bytes() == b"a user's file\n" * 400 or "--writable" in argv, argv
        notes.write_bytes(b"a user's file\n" * 400)
    # and one input that must fail (exit 1) whatever the seed drew: a missed expectation under --check
    missed = workspace / "missed.toml"
    missed.write_text('[[step]]\nop = "mmap"\nname = "A"\nkind = "anon"\nsize = "1p"\nexpect = "EINVAL"\n')
    result = run_bounded(["run", str(missed), "--check", "--backend", "sim"], SECONDS_PER_INPUT)
    codes[result.exit_code if result else -1] += 1
    problems += problems_of(["run", str(missed), "--check"], result)
    seconds = time.monotonic() - started
    print(f"\nfuzz: {INPUTS} inputs (seed {SEED}) in {seconds:.0f} s; exit codes {dict(sorted(codes.items()))}")
    assert not problems, f"{len(problems)} problems, first ones:\n" + "\n\n".join(problems[:8])
    assert len(codes) >= 3, codes  # the inputs reach success, refusal and failure alike


def test_the_generator_reaches_every_command() -> None:
    rng = random.Random(SEED)
    seen = {random_command(rng, Path("/tmp"))[0] for _ in range(500)}
    assert seen == set(COMMANDS)
