"""Write the per-run scripts the guest executes: guest.sh (as PID 1) and cmd.sh (in the chroot).

guest.sh finishes the mounts (proc, sys, dev, fresh tmpfs on /tmp and /run with the
working folder bound back), then chroots into the host's root (amd64) or stays in the
initramfs's own userland (arm64) and runs cmd.sh there with a clean environment, its
stdout/stderr/exit status going to files in the run folder: byte-exact, without the serial
line's CR/LF mangling or kernel messages.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Dict, List, Mapping, Optional, Sequence

GUEST_RUN_DIR = "/run/mremapctl-vm"  # where the run folder appears inside the chroot
FRESH_DIRS = ("/tmp", "/run")  # replaced by an empty tmpfs in the guest
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
USERLAND_PATH = "/usr/bin:/bin"  # the arm64 initramfs userland's
# Huge pages reserved before the command runs, so hugetlb experiments work in every kernel:
# 32 MiB of them (16 of 2 MiB; the bundled lessons need 2 at most), and at least 4 where a
# huge page is bigger (32 MiB with 16K pages: 128 MiB of the guest's 1 GiB).
HUGEPAGE_BUDGET_KB = 32768
MIN_HUGEPAGES = 4


def hugepages_for(hugepage_kb: int) -> int:
    """How many huge pages the guest reserves when a huge page is `hugepage_kb` KiB."""
    return max(MIN_HUGEPAGES, HUGEPAGE_BUDGET_KB // hugepage_kb)


HUGEPAGES = hugepages_for(2048)  # on amd64 and 4K arm64
_NAME_OK = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _is_pyenv_shim(path: str) -> bool:
    """True for pyenv's bash shims, which fork a dozen processes per call (~6 s under TCG)."""
    if "/shims/" in path:
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return False
    return head.startswith(b"#!") and b"pyenv" in head


def real_program(argv0: str, path: str, cwd: Optional[str] = None) -> Optional[str]:
    """The interpreter a pyenv shim stands for (`pyenv which`, run in cwd), else None."""
    found = argv0 if "/" in argv0 else shutil.which(argv0, path=path)
    if found is None or not _is_pyenv_shim(found) or not shutil.which("pyenv"):
        return None
    name = os.path.basename(found)
    proc = subprocess.run(
        ["pyenv", "which", name],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        check=False,
        cwd=cwd if cwd and os.path.isdir(cwd) else None,
    )
    real = proc.stdout.strip()
    return real if proc.returncode == 0 and real.startswith("/") else None


def python_dir(argv0: str, path: str, cwd: Optional[str] = None) -> Optional[str]:
    """For a python program, the folder to put first in the guest's PATH so `python3` is the real one.

    An absolute program (usually a venv's python) gives its own folder; a bare name
    is looked up on `path`; a pyenv shim is replaced by what `pyenv which` says.
    """
    if "python" not in os.path.basename(argv0):
        return None
    real = real_program(argv0, path, cwd)
    if real:
        return str(PurePosixPath(real).parent)
    found = os.path.abspath(argv0) if "/" in argv0 else shutil.which(argv0, path=path)
    return str(PurePosixPath(found).parent) if found else None


