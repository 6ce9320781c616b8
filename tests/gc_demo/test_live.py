"""demo gc, live, small: both heaps compact correctly, one fault per page."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

from mremapctl.errors import BadInput
from mremapctl.gc_demo.live import GcConfig
from mremapctl.gc_demo.run import check_config, run_live
from tests.cli.conftest import as_nobody, invoke

SIZE = 1 << 20  # 256 pages: a second or less


@pytest.mark.parametrize("heap", ["anon", "memfd"])
def test_every_page_faults_once_and_holds_its_compacted_objects(live_backend: Any, heap: str) -> None:
    result = run_live(GcConfig(heap=heap, size=SIZE, mutators=3))
    assert result.contents_ok, (result.bad_pages[:5], result.problems[:5])
    assert result.faults == result.pages == SIZE // 4096
    assert result.minor_faults == (result.pages if heap == "memfd" else 0)
    assert result.duplicates == 0 and not result.bad_pages and not result.problems
    assert result.from_space % (1 << 30) == 0 and result.heap_addr % (1 << 30) == 0
    assert 0 < result.live_objects < result.pages * 64


@pytest.mark.parametrize("heap", ["anon", "memfd"])
def test_cli_json(live_backend: Any, heap: str) -> None:
    result = invoke(["demo", "gc", "--heap", heap, "--size", "1M", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["kind"], data["heap"], data["size"], data["faults"], data["contents_ok"]) == (
        "gc",
        heap,
        SIZE,
        256,
        True,
    )
    assert isinstance(data["pause_ns"], int) and isinstance(data["fault_ns_median"], int)


def test_cli_tables(live_backend: Any) -> None:
    out = invoke(["demo", "gc", "--heap", "memfd", "--size", "1M", "--mutators", "2"]).stdout
    assert "MREMAP_MAYMOVE|MREMAP_FIXED|MREMAP_DONTUNMAP" in out  # strace's order, as the simulation prints it
    sim = invoke(["demo", "gc", "--heap", "memfd", "--size", "1M", "--backend", "sim"]).stdout
    assert "MREMAP_MAYMOVE|MREMAP_FIXED|MREMAP_DONTUNMAP" in sim
    assert re.search(r"pause \S+ [nµm]?s: \S+ [nµm]?s as timed, less \S+ [nµm]?s for the timer itself", out)
    assert "UFFDIO_REGISTER MODE_MINOR" in out and "UFFDIO_CONTINUE" in out
    assert "the handler served 256 faults (256 minor)" in out and "contents ok" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--size", "3000"], "bad --size 3000: the heap is a whole number of 4 KiB pages"),
        (["--size", "16G"], "bad --size 16 GiB: at most 8 GiB in the lab"),
        (["--mutators", "0"], "bad --mutators 0"),
        (["--size", "many"], "bad size 'many'"),
        (["--backend", "live", "--kernel", "5.12"], "--backend live runs this machine's kernel"),
    ],
)
def test_bad_input(args: list[str], message: str) -> None:
    result = invoke(["demo", "gc", *args])
    assert result.exit_code == 2 and message in result.stderr, result.stderr


def test_refuses_a_heap_it_cannot_populate_safely() -> None:
    with pytest.raises(BadInput, match="refusing --size 4 GiB: the anon demo populates 8 GiB"):
        check_config(GcConfig(size=4 << 30), force=False, available=10 << 30)
    check_config(GcConfig(heap="memfd", size=4 << 30), force=False, available=10 << 30)


def test_not_permitted_says_what_is_needed(live_backend: Any) -> None:
    """As an unprivileged user with vm.unprivileged_userfaultfd = 0 and a root-only /dev/userfaultfd: exit 1."""
    if os.geteuid() != 0:
        pytest.skip("needs root to become another user")
    with open("/proc/sys/vm/unprivileged_userfaultfd") as f:
        if int(f.read()) != 0:
            pytest.skip("vm.unprivileged_userfaultfd = 1: unprivileged users may use userfaultfd here")
    if os.path.exists("/dev/userfaultfd") and os.stat("/dev/userfaultfd").st_mode & 0o006:
        pytest.skip("/dev/userfaultfd is open to everyone here")
    result = as_nobody(["demo", "gc", "--size", "1M"])
    code, stderr = result.exit_code, result.stderr
    assert code == 1, stderr
    assert stderr.startswith("mremapctl: error: userfaultfd not permitted: userfaultfd(2) gave EPERM")
    assert "vm.unprivileged_userfaultfd = 0 and this process lacks CAP_SYS_PTRACE" in stderr
    assert "/dev/userfaultfd is not accessible (EACCES" in stderr or "/dev/userfaultfd does not exist" in stderr
    assert "`sysctl -w vm.unprivileged_userfaultfd=1`" in stderr and len(stderr.splitlines()) == 1
