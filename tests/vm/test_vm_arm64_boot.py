"""Boot Debian's arm64 kernels under qemu-system-aarch64 and run the tool inside, from its zipapp.

CI boots 7.2 with 16K pages once, for a batch of three: `try --memfd --dontunmap`, the
gc-heap-flip lesson and one 32 MiB huge page, the huge page size with 16K pages (a cold
fetch is ~15 s and 108 MB, the userland 8 MB, building and compiling the zipapp ~20 s, the
boot ~5 s); `pytest -m vm_all` runs the whole grid in every arm64 series, in both page
sizes (test_models_vs_kernels.py). Skips with the reason where qemu-system-aarch64 or the
mirrors are missing, but never in CI (CI=true).
"""

from __future__ import annotations

import json
import os
from typing import List, Optional, Tuple

import pytest

from mremapctl.backends import vm
from mremapctl.backends.vm.backend import VmBackend
from mremapctl.backends.vm.prereq import check_arch
from mremapctl.examples import load_bundled
from mremapctl.experiment import TryOptions, build
from mremapctl.results import Run
from mremapctl.scenario import parse_scenario


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def arm64_ready() -> None:
    try:
        check_arch("arm64")
        vm.available(arch="arm64")
    except (vm.PrerequisiteError, vm.MirrorUnavailable) as exc:
        if in_ci():
            raise
        pytest.skip(str(exc))


# `try --memfd --dontunmap`, step by step (status, errno, pages read): it moves, and both ranges
# still read the data (5.13+: the page cache stays behind the old range)
MEMFD_DONTUNMAP = [("ok", None, []), ("ok", None, []), ("ok", None, ["data:A"] * 4), ("ok", None, ["data:A"] * 4)]
HUGE_PAGE = parse_scenario(
    '[[step]]\nop = "mmap"\nname = "H"\nkind = "hugetlb"\nsize = "32M"\nfill = "H"\n\n'
    '[[step]]\nop = "read"\nat = "H"\n',
    "one huge page",
)


def outcomes(run: Run) -> List[Tuple[str, Optional[str], List[str]]]:
    return [(s.status, s.errno, s.pages or []) for s in run.steps]


@pytest.mark.vm
def test_arm64_16k_runs_try_and_the_gc_flip(arm64_ready: None) -> None:
    backend = VmBackend("7.2", arch="arm64", page_size="16K")
    assert backend.page_size == 16384 and backend.booted.release.endswith("-arm64-16k")
    scenario, _ = build(TryOptions(kind="memfd", dontunmap=True), backend.page_size)
    runs = backend.run_batch([scenario, load_bundled("gc-heap-flip"), HUGE_PAGE])
    for run in runs:
        assert (run.backend, run.page_size, run.kernel) == ("vm", 16384, backend.booted.release), run.failure
        note = run.notes[0]
        assert "linux-binary-7.2" in note and "(Linux 7.2." in note and "arm64, 16K pages" in note, note
        assert "qemu-system-aarch64 with python3.13" in note, note
    tried, flip, huge = runs
    assert outcomes(tried) == MEMFD_DONTUNMAP, outcomes(tried)
    moved = tried.steps[1]
    assert moved.address is not None and moved.address != tried.steps[0].address
    assert all(entry.size == 65536 for entry in tried.maps_after if entry.label in ("old", "new"))
    judged = [s for s in flip.steps if s.expect_met is not None]
    assert len(judged) >= 6 and flip.expectations_met, [(s.call, s.expect, s.status) for s in flip.steps]
    assert outcomes(huge) == [("ok", None, []), ("ok", None, ["data:H"] * 2048)], (huge.failure, outcomes(huge))


@pytest.mark.vm
def test_arm64_16k_runs_bench_and_the_gc_demo_in_its_own_pages(arm64_ready: None) -> None:
    """One boot: `bench --quick` measures whole 16 KiB pages with the placements of 32 MiB PMDs and
    64 GiB PUDs (a larger lab), and the demo GC compacts a memfd heap of 16 KiB pages."""
    from mremapctl.backends.vm import qemu
    from mremapctl.backends.vm.pyz import GUEST_PYZ

    tool = f"python3 {GUEST_PYZ}"
    script = f"{tool} bench --quick --ops move --json && echo @@ && {tool} demo gc --heap memfd --json"
    result = qemu.run_in_kernel("7.2", ["sh", "-c", script], arch="arm64", page_size=16384, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    bench_text, gc_text = result.stdout.decode().split("@@\n")
    bench, gc = json.loads(bench_text), json.loads(gc_text)
    assert sorted({c["size"] for c in bench["cases"]}) == [64 << 10, 2 << 20, 8 << 20]  # no 4 KiB cell
    assert {c["placement"] for c in bench["cases"]} == {"pud", "pmd", "mutual", "misaligned"}
    assert all(c["median_ns"] is not None for c in bench["cases"]), bench["cases"]
    assert gc["contents_ok"] is True and gc["faults"] == gc["size"] // 16384, gc
