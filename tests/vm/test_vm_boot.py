"""Boot real Debian kernels under qemu and watch mremap(2) behave differently on 5.10 and later.

On 5.10, MREMAP_DONTUNMAP is refused (EINVAL) for a shared (memfd) mapping; 6.1 and later
accept it. CI boots 5.10, 6.1, 7.1 (Debian publishes no modules for it: virtiofs) and 7.3
(split packages, 9p); `pytest -m vm_all` boots the newest kernel of every series. Needs qemu,
a static busybox and the Debian mirrors (a cold fetch is 6-17 s per kernel, a boot 6-12 s).
Skips with the reason on a machine without them, but never in CI (CI=true), where the CI
script installs them.
"""

from __future__ import annotations

import os
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict

import pytest
from tests.vm.grid import SERIES

from mremapctl.backends import vm
from mremapctl.backends.vm import guest

PROBE = textwrap.dedent("""
    import ctypes, errno, os
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    libc.syscall.restype = ctypes.c_long
    page = os.sysconf("SC_PAGE_SIZE")
    fd = os.memfd_create("probe")
    os.ftruncate(fd, page)
    addr = libc.mmap(None, page, 3, 1, fd, 0)  # PROT_READ|PROT_WRITE, MAP_SHARED
    assert addr not in (None, ctypes.c_void_p(-1).value), "mmap failed"
    L = ctypes.c_long
    # SYS_mremap = 25 on x86-64; MREMAP_MAYMOVE|MREMAP_DONTUNMAP = 1|4
    res = libc.syscall(L(25), L(addr), L(page), L(page), L(1 | 4), L(0))
    err = ctypes.get_errno()
    print(os.uname().release, "ok" if res != -1 else errno.errorcode[err])
    print(open("marker").read())
    print(open("/proc/sys/vm/nr_hugepages").read().strip())
""")
EXPECTED = {"5.10": "EINVAL", "6.1": "ok", "7.1": "ok", "7.3": "ok"}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def kernels() -> Dict[str, vm.Kernel]:
    """The newest kernels of EXPECTED's series, fetched once (cached across runs)."""
    try:
        vm.check_prerequisites()
    except vm.PrerequisiteError as exc:
        if in_ci():
            raise
        pytest.skip(str(exc))
    try:
        return {spec: vm.get(spec) for spec in EXPECTED}
    except vm.MirrorUnavailable as exc:
        if in_ci():
            raise
        pytest.skip(str(exc))


def check_probe(spec: str, kernel: vm.Kernel, result: vm.GuestResult) -> None:
    """The probe ran in the kernel we asked for, saw its working folder and the reserved huge pages."""
    detail = f"{spec}: stderr={result.stderr!r} console={result.console_tail[-500:]!r}"
    assert result.returncode == 0, detail
    lines = result.stdout.decode().splitlines()
    release, outcome = lines[0].split()
    assert release == result.kernel_release == kernel.release, detail
    assert release.startswith(spec + "."), detail
    assert outcome == EXPECTED.get(spec, "ok"), detail
    assert lines[1:] == ["cwd visible", str(guest.HUGEPAGES)], detail
    assert result.package == kernel.package


@pytest.mark.vm
def test_dontunmap_on_shared_memory_differs_between_5_10_and_later(
    kernels: Dict[str, vm.Kernel], tmp_path: Path
) -> None:
    # tmp_path is under /tmp, which the guest replaces with a tmpfs: this also checks the bind-back of cwd
    (tmp_path / "marker").write_text("cwd visible")

    def boot(spec: str) -> vm.GuestResult:
        return vm.run_in_kernel(kernels[spec], [sys.executable, "-c", PROBE], cwd=tmp_path, timeout=180)

    with ThreadPoolExecutor(max_workers=2) as pool:  # two VMs at once, as the backend allows
        results = dict(zip(EXPECTED, pool.map(boot, EXPECTED)))
    assert kernels["7.1"].transport == "virtiofs" and kernels["7.3"].transport == "9p"
    for spec, result in results.items():
        check_probe(spec, kernels[spec], result)


@pytest.mark.vm
@pytest.mark.vm_all
@pytest.mark.parametrize("spec", [s for s in SERIES if s not in EXPECTED])
def test_every_series_boots(spec: str, tmp_path: Path) -> None:
    (tmp_path / "marker").write_text("cwd visible")
    kernel = vm.get(spec)
    check_probe(spec, kernel, vm.run_in_kernel(kernel, [sys.executable, "-c", PROBE], cwd=tmp_path, timeout=180))


@pytest.mark.vm
def test_exit_status_and_streams_are_byte_exact(kernels: Dict[str, vm.Kernel], tmp_path: Path) -> None:
    code = "import sys; sys.stdout.buffer.write(bytes(range(256))); sys.stderr.buffer.write(b'e\\r\\n'); sys.exit(7)"
    result = vm.run_in_kernel(kernels["6.1"], [sys.executable, "-c", code], cwd=tmp_path, timeout=180)
    assert (result.returncode, result.stdout, result.stderr) == (7, bytes(range(256)), b"e\r\n")


@pytest.mark.vm
def test_timeout_kills_the_vm(kernels: Dict[str, vm.Kernel], tmp_path: Path) -> None:
    with pytest.raises(vm.GuestTimeout, match="no result after 1s"):
        vm.run_in_kernel(kernels["5.10"], ["/bin/sleep", "60"], cwd=tmp_path, timeout=1)


@pytest.mark.vm
@pytest.mark.parametrize("spec", ["7.1", "7.3"])  # virtiofs, 9p
def test_a_root_guest_cannot_write_the_host(kernels: Dict[str, vm.Kernel], tmp_path: Path, spec: str) -> None:
    """The guest is root and may remount its view of the host read-write: the host refuses anyway."""
    target = Path("/var/tmp") / f"mremapctl-guest-write-{os.getpid()}-{spec}"
    target.mkdir()
    try:
        attempt = f"mount -o remount,rw / 2>/dev/null; echo written > {target}/file; echo rc=$?"
        result = vm.run_in_kernel(kernels[spec], ["/bin/sh", "-c", attempt], cwd=tmp_path, timeout=180)
        assert result.returncode == 0, result.stderr
        assert b"rc=0" not in result.stdout, result.stdout
        assert not (target / "file").exists()
    finally:
        (target / "file").unlink(missing_ok=True)
        target.rmdir()