def guest_env(argv0: str, env: Optional[Mapping[str, str]], cwd: Optional[str] = None) -> Dict[str, str]:
    """The command's environment: PATH, HOME, LANG and PYTHONDONTWRITEBYTECODE, then `env` on top.

    The guest gets no copy of the host environment: only what is named here.
    """
    extra = dict(env or {})
    for name in extra:
        if not _NAME_OK.match(name):
            raise ValueError(f"environment variable name not usable in the guest: {name!r}")
    base_path = extra.pop("PATH", None) or os.environ.get("PATH") or DEFAULT_PATH
    first = python_dir(argv0, base_path, cwd)
    parts = ([first] if first else []) + [p for p in base_path.split(":") if p]
    out = {
        "PATH": ":".join(dict.fromkeys(parts)),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    out.update(extra)
    return out


def kept_paths(cwd: str, argv0: str, keep: Sequence[str] = ()) -> List[str]:
    """Host folders under /tmp or /run that must stay visible over the guest's fresh tmpfs.

    The working folder and the prefix of an absolute program (a venv in a clone under
    /tmp), plus any `keep`; nested ones collapse into their outermost folder.
    """
    wanted = [cwd, *keep]
    if argv0.startswith("/"):
        wanted.append(str(PurePosixPath(os.path.abspath(argv0)).parent.parent))
    under = [os.path.normpath(p) for p in wanted if any(os.path.normpath(p).startswith(d + "/") for d in FRESH_DIRS)]
    out: List[str] = []
    for p in sorted(set(under), key=lambda x: (len(x), x)):
        if not any(p == o or p.startswith(o + "/") for o in out):
            out.append(p)
    return out


def _hugepages_line(root: str) -> str:
    """Shell that reserves hugepages_for(the guest's huge page size); hugetlb says unavailable if it fails."""
    return (
        f"hp=$($bb awk '/^Hugepagesize:/ {{print $2}}' {root}/proc/meminfo); "
        f'n=$(({HUGEPAGE_BUDGET_KB} / ${{hp:-2048}})); [ "$n" -lt {MIN_HUGEPAGES} ] && n={MIN_HUGEPAGES}; '
        f"echo $n > {root}/proc/sys/vm/nr_hugepages 2>/dev/null || :"
    )


def guest_script(kept: Sequence[str], root: str = "/host") -> str:
    """guest.sh: sourced by /init with $bb = busybox and the run folder at /share; the command's root
    is the host's at /host (amd64), or the initramfs itself (root "": arm64, /init mounted proc, sys, dev)."""
    q = shlex.quote
    lines = ["# written by mremapctl for one run"]
    if root:
        lines.append(f"$bb mount -t proc proc {root}/proc")
    lines.append(_hugepages_line(root))
    if root:
        lines += [f"$bb mount -t sysfs sysfs {root}/sys", f"$bb mount -t devtmpfs devtmpfs {root}/dev"]
    lines += [
        f"$bb mkdir -p {root}/dev/pts {root}/dev/shm",
        f"$bb mount -t devpts -o gid=5,mode=620 devpts {root}/dev/pts",
        f"$bb mount -t tmpfs -o mode=1777 tmpfs {root}/dev/shm",
        "$bb ip link set lo up 2>/dev/null || :",
    ]
    for i, path in enumerate(kept):
        lines += [
            f"$bb mkdir -p /keep/{i}",
            f"$bb mount -o bind {q(root + path)} /keep/{i} || fail {q('cannot bind ' + path)}",
        ]
    for d in FRESH_DIRS:
        mode = "1777" if d == "/tmp" else "755"
        lines.append(f"$bb mount -t tmpfs -o mode={mode} tmpfs {root}{d}")
    for i, path in enumerate(kept):
        lines += [f"$bb mkdir -p {q(root + path)}", f"$bb mount -o move /keep/{i} {q(root + path)}"]
    lines += [
        f"$bb mkdir -p {root}{GUEST_RUN_DIR}",
        f"$bb mount -o bind /share {root}{GUEST_RUN_DIR}",
        f"$bb env -i $bb chroot {root or '/'} /bin/sh {GUEST_RUN_DIR}/cmd.sh </dev/null >/share/stdout 2>/share/stderr",
        "echo $? > /share/status.tmp && $bb mv /share/status.tmp /share/status",
    ]
    return "\n".join(lines) + "\n"


def command_script(argv: Sequence[str], cwd: str, env: Mapping[str, str]) -> str:
    """cmd.sh: runs in the chroot under /bin/sh; exports env, enters cwd and execs argv."""
    if not argv:
        raise ValueError("argv must name a program")
    q = shlex.quote
    lines = ["# written by mremapctl for one run"]
    lines += [f"export {name}={q(value)}" for name, value in env.items()]
    lines.append(f"cd {q(cwd)} || {{ echo {q('mremapctl-vm: cannot enter ' + cwd + ' in the guest')} >&2; exit 125; }}")
    lines.append("exec " + " ".join(q(a) for a in argv))
    return "\n".join(lines) + "\n"


def write_userland_run_files(run_dir: Path, argv: Sequence[str], env: Optional[Mapping[str, str]]) -> None:
    """guest.sh and cmd.sh for a guest that runs its own userland (arm64): the run folder is the
    working folder, the environment is the userland's, not the host's."""
    if not argv:
        raise ValueError("argv must name a program")
    extra = dict(env or {})
    bad = [name for name in extra if not _NAME_OK.match(name)]
    if bad:
        raise ValueError(f"environment variable name not usable in the guest: {bad[0]!r}")
    env_out = {"PATH": USERLAND_PATH, "HOME": "/root", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", **extra}
    (run_dir / "guest.sh").write_text(guest_script([], root=""))
    (run_dir / "cmd.sh").write_text(command_script(argv, GUEST_RUN_DIR, env_out))


def write_run_files(
    run_dir: Path, argv: Sequence[str], cwd: str, env: Optional[Mapping[str, str]], keep: Sequence[str] = ()
) -> None:
    """Put guest.sh and cmd.sh in the run folder the guest mounts (the host's root is the guest's)."""
    if not argv:
        raise ValueError("argv must name a program")
    env_out = guest_env(argv[0], env, cwd)
    real = real_program(argv[0], env_out["PATH"], cwd) if argv[0].startswith("/") else None
    args = [real or argv[0], *argv[1:]]  # an absolute pyenv shim would cost ~6 s of forks under TCG
    kept = [k for k in kept_paths(cwd, args[0], keep) if os.path.isdir(k)]
    (run_dir / "guest.sh").write_text(guest_script(kept))
    (run_dir / "cmd.sh").write_text(command_script(args, cwd, env_out))
