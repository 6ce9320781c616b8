"""``--show-c``: the generated C program, compiled with the system ``cc`` and run here, must
give the answers the tool gives live for the same scenario — every step's outcome, every
page of every read and write, and the same addresses inside the lab.

Also checked without a compiler: what the generator refuses (BadInput, never wrong C), the
output parser, and that the program's errno names are the tool's.
"""

from __future__ import annotations

import errno
import re
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from mremapctl.errors import BadInput, MremapctlError
from mremapctl.examples import bundled, load_bundled
from mremapctl.experiment import TryOptions, build
from mremapctl.kinds import KINDS
from mremapctl.lab import Lab
from mremapctl.primitives import RunOptions
from mremapctl.render.c_program import ProgramStep, c_program, parse_output
from mremapctl.render.cprog.c_core import ERRNO_NAMES
from mremapctl.render.cprog.output import parse_line
from mremapctl.results import Run
from mremapctl.scenario import Mmap, Scenario, parse_scenario

PAGE = 4096
WARNINGS = ["-Wall", "-Wextra", "-Werror"]  # the program a student reads compiles cleanly

TRY_VARIANTS: Dict[str, Dict[str, Any]] = {
    "dontunmap": {"dontunmap": True},
    "maymove-grow": {"maymove": True, "grow": True},
    "fixed": {"fixed": ""},
    "raw-0x9": {"raw_flags": 0x9},
    "old-size-0": {"old_size": "0", "maymove": True},
}


def _try_scenario(kind: str, variant: str) -> Scenario:
    opts = dict(TRY_VARIANTS[variant], kind=kind)
    if not KINDS[kind].fillable:
        opts["fill"] = None  # the kernel owns its contents, as `try` does for these kinds
    if KINDS[kind].relocated and variant == "maymove-grow":
        opts["old_size"] = "1p"  # its size is the kernel's: say which part grows
    return build(TryOptions(**opts), PAGE)[0]


MMAP_A = '[[step]]\nop = "mmap"\nname = "A"\n'

