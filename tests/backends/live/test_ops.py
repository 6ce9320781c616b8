"""Every scenario op, live: the ops that set the stage for mremap's rules."""

from __future__ import annotations

from typing import Any, List

from mremapctl.primitives import RunOptions
from mremapctl.results import Run
from mremapctl.scenario import parse_scenario


def run(backend: Any, text: str) -> Run:
    result = backend.run(parse_scenario(text), RunOptions(timeout=20))
    assert result.failure is None, result.failure
    return result


def outcomes(result: Run) -> List[str]:
    return [s.pages[0] if s.op == "read" and s.pages else s.outcome for s in result.steps]


MMAP_A = '[[step]]\nop = "mmap"\nname = "A"\nsize = "4p"\nfill = "A"\n'


def test_write_read_munmap_mprotect(live_backend: Any) -> None:
    result = run(
        live_backend,
        MMAP_A
        + """
[[step]]
op = "write"
at = "A+1p"
size = "1p"
byte = "B"
[[step]]
op = "read"
at = "A+1p"
size = "1p"
[[step]]
op = "munmap"
at = "A+3p"
size = "1p"
[[step]]
op = "mprotect"
at = "A"
size = "1p"
prot = "r"
[[step]]
op = "write"
at = "A"
size = "1"
[[step]]
op = "read"
at = "A"
""",
    )
    assert outcomes(result) == ["ok", "ok", "data:B", "ok", "ok", "SIGSEGV", "data:A"]
    assert result.steps[-1].pages == ["data:A", "data:B", "data:A", "SIGSEGV"]
    perms = [e.perms for e in result.maps_after]
    assert perms == ["r--p", "rw-p"]


def test_mlock_limits_and_capabilities(live_backend: Any) -> None:
    result = run(
        live_backend,
        MMAP_A
        + """
[[step]]
op = "mlock"
at = "A"
[[step]]
op = "setrlimit"
memlock = "4p"
[[step]]
op = "drop_cap"
cap = "IPC_LOCK"
[[step]]
op = "mremap"
old = "A"
new_size = "8p"
expect = "EAGAIN"
[[step]]
op = "munlock"
at = "A"
[[step]]
op = "mremap"
old = "A"
new_size = "8p"
expect = "ok"
""",
    )
    assert outcomes(result) == ["ok", "ok", "ok", "ok", "EAGAIN", "ok", "ok"]
    assert result.expectations_met


def test_address_space_limit(live_backend: Any) -> None:
    result = run(
        live_backend,
        MMAP_A
        + """
[[step]]
op = "setrlimit"
as = "1G"
[[step]]
op = "mremap"
old = "A"
new_size = "2G"
expect = "ENOMEM"
""",
    )
    assert result.expectations_met, outcomes(result)


def test_mseal_and_madvise(live_backend: Any) -> None:
    result = run(
        live_backend,
        MMAP_A
        + """
[[step]]
op = "madvise"
at = "A+1p"
size = "1p"
advice = "guard_install"
[[step]]
op = "read"
at = "A"
[[step]]
op = "madvise"
at = "A+2p"
size = "1p"
advice = "dontneed"
[[step]]
op = "read"
at = "A+2p"
size = "1p"
[[step]]
op = "mseal"
at = "A"
[[step]]
op = "munmap"
at = "A"
expect = "EPERM"
""",
    )
    assert result.steps[2].pages == ["data:A", "SIGSEGV", "data:A", "data:A"]  # a guard page
    assert result.steps[4].pages == ["zero"]
    assert result.expectations_met
    assert "gu" in (result.maps_after[0].vm_flags or ()) and "sl" in (result.maps_after[0].vm_flags or ())


def test_userfaultfd_stays_with_the_old_range(live_backend: Any) -> None:
    result = run(
        live_backend,
        MMAP_A
        + """
[[step]]
op = "uffd_register"
at = "A"
mode = "missing"
[[step]]
op = "mremap"
old = "A"
flags = ["MAYMOVE", "DONTUNMAP"]
name = "B"
[[step]]
op = "read"
at = "A"
size = "1p"
[[step]]
op = "read"
at = "B"
size = "1p"
""",
    )
    assert outcomes(result) == ["ok", "ok", "ok", "uffd", "data:A"]
    old = next(e for e in result.maps_after if e.label == "A")
    new = next(e for e in result.maps_after if e.label == "B")
    assert "um" in (old.vm_flags or ()) and "um" not in (new.vm_flags or ())


def test_skipped_steps_and_same_as(live_backend: Any) -> None:
    result = run(
        live_backend,
        """
[[step]]
op = "mmap"
name = "M"
kind = "memfd"
size = "2p"
fill = "M"
[[step]]
op = "mmap"
name = "view"
same_as = "M"
size = "2p"
[[step]]
op = "read"
at = "view"
[[step]]
op = "mremap"
old = "M"
new_size = "4p"
raw = 0x8
name = "gone"
[[step]]
op = "read"
at = "gone"
expect = "zero"
""",
    )
    assert outcomes(result) == ["ok", "ok", "data:M", "EINVAL", "skipped"]
    assert result.steps[4].expect_met is None
    assert result.maps_after[1].path == "/memfd:M (deleted)"
