"""Boot a kernel under qemu (TCG) and run one command in it: run_in_kernel().

The guest sees the host's root read-only over virtio-9p and a fresh per-run folder
read-write; the command's stdout, stderr and exit status come back through that
folder. Each call has its own run folder and qemu process, so calls can run in
parallel (about 2 boots per 2 host cores before they slow each other down).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from mremapctl.backends.vm import kernels, virtiofs
from mremapctl.backends.vm.errors import GuestCrashed, GuestTimeout, VMError
from mremapctl.backends.vm.guest import write_run_files
from mremapctl.backends.vm.initramfs import HOST_TAG, RUN_TAG, initramfs_for
from mremapctl.backends.vm.kernels import Kernel
from mremapctl.backends.vm.prereq import ALL_TOOLS, check_prerequisites
from mremapctl.backends.vm.versions import KernelPackage

CMDLINE = "console=ttyS0 panic=-1 oops=panic edd=off loglevel=4 rdinit=/init"
CONSOLE_TAIL = 3000  # characters of the guest console kept for error reports


@dataclass(frozen=True)
class GuestResult:
    """What a command did inside the guest kernel (returncode is the shell's: 128+N for signal N)."""

    returncode: int
    stdout: bytes
    stderr: bytes
    seconds: float  # wall time, qemu start to exit
    kernel_release: str  # `uname -r` as the guest saw it
    package: str  # the Debian package the kernel came from
    console_tail: str


def qemu_command(
    kernel: Kernel,
    initrd: Path,
    run_dir: Path,
    memory_mb: int = 1024,
    smp: int = 1,
    sockets: Optional[Dict[str, Path]] = None,
) -> List[str]:
    """The qemu-system-x86_64 command line: TCG, no devices but a serial console and two shares
    (9p, or virtiofs through the daemons' `sockets`)."""
    return [
        "qemu-system-x86_64",
        "-accel",
        "tcg",
        "-cpu",
        "max",
        "-m",
        str(memory_mb),
        "-smp",
        str(smp),
        "-nodefaults",
        "-display",
        "none",
        "-no-reboot",
        "-no-user-config",
        "-serial",
        f"file:{run_dir / 'console.log'}",
        "-kernel",
        str(kernel.boot_image),
        "-initrd",
        str(initrd),
        "-append",
        CMDLINE,
        *(_9p_args(run_dir) if sockets is None else virtiofs.qemu_args(sockets, memory_mb)),
    ]


def _9p_args(run_dir: Path) -> List[str]:
    return [
        "-fsdev",
        f"local,id={HOST_TAG},path=/,security_model=none,readonly=on,multidevs=remap",
        "-device",
        f"virtio-9p-pci,fsdev={HOST_TAG},mount_tag={HOST_TAG}",
        "-fsdev",
        f"local,id={RUN_TAG},path={run_dir},security_model=none",
        "-device",
        f"virtio-9p-pci,fsdev={RUN_TAG},mount_tag={RUN_TAG}",
    ]


def _tail(path: Path, limit: int = CONSOLE_TAIL) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-limit:].decode("utf-8", "replace").replace("\r\n", "\n")