# Hand-written scenarios for the ops `try` never uses, and for odd values.
OPS_SCENARIOS: Dict[str, str] = {
    "bytes-protections-advice-seal": MMAP_A
    + """size = "8p"
fill = " "
[[step]]
op = "write"
at = "A+1p"
size = "1p"
byte = "0x00"
[[step]]
op = "write"
at = "A+2p+100"
size = "2p"
byte = "0xff"
[[step]]
op = "write"
at = "A+5p"
size = "1"
byte = "'"
[[step]]
op = "read"
at = "A"
[[step]]
op = "mprotect"
at = "A+6p"
size = "1p"
prot = "r"
[[step]]
op = "write"
at = "A+5p"
size = "2p"
[[step]]
op = "mlock"
at = "A"
size = "2p"
[[step]]
op = "mlock"
at = "A+2p"
size = "2p"
onfault = true
[[step]]
op = "munlock"
at = "A"
size = "1p"
[[step]]
op = "madvise"
at = "A+4p"
size = "1p"
advice = "dontneed"
[[step]]
op = "madvise"
at = "A+5p"
size = "1p"
advice = "guard_install"
[[step]]
op = "madvise"
at = "A+1p"
size = "1p"
advice = "remove"
[[step]]
op = "read"
at = "A"
[[step]]
op = "mseal"
at = "A+7p"
size = "1p"
[[step]]
op = "munmap"
at = "A+7p"
size = "1p"
[[step]]
op = "mremap"
old = "A"
old_size = "8p"
new_size = "16p"
flags = ["MAYMOVE"]
name = "B"
[[step]]
op = "munmap"
at = "A"
size = "4p"
[[step]]
op = "mremap"
old = "A+4p"
old_size = "1p"
new_size = "1p"
raw = 0xfffffffd
[[step]]
op = "read"
at = "A"
""",
    "limits-and-capabilities": MMAP_A
    + """size = "4p"
fill = "A"
[[step]]
op = "mlock"
at = "A"
[[step]]
op = "setrlimit"
memlock = "4p"
data = "unlimited"
[[step]]
op = "drop_cap"
cap = "IPC_LOCK"
[[step]]
op = "mremap"
old = "A"
new_size = "8p"
[[step]]
op = "setrlimit"
[[step]]
op = "drop_cap"
cap = "CAP_SYS_PTRACE"
""",
    "objects-files-sysv-clashes": """
[[step]]
op = "mmap"
name = "région"
kind = "memfd"
size = "2p"
file_size = "1p"
fill = "M"
[[step]]
op = "mmap"
name = "view"
same_as = "région"
size = "2p"
at = "lab+10G"
[[step]]
op = "read"
at = "view"
[[step]]
op = "mmap"
name = "priv"
kind = "memfd"
shared = false
same_as = "région"
size = "1p"
at = "view+1G"
[[step]]
op = "write"
at = "priv"
byte = "p"
[[step]]
op = "read"
at = "view"
[[step]]
op = "mmap"
name = "f"
kind = "file"
dir = "/tmp"
size = "3p"
file_size = "2p"
fill = "F"
[[step]]
op = "read"
at = "f"
[[step]]
op = "mmap"
name = "etc"
kind = "file"
path = "/etc/passwd"
size = "2p"
[[step]]
op = "read"
at = "etc"
[[step]]
op = "mmap"
name = "sv"
kind = "sysvshm"
prot = "r"
size = "2p"
[[step]]
op = "read"
at = "sv"
[[step]]
op = "mmap"
name = "sv2"
kind = "sysvshm"
size = "1p"
at = "sv"
replace = true
fill = "s"
[[step]]
op = "read"
at = "sv"
[[step]]
op = "mmap"
name = "locked"
kind = "shmem"
locked = true
prot = "none"
size = "2p"
fill = "L"
[[step]]
op = "read"
at = "locked"
[[step]]
op = "mmap"
name = "clash"
at = "locked+1p"
size = "1p"
[[step]]
op = "read"
at = "clash"
[[step]]
op = "mmap"
name = "z"
kind = "devzero"
shared = true
size = "1p"
at = "lab+31G"
fill = "0x7f"
[[step]]
op = "read"
at = "z"
""",
    "kernel-sized-twice": """
[[step]]
op = "mmap"
name = "v1"
kind = "vdso"
[[step]]
op = "mmap"
name = "v2"
kind = "vdso"
[[step]]
op = "read"
at = "v1"
[[step]]
op = "read"
at = "v2"
[[step]]
op = "mmap"
name = "a1"
kind = "aio"
[[step]]
op = "mmap"
name = "a2"
kind = "aio"
at = "a1"
[[step]]
op = "mmap"
name = "a3"
kind = "aio"
at = "a1"
replace = true
[[step]]
op = "read"
at = "a1"
""",
    "uffd-modes-and-moved-results": """
[[step]]
op = "mmap"
name = "S"
kind = "shmem"
size = "2p"
[[step]]
op = "uffd_register"
at = "S"
mode = "minor"
[[step]]
op = "uffd_register"
at = "S"
mode = "wp"
[[step]]
op = "read"
at = "S"
[[step]]
op = "mmap"
name = "P"
size = "2p"
fill = "P"
[[step]]
op = "uffd_register"
at = "P"
[[step]]
op = "madvise"
at = "P"
advice = "dontneed"
[[step]]
op = "read"
at = "P"
[[step]]
op = "mremap"
old = "P"
flags = ["MAYMOVE", "DONTUNMAP"]
name = "Q"
[[step]]
op = "read"
at = "Q+1p"
size = "1p"
[[step]]
op = "mremap"
old = "Q"
old_size = "1p"
new_size = "1p"
flags = ["MAYMOVE", "FIXED"]
new_address = "Q+1p"
name = "R"
[[step]]
op = "read"
at = "R"
""",
    "skipped-chain": """
[[step]]
op = "mmap"
name = "A"
size = "1p"
at = "lab"
[[step]]
op = "mmap"
name = "B"
size = "1p"
at = "lab"
[[step]]
op = "read"
at = "B"
[[step]]
op = "mremap"
old = "B"
new_size = "1p"
name = "C"
[[step]]
op = "mmap"
name = "D"
kind = "anon"
same_as = "C"
at = "A+4p"
[[step]]
op = "mmap"
name = "E"
kind = "anon"
same_as = "B"
[[step]]
op = "read"
at = "E"
[[step]]
op = "read"
at = "A"
""",
    "hugetlb-shmem-and-memfd": """
[[step]]
op = "mmap"
name = "S"
kind = "shmem"
hugetlb = true
size = "2M"
fill = "S"
[[step]]
op = "mmap"
name = "M"
kind = "memfd"
hugetlb = true
size = "2M"
fill = "M"
[[step]]
op = "mremap"
old = "M"
new_size = "2M"
flags = ["MAYMOVE", "FIXED"]
new_address = "lab+8G"
name = "M2"
[[step]]
op = "read"
at = "M2"
size = "1p"
[[step]]
op = "read"
at = "S+1M"
size = "1p"
""",
}


