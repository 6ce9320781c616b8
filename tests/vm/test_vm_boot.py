"""Boot real Debian kernels under qemu and watch mremap(2) behave differently on 5.10 and 6.1.

On 5.10, MREMAP_DONTUNMAP is refused (EINVAL) for a shared (memfd) mapping; 6.1
accepts it. Needs qemu, a static busybox and the Debian mirrors (first run ~15 s per
kernel to download, then ~5 s per boot). Skips with the reason on a machine without
them, but never in CI (CI=true), where the CI script installs them.
"""

from __future__ import annotations

import os
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict

import pytest

from mremapctl.backends import vm

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
""")
EXPECTED = {"5.10": "EINVAL", "6.1": "ok"}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def kernels() -> Dict[str, vm.Kernel]:
    """The newest 5.10 and 6.1 kernels, fetched once (cached across runs)."""
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


@pytest.mark.vm
def test_dontunmap_on_shared_memory_differs_between_5_10_and_6_1(kernels: Dict[str, vm.Kernel], tmp_path: Path) -> None:
    # tmp_path is under /tmp, which the guest replaces with a tmpfs: this also checks the bind-back of cwd
    (tmp_path / "marker").write_text("cwd visible")

    def boot(spec: str) -> vm.GuestResult:
        return vm.run_in_kernel(kernels[spec], [sys.executable, "-c", PROBE], cwd=tmp_path, timeout=180)

    with ThreadPoolExecutor(max_workers=2) as pool:  # two VMs at once, as the backend allows
        results = dict(zip(EXPECTED, pool.map(boot, EXPECTED)))
    for spec, result in results.items():
        detail = f"{spec}: stderr={result.stderr!r} console={result.console_tail[-500:]!r}"
        assert result.returncode == 0, detail
        release, outcome = result.stdout.decode().splitlines()[0].split()
        assert release == result.kernel_release == kernels[spec].release, detail
        assert release.startswith(spec + "."), detail
        assert outcome == EXPECTED[spec], detail
        assert result.stdout.decode().splitlines()[1] == "cwd visible", detail
        assert result.package == kernels[spec].package


@pytest.mark.vm
def test_exit_status_and_streams_are_byte_exact(kernels: Dict[str, vm.Kernel], tmp_path: Path) -> None:
    code = "import sys; sys.stdout.buffer.write(bytes(range(256))); sys.stderr.buffer.write(b'e\\r\\n'); sys.exit(7)"
    result = vm.run_in_kernel(kernels["6.1"], [sys.executable, "-c", code], cwd=tmp_path, timeout=180)
    assert (result.returncode, result.stdout, result.stderr) == (7, bytes(range(256)), b"e\r\n")


@pytest.mark.vm
def test_timeout_kills_the_vm(kernels: Dict[str, vm.Kernel], tmp_path: Path) -> None:
    with pytest.raises(vm.GuestTimeout, match="no result after 1s"):
        vm.run_in_kernel(kernels["5.10"], ["/bin/sleep", "60"], cwd=tmp_path, timeout=1)