def _last_lines(text: str, n: int = 3) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return " | ".join(lines[-n:]) or "(empty console)"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def run_in_kernel(
    kernel: Union[str, Kernel, KernelPackage],
    argv: Sequence[str],
    cwd: Union[str, os.PathLike[str], None] = None,
    env: Optional[Mapping[str, str]] = None,
    timeout: float = 120.0,
    *,
    memory_mb: int = 1024,
    keep: Sequence[str] = (),
    progress: Optional[Callable[[str], None]] = None,
    cache: Optional[Path] = None,
) -> GuestResult:
    """Boot `kernel` (a spec like "5.10", a package, or a fetched Kernel) and run argv in cwd.

    The host's / is the guest's root, read-only, with fresh tmpfs on /tmp and /run
    (cwd, the program's prefix and `keep` are bound back when under them). env adds to
    a minimal environment (PATH, HOME, LANG). Raises GuestTimeout when the VM outlives
    `timeout` seconds (the VM only: a first fetch is not counted), GuestCrashed when it stops
    without reporting an exit status.
    """
    check_prerequisites(ALL_TOOLS)
    if not argv:
        raise ValueError("argv must name a program")
    workdir = os.path.abspath(os.fspath(cwd) if cwd is not None else os.getcwd())
    if not os.path.isdir(workdir):
        raise VMError(f"working folder {workdir} does not exist on the host, so not in the guest either")
    booted = kernels.get(kernel, progress, cache)
    try:
        initrd = initramfs_for(booted)
    except (ValueError, OSError, struct.error) as err:
        raise VMError(f"{booted.package}: building the initramfs failed: {err}") from None
    run_dir = Path(tempfile.mkdtemp(prefix="mremapctl-vm-"))
    try:
        write_run_files(run_dir, list(argv), workdir, env, keep)
        with _shares(booted, run_dir) as sockets:
            cmd = qemu_command(booted, initrd, run_dir, memory_mb, sockets=sockets)
            (run_dir / "qemu.cmd").write_text(" ".join(cmd) + "\n")
            if progress:
                progress(f"booting {booted.release} ({booted.package}) under qemu (TCG, {booted.transport})")
            qemu_rc, seconds = _boot(cmd, run_dir, booted, timeout)
        return _collect(run_dir, booted, qemu_rc, seconds)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def _shares(kernel: Kernel, run_dir: Path) -> ContextManager[Optional[Dict[str, Path]]]:
    """Nothing to start for 9p (qemu serves it); a virtiofsd per share for virtiofs."""
    if kernel.transport != "virtiofs":
        return contextlib.nullcontext()
    shares = [(HOST_TAG, "/", "always", False), (RUN_TAG, str(run_dir), "never", True)]
    return virtiofs.serving(kernel.package, shares, run_dir)


def _boot(cmd: List[str], run_dir: Path, kernel: Kernel, timeout: float) -> Tuple[int, float]:
    """Run qemu to its end or the time-out; return (qemu's exit status, seconds)."""
    started = time.monotonic()
    with open(run_dir / "qemu.log", "wb") as qlog:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qlog, stderr=subprocess.STDOUT)
        except OSError as err:
            raise VMError(f"{kernel.package}: starting {cmd[0]} failed: {err}") from None
        try:
            qemu_rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            console = _tail(run_dir / "console.log")
            raise GuestTimeout(
                f"{kernel.release}: no result after {timeout:g}s, qemu killed; console: {_last_lines(console)}",
                console,
                time.monotonic() - started,
            ) from None
        finally:
            if proc.poll() is None:  # interrupted (e.g. Ctrl-C): never leave a qemu behind
                proc.kill()
                proc.wait()
    return qemu_rc, time.monotonic() - started


def _collect(run_dir: Path, kernel: Kernel, qemu_rc: int, seconds: float) -> GuestResult:
    """Read the command's results from the run folder, or explain why there are none."""
    console = _tail(run_dir / "console.log")
    status = _read(run_dir / "status").strip()
    if not status:
        reason = _read(run_dir / "error").decode("utf-8", "replace").strip()
        qemu_out = _read(run_dir / "qemu.log").decode("utf-8", "replace").strip()
        if qemu_rc != 0 and qemu_out:
            raise VMError(f"qemu failed (exit {qemu_rc}) booting {kernel.release}: {_last_lines(qemu_out, 2)}")
        detail = reason or _last_lines(console)
        raise GuestCrashed(
            f"{kernel.release}: VM stopped without an exit status (qemu exit {qemu_rc}): {detail}", console
        )
    release = _read(run_dir / "release").decode("utf-8", "replace").strip()
    return GuestResult(
        returncode=int(status),
        stdout=_read(run_dir / "stdout"),
        stderr=_read(run_dir / "stderr"),
        seconds=seconds,
        kernel_release=release or kernel.release,
        package=kernel.package,
        console_tail=console,
    )