def _cases() -> List[Any]:
    cases = [pytest.param(f"bundled:{name}", id=f"bundled-{name}") for name, _ in bundled()]
    cases += [pytest.param(f"try:{k}:{v}", id=f"try-{k}-{v}") for k in KINDS for v in TRY_VARIANTS]
    cases += [pytest.param(f"ops:{name}", id=f"ops-{name}") for name in OPS_SCENARIOS]
    return cases


def _scenario(case: str) -> Scenario:
    source, _, name = case.partition(":")
    if source == "bundled":
        return load_bundled(name)
    if source == "try":
        kind, _, variant = name.partition(":")
        return _try_scenario(kind, variant)
    return parse_scenario(OPS_SCENARIOS[name], name)


def _uses_hugetlb(scenario: Scenario) -> bool:
    return any(isinstance(s, Mmap) and (s.kind == "hugetlb" or s.hugetlb) for s in scenario.steps)


def build_command(source: str) -> List[str]:
    """The build line the program's own header gives, with warnings made errors."""
    match = re.search(r"^ \*     (cc .*) && \./exp$", source, re.M)
    assert match, "the header must say how to build the program"
    words = match[1].split()
    return [words[0], *WARNINGS, *words[1:]]


def compile_and_run(source: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    (workdir / "exp.c").write_text(source)
    built = subprocess.run(build_command(source), cwd=workdir, capture_output=True, text=True)
    assert built.returncode == 0, f"the generated C does not compile:\n{built.stderr}\n{source}"
    return subprocess.run(["./exp"], cwd=workdir, capture_output=True, text=True, timeout=60)


def tool_run(backend: Any, scenario: Scenario) -> Tuple[Run | None, MremapctlError | None]:
    try:
        return backend.run(scenario, RunOptions(timeout=20)), None
    except MremapctlError as err:  # unavailable here, or bad input found while running
        return None, err


def assert_same(run: Run, program: List[ProgramStep], lab: Lab) -> None:
    """Outcomes and pages equal; addresses equal inside the lab, and outside it for both elsewhere."""
    assert [(p.index, p.op) for p in program] == [(s.index, s.op) for s in run.steps]
    for tool, prog in zip(run.steps, program):
        where = f"step {tool.index} ({tool.call})"
        assert prog.outcome == tool.outcome, where
        if tool.op in ("read", "write") and tool.outcome != "skipped":
            assert prog.pages == tool.pages, where
        if tool.op in ("mmap", "mremap") and tool.ok:
            assert tool.address is not None and prog.address is not None, where
            if lab.start <= tool.address < lab.end or lab.start <= prog.address < lab.end:
                assert prog.address == tool.address, where


def check_case(scenario: Scenario, backend: Any, workdir: Path, must_run: bool = False) -> None:
    source = c_program(scenario, PAGE, lab=backend.lab)
    run, error = tool_run(backend, scenario)
    assert not (must_run and error), f"the tool could not run it: {error}"
    done = compile_and_run(source, workdir)
    if error is not None:  # the program stops the same way, with the tool's exit code and words
        assert done.returncode == error.exit_code, done.stderr
        assert str(error) in done.stderr
        return
    assert run is not None and run.failure is None, run.failure if run else None
    assert done.returncode == 0, done.stderr
    assert_same(run, parse_output(done.stdout), backend.lab)


@pytest.mark.live
@pytest.mark.parametrize("case", _cases())
def test_program_answers_like_the_tool(
    case: str, cc: str, live_backend: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    scenario = _scenario(case)
    hugetlb = _uses_hugetlb(scenario)
    if hugetlb:
        request.getfixturevalue("huge_pages")  # reserved now: the experiment itself must run
    check_case(scenario, live_backend, tmp_path, must_run=hugetlb)


@pytest.mark.live
def test_setrlimit_refused_without_cap_sys_resource(cc: str, live_backend: Any, tmp_path: Path) -> None:
    text = '[[step]]\nop = "drop_cap"\ncap = "SYS_RESOURCE"\n[[step]]\nop = "setrlimit"\nmemlock = "unlimited"\n'
    check_case(parse_scenario(text), live_backend, tmp_path)


# -- without a compiler ----------------------------------------------------------------------


def test_undefined_flag_bits_and_addresses_are_exact() -> None:
    source = c_program(_try_scenario("anon", "raw-0x9"), PAGE)
    assert "sys_mremap(0x100000000000 /* old */, 16384 /* 16 KiB */, 16384 /* 16 KiB */, MREMAP_MAYMOVE | 0x8" in source
    fixed = c_program(_try_scenario("memfd", "fixed"), PAGE)
    assert "MREMAP_MAYMOVE | MREMAP_FIXED, 0x100040000000 /* lab+1G */);" in fixed
    assert source == c_program(_try_scenario("anon", "raw-0x9"), PAGE)  # deterministic


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MMAP_A + '[[step]]\nop = "read"\nat = "lab+32G"\nsize = "1p"\n', "reaches outside the lab"),
        (
            MMAP_A + 'kind = "memfd"\n[[step]]\nop = "mmap"\nname = "B"\nsame_as = "A"\n'
            '[[step]]\nop = "mmap"\nname = "C"\n',
            "give step 3 an explicit `at`",
        ),
        (
            MMAP_A + '[[step]]\nop = "mremap"\nold = "A"\nflags = ["MAYMOVE"]\nname = "B"\n'
            '[[step]]\nop = "mmap"\nname = "C"\nsame_as = "B"\nat = "lab+2G"\n',
            "made by mremap",
        ),
        (MMAP_A + '[[step]]\nop = "setrlimit"\ndata = "0x8000000000000000"\n', "above 2^63-1"),
        (
            MMAP_A + '[[step]]\nop = "mremap"\nold = "A"\nflags = ["MAYMOVE"]\nname = "B"\n'
            '[[step]]\nop = "read"\nat = "B+4p"\nsize = "1p"\n',
            "reaches outside",
        ),
    ],
)
def test_what_cannot_be_exact_is_refused(text: str, message: str) -> None:
    with pytest.raises(BadInput, match=re.escape(message)):
        c_program(parse_scenario(text), PAGE)


def test_errno_names_are_the_tools() -> None:
    assert all(errno.errorcode[getattr(errno, name)] == name for name in ERRNO_NAMES)


def test_output_lines_parse() -> None:
    assert parse_line("step 7 write SIGSEGV ok SIGSEGV") == ProgramStep(7, "write", "SIGSEGV", pages=["ok", "SIGSEGV"])
    assert parse_line("step 2 mremap EINVAL") == ProgramStep(2, "mremap", "EINVAL")
    assert parse_line("step 4 read skipped") == ProgramStep(4, "read", "skipped")
    with pytest.raises(ValueError, match="unreadable"):
        parse_line("step 3 read ok data:AB")
