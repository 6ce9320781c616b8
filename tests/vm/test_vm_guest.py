"""The per-run guest scripts: environment, PATH, kept folders, quoting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mremapctl.backends.vm import guest


def test_python_folder_comes_first_in_path() -> None:
    env = guest.guest_env("/work/x/.venv/bin/python", {"PATH": "/usr/bin:/work/x/.venv/bin:/bin"})
    assert env["PATH"] == "/work/x/.venv/bin:/usr/bin:/bin"
    assert env["LANG"] == "C.UTF-8"


def test_extra_env_overrides_and_bad_names_are_refused() -> None:
    env = guest.guest_env("/bin/true", {"LANG": "C", "FOO": "a b"})
    assert env["LANG"] == "C" and env["FOO"] == "a b"
    with pytest.raises(ValueError):
        guest.guest_env("/bin/true", {"A-B": "1"})


def test_pyenv_shim_is_replaced_by_the_real_interpreter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shims = tmp_path / "shims"
    shims.mkdir()
    shim = shims / "python3"
    shim.write_text('#!/usr/bin/env bash\nexec "/opt/pyenv/libexec/pyenv" exec "$program" "$@"\n')
    shim.chmod(0o755)
    real = tmp_path / "versions" / "3.11.7" / "bin"
    real.mkdir(parents=True)
    fake_pyenv = tmp_path / "bin" / "pyenv"
    fake_pyenv.parent.mkdir()
    fake_pyenv.write_text(f"#!/bin/sh\necho {real}/python3\n")
    fake_pyenv.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_pyenv.parent}:{os.environ['PATH']}")
    assert guest.python_dir("python3", f"{shims}:/usr/bin") == str(real)


def test_kept_paths_only_under_tmp_and_run_and_collapsed() -> None:
    kept = guest.kept_paths("/tmp/clone/tests", "/tmp/clone/.venv/bin/python", ["/run/x", "/home/y"])
    assert kept == ["/run/x", "/tmp/clone/.venv", "/tmp/clone/tests"]
    assert guest.kept_paths("/tmp/a/b", "/usr/bin/python3", ["/tmp/a"]) == ["/tmp/a"]
    assert guest.kept_paths("/work/main", "/work/main/.venv/bin/python") == []


def test_guest_script_binds_kept_paths_around_the_fresh_tmpfs() -> None:
    script = guest.guest_script(["/tmp/my dir"])
    lines = script.splitlines()
    bind = lines.index("$bb mount -o bind '/host/tmp/my dir' /keep/0 || fail 'cannot bind /tmp/my dir'")
    tmpfs = lines.index("$bb mount -t tmpfs -o mode=1777 tmpfs /host/tmp")
    move = lines.index("$bb mount -o move /keep/0 '/host/tmp/my dir'")
    assert bind < tmpfs < move
    assert ">/share/stdout 2>/share/stderr" in script


def test_command_script_runs_argv_exactly(tmp_path: Path) -> None:
    """cmd.sh under a real /bin/sh: quoting survives spaces, quotes and $."""
    argv = [sys.executable, "-c", "import sys; print(sys.argv[1:])", "a b", "it's", "$HOME", ""]
    script = guest.command_script(argv, str(tmp_path), {"PATH": "/usr/bin:/bin", "X": "y'z"})
    (tmp_path / "cmd.sh").write_text(script)
    out = subprocess.run(["/bin/sh", str(tmp_path / "cmd.sh")], capture_output=True, text=True, check=True, env={})
    assert out.stdout.strip() == repr(["a b", "it's", "$HOME", ""])


def test_command_script_reports_missing_cwd(tmp_path: Path) -> None:
    script = guest.command_script(["/bin/true"], str(tmp_path / "gone"), {})
    (tmp_path / "cmd.sh").write_text(script)
    out = subprocess.run(["/bin/sh", str(tmp_path / "cmd.sh")], capture_output=True, text=True, check=False)
    assert out.returncode == 125 and "cannot enter" in out.stderr


def test_absolute_shim_is_rewritten_to_the_real_interpreter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shim = tmp_path / "shims" / "python3"
    shim.parent.mkdir()
    shim.write_text("#!/usr/bin/env bash\nexec pyenv exec python3\n")
    fake_pyenv = tmp_path / "bin" / "pyenv"
    fake_pyenv.parent.mkdir()
    fake_pyenv.write_text("#!/bin/sh\necho /opt/py/bin/python3\n")
    fake_pyenv.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_pyenv.parent}:/usr/bin:/bin")
    run = tmp_path / "run"
    run.mkdir()
    guest.write_run_files(run, [str(shim), "-V"], "/", None)
    cmd = (run / "cmd.sh").read_text()
    assert "exec /opt/py/bin/python3 -V" in cmd
    assert "export PATH=/opt/py/bin:" in cmd


def test_guest_reserves_huge_pages_before_the_command() -> None:
    lines = guest.guest_script([]).splitlines()
    reserve = next(i for i, ln in enumerate(lines) if "> /host/proc/sys/vm/nr_hugepages" in ln)
    assert (
        lines.index("$bb mount -t proc proc /host/proc")
        < reserve
        < next(i for i, ln in enumerate(lines) if "chroot /host" in ln)
    )
    assert guest.HUGEPAGES >= 2  # the bundled hugetlb lessons map 2 MiB pages


@pytest.mark.parametrize(("hugepage_kb", "reserved"), [(2048, 16), (32768, 4), (1048576, 4), (None, 16)])
def test_huge_pages_reserved_follow_the_huge_page_size(tmp_path: Path, hugepage_kb: int, reserved: int) -> None:
    """The reservation line under a real /bin/sh against a fake /proc: 32 MiB worth, at least 4 pages."""
    (tmp_path / "proc" / "sys" / "vm").mkdir(parents=True)
    size = f"Hugepagesize:    {hugepage_kb} kB\n" if hugepage_kb else ""
    (tmp_path / "proc" / "meminfo").write_text(f"MemTotal:  1048576 kB\n{size}Hugetlb:  0 kB\n")
    subprocess.run(["/bin/sh", "-c", "bb=; " + guest._hugepages_line(str(tmp_path))], check=True)
    assert (tmp_path / "proc" / "sys" / "vm" / "nr_hugepages").read_text().strip() == str(reserved)
    assert guest.hugepages_for(hugepage_kb or 2048) == reserved


def test_userland_guest_runs_in_the_initramfs_root_with_its_own_environment(tmp_path: Path) -> None:
    """arm64: no host share, no re-mount of /proc (init did it), chroot /, the run folder as cwd."""
    guest.write_userland_run_files(tmp_path, ["python3", "/opt/mremapctl.pyz", "batch", "batch.json"], {"X": "1"})
    script = (tmp_path / "guest.sh").read_text()
    assert "/host" not in script and "mount -t proc" not in script
    assert "chroot / /bin/sh /run/mremapctl-vm/cmd.sh" in script and "> /proc/sys/vm/nr_hugepages" in script
    assert "$bb mount -t tmpfs -o mode=1777 tmpfs /tmp" in script.splitlines()
    cmd = (tmp_path / "cmd.sh").read_text()
    assert "export PATH=/usr/bin:/bin" in cmd and "export X=1" in cmd and "cd /run/mremapctl-vm" in cmd
    assert cmd.rstrip().endswith("exec python3 /opt/mremapctl.pyz batch batch.json")
    with pytest.raises(ValueError):
        guest.write_userland_run_files(tmp_path, ["true"], {"A-B": "1"})
