"""Share host folders with a guest over virtiofs, for kernels Debian publishes no 9p modules for.

Debian's 6.19, 7.0 and 7.1 kernels on the mirrors come as linux-binary only (no
linux-modules, no linux-base), but have virtio-pci, FUSE and virtiofs built in. A
virtiofsd per share serves the folder over a vhost-user socket; qemu then needs the
guest's memory in a shared memfd. Both the C virtiofsd that bookworm's qemu ships and
the Rust one (package virtiofsd) work. Neither has a read-only mode, so the host's root is
served from a mount namespace of its own in which every mount is remounted read-only: the
guest mounts it read-only too, but the host does not rely on the guest for that.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from mremapctl.backends.vm.errors import PrerequisiteError, VMError

VIRTIOFSD_ENV = "MREMAPCTL_VM_VIRTIOFSD"
CANDIDATES = ("/usr/libexec/virtiofsd", "/usr/lib/qemu/virtiofsd")
SOCKET_WAIT = 10.0  # seconds for a daemon to create its socket


def find_virtiofsd() -> Optional[str]:
    """$MREMAPCTL_VM_VIRTIOFSD, else virtiofsd on PATH, else where Debian's packages put it."""
    explicit = os.environ.get(VIRTIOFSD_ENV)
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    found = shutil.which("virtiofsd")
    if found:
        return found
    return next((c for c in CANDIDATES if os.access(c, os.X_OK)), None)


def require_virtiofsd(package: str) -> str:
    """The daemon's path, or one line saying why this kernel needs it and where it comes from."""
    found = find_virtiofsd()
    if found is None:
        raise PrerequisiteError(
            f"{package} has no 9p modules on Debian's mirrors and needs virtiofs: "
            "apt-get install virtiofsd (trixie and later) or qemu-system-common (bookworm)"
        )
    if os.geteuid() != 0 and not _is_rust(found):
        raise PrerequisiteError(f"{package} needs virtiofs, and {found} (the C virtiofsd) must run as root")
    return found


def _is_rust(binary: str) -> bool:
    """The Rust virtiofsd takes --shared-dir; the C one takes -o source=."""
    proc = subprocess.run([binary, "--help"], capture_output=True, text=True, check=False)
    return "--shared-dir" in proc.stdout + proc.stderr


def daemon_command(binary: str, rust: bool, socket: Path, source: str, cache: str) -> List[str]:
    """The virtiofsd command line serving `source` on `socket` (cache: always or never)."""
    if rust:
        sandbox = "chroot" if os.geteuid() == 0 else "none"
        return [binary, f"--socket-path={socket}", f"--shared-dir={source}", f"--cache={cache}", f"--sandbox={sandbox}"]
    c_cache = "none" if cache == "never" else cache
    return [
        binary,
        f"--socket-path={socket}",
        "-o",
        f"source={source}",
        "-o",
        f"cache={c_cache}",
        "-o",
        "sandbox=chroot",
    ]


# Run a command in a new mount namespace where every mount is read-only (the host's are
# untouched) except two folders: $1 for the daemon's socket, $2 for its pid file.
READ_ONLY_SCRIPT = (
    'a="$1"; b="$2"; shift 2; for mp in $(cut -d" " -f5 /proc/self/mountinfo | sort -u); do '
    'mount -o remount,bind,ro "$mp" 2>/dev/null; done; '
    'touch /.mremapctl-rw-probe 2>/dev/null && { echo "the host root is still writable"; exit 1; }; '
    'for w in "$a" "$b"; do mount --bind "$w" "$w" && mount -o remount,bind,rw "$w" || exit 1; done; exec "$@"'
)
PID_DIR = Path("/run/virtiofsd")  # where the C virtiofsd writes its pid files


def read_only(cmd: List[str], socket_dir: Path) -> List[str]:
    """cmd, run where nothing but its socket and pid folders can be written (root only: users
    cannot remount, and only the Rust daemon runs unprivileged)."""
    if os.geteuid() != 0:
        return cmd
    PID_DIR.mkdir(parents=True, exist_ok=True)
    script = ["sh", "-c", READ_ONLY_SCRIPT, "sh", str(socket_dir), str(PID_DIR)]
    return ["unshare", "--mount", "--propagation", "private", *script, *cmd]


@contextlib.contextmanager
def serving(package: str, shares: Sequence[Tuple[str, str, str, bool]], run_dir: Path) -> Iterator[Dict[str, Path]]:
    """Start one virtiofsd per (tag, folder, cache, writable) share; yield {tag: socket}; stop them after."""
    binary = require_virtiofsd(package)
    rust = _is_rust(binary)
    procs: List[subprocess.Popen[bytes]] = []
    sockets: Dict[str, Path] = {}
    try:
        for tag, source, cache, writable in shares:
            socket = run_dir / f"{tag}.sock"
            with open(run_dir / f"virtiofsd-{tag}.log", "wb") as log:
                cmd = daemon_command(binary, rust, socket, source, cache)
                cmd = cmd if writable else read_only(cmd, run_dir)
                procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT))
            _wait_for(socket, procs[-1], run_dir / f"virtiofsd-{tag}.log", package)
            sockets[tag] = socket
        yield sockets
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_for(socket: Path, proc: subprocess.Popen[bytes], log: Path, package: str) -> None:
    deadline = time.monotonic() + SOCKET_WAIT
    while not socket.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            said = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise VMError(f"{package}: starting virtiofsd for {socket.stem} failed: {said[0]}")
        time.sleep(0.02)


def qemu_args(sockets: Dict[str, Path], memory_mb: int) -> List[str]:
    """qemu options for the shares: vhost-user needs the guest's memory shared with the daemons."""
    args = ["-object", f"memory-backend-memfd,id=mem,size={memory_mb}M,share=on", "-numa", "node,memdev=mem"]
    for i, (tag, socket) in enumerate(sockets.items()):
        args += [
            "-chardev",
            f"socket,id=vfs{i},path={socket}",
            "-device",
            f"vhost-user-fs-pci,chardev=vfs{i},tag={tag}",
        ]
    return args
