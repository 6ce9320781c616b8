"""Boot a kernel under qemu (TCG) and run one command in it: run_in_kernel().

An amd64 guest sees the host's root read-only over virtio-9p; an arm64 guest runs the
userland in its initramfs and sees nothing of the host. Both get a fresh per-run folder
read-write; the command's stdout, stderr and exit status come back through that
folder. Each call has its own run folder and qemu process, so calls can run in
parallel (about 2 boots per 2 host cores before they slow each other down).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import struct
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, ContextManager, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from mremapctl.backends.vm import kernels, virtiofs
from mremapctl.backends.vm.cache import cache_dir
from mremapctl.backends.vm.errors import GuestCrashed, GuestTimeout, VMError
from mremapctl.backends.vm.guest import write_run_files, write_userland_run_files
from mremapctl.backends.vm.initramfs import HOST_TAG, RUN_TAG, initramfs_for, userland_initramfs
from mremapctl.backends.vm.kernels import Kernel
from mremapctl.backends.vm.packages import KernelPackage
from mremapctl.backends.vm.prereq import check_arch
from mremapctl.frozen import frozen
from mremapctl.platforms import host_arch

CONSOLE_TAIL = 3000  # characters of the guest console kept for error reports


@frozen
class GuestResult:
    """What a command did inside the guest kernel (returncode is the shell's: 128+N for signal N)."""

    returncode: int
    stdout: bytes
    stderr: bytes
    seconds: float  # wall time, qemu start to exit
    kernel_release: str  # `uname -r` as the guest saw it
    package: str  # the Debian package the kernel came from
    console_tail: str
    userland: str = ""  # an arm64 guest's own Python (its Debian package and version)


def qemu_command(
    kernel: Kernel,
    initrd: Path,
    run_dir: Path,
    memory_mb: int = 1024,
    smp: int = 1,
    sockets: Optional[Dict[str, Path]] = None,
) -> List[str]:
    """The qemu-system-x86_64 or -aarch64 command line: TCG, no devices but a serial console and the
    shares (9p, or virtiofs through the daemons' `sockets`): the run folder, and the host's root for amd64."""
    arch = kernel.target
    return [
        arch.qemu,
        "-accel",
        "tcg",
        *arch.machine_args,
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
        arch.append,
        *(_9p_args(run_dir, arch.host_userland) if sockets is None else virtiofs.qemu_args(sockets, memory_mb)),
    ]


def _9p_args(run_dir: Path, host: bool) -> List[str]:
    """The run folder read-write, and the host's root read-only when the guest runs the host's userland."""
    root = [
        "-fsdev",
        f"local,id={HOST_TAG},path=/,security_model=none,readonly=on,multidevs=remap",
        "-device",
        f"virtio-9p-pci,fsdev={HOST_TAG},mount_tag={HOST_TAG}",
    ]
    return root * host + [
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
    inputs: Optional[Mapping[str, bytes]] = None,
    arch: Optional[str] = "amd64",
    page_size: Optional[int] = None,
) -> GuestResult:
    """Boot `kernel` (a spec like "5.10" of `arch` and `page_size`, a package, or a fetched Kernel) and run argv.

    amd64: the host's / is the guest's root, read-only, with fresh tmpfs on /tmp and /run
    (cwd, the program's prefix and `keep` are bound back when under them). arm64: the root is
    Debian's arm64 userland with the tool at /opt/mremapctl.pyz, and argv runs in the run
    folder, which holds `inputs` ({file name: bytes}); there is no cwd or keep. env adds to
    a minimal environment (PATH, HOME, LANG). Raises GuestTimeout when the VM outlives
    `timeout` seconds (the VM only: a first fetch is not counted), GuestCrashed when it stops
    without reporting an exit status.
    """
    if not argv:
        raise ValueError("argv must name a program")
    booted = kernels.get(kernel, progress, cache, arch, page_size)
    check_arch(booted.arch)
    run_dir = Path(tempfile.mkdtemp(prefix="mremapctl-vm-"))
    try:
        if booted.target.host_userland:
            initrd, userland = _host_run(booted, run_dir, argv, cwd, env, keep, inputs)
        elif cwd is not None or keep:
            raise ValueError(f"an {booted.arch} guest sees no host folders: pass its files as inputs, not cwd or keep")
        else:
            initrd, userland = _userland_run(booted, run_dir, argv, env, inputs, cache, progress)
        with _shares(booted, run_dir) as sockets:
            cmd = qemu_command(booted, initrd, run_dir, memory_mb, sockets=sockets)
            (run_dir / "qemu.cmd").write_text(" ".join(cmd) + "\n")
            if progress:
                progress(f"booting {booted.release} ({booted.package}) under qemu (TCG, {booted.transport})")
            qemu_rc, seconds = _boot(cmd, run_dir, booted, timeout)
        return dataclasses.replace(_collect(run_dir, booted, qemu_rc, seconds), userland=userland)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def _initramfs_failed(kernel: Kernel, err: Exception) -> VMError:
    return VMError(f"{kernel.package}: building the initramfs failed: {err}")


def _host_run(
    kernel: Kernel,
    run_dir: Path,
    argv: Sequence[str],
    cwd: Union[str, os.PathLike[str], None],
    env: Optional[Mapping[str, str]],
    keep: Sequence[str],
    inputs: Optional[Mapping[str, bytes]],
) -> Tuple[Path, str]:
    """The run files and initramfs of a guest that runs the host's root and programs."""
    if inputs:
        raise ValueError(f"an {kernel.arch} guest sees the host's files: pass cwd, not inputs")
    if host_arch() != kernel.arch:
        raise VMError(f"{kernel.release}: an {kernel.arch} guest runs this machine's programs, and it is {host_arch()}")
    workdir = os.path.abspath(os.fspath(cwd) if cwd is not None else os.getcwd())
    if not os.path.isdir(workdir):
        raise VMError(f"working folder {workdir} does not exist on the host, so not in the guest either")
    write_run_files(run_dir, list(argv), workdir, env, keep)
    try:
        return initramfs_for(kernel), ""
    except (ValueError, OSError, struct.error) as err:
        raise _initramfs_failed(kernel, err) from None


def _userland_run(
    kernel: Kernel,
    run_dir: Path,
    argv: Sequence[str],
    env: Optional[Mapping[str, str]],
    inputs: Optional[Mapping[str, bytes]],
    cache: Optional[Path],
    progress: Optional[Callable[[str], None]],
) -> Tuple[Path, str]:
    """The run files and initramfs of a guest that runs its own userland; inputs go into the run folder."""
    for name, data in (inputs or {}).items():
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"input file names are plain names in the run folder: {name!r}")
        (run_dir / name).write_bytes(data)
    write_userland_run_files(run_dir, list(argv), env)
    try:
        initrd, userland = userland_initramfs(kernel, cache or cache_dir(), progress)
    except (ValueError, OSError, struct.error) as err:
        raise _initramfs_failed(kernel, err) from None
    return initrd, userland.describe


def _shares(kernel: Kernel, run_dir: Path) -> ContextManager[Optional[Dict[str, Path]]]:
    """Nothing to start for 9p (qemu serves it); a virtiofsd per share for virtiofs."""
    if kernel.transport != "virtiofs":
        return contextlib.nullcontext()
    host = [(HOST_TAG, "/", "always", False)] if kernel.target.host_userland else []
    shares = [*host, (RUN_TAG, str(run_dir), "never", True)]
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
