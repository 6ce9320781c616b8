"""How run results are read back, and what a dead VM reports (no qemu needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mremapctl.backends.vm import qemu, virtiofs
from mremapctl.backends.vm.errors import GuestCrashed, PrerequisiteError, VMError
from mremapctl.backends.vm.kernels import Kernel


def kernel(tmp_path: Path) -> Kernel:
    return Kernel("linux-image-5.10.0-46-amd64", "5.10.262-1", "5.10.262", "5.10.0-46-amd64", tmp_path)


def test_results_come_back_byte_exact(tmp_path: Path) -> None:
    (tmp_path / "status").write_text("3\n")
    (tmp_path / "stdout").write_bytes(b"\x00\r\n\xff")
    (tmp_path / "stderr").write_bytes(b"err\r\n")
    (tmp_path / "release").write_text("5.10.0-46-amd64\n")
    (tmp_path / "console.log").write_text("[ 1.0] boot\r\n")
    result = qemu._collect(tmp_path, kernel(tmp_path), 0, 4.2)
    assert (result.returncode, result.stdout, result.stderr) == (3, b"\x00\r\n\xff", b"err\r\n")
    assert (result.kernel_release, result.package, result.seconds) == (
        "5.10.0-46-amd64",
        "linux-image-5.10.0-46-amd64",
        4.2,
    )
    assert result.console_tail == "[ 1.0] boot\n"


def test_vm_without_status_reports_console_tail(tmp_path: Path) -> None:
    (tmp_path / "console.log").write_text("line 1\nKernel panic - not syncing: VFS\n")
    with pytest.raises(GuestCrashed) as err:
        qemu._collect(tmp_path, kernel(tmp_path), 0, 1.0)
    assert "without an exit status" in str(err.value) and "Kernel panic" in str(err.value)
    assert "line 1" in err.value.console_tail


def test_init_failure_reason_is_used(tmp_path: Path) -> None:
    (tmp_path / "error").write_text("insmod 9p failed\n")
    with pytest.raises(GuestCrashed, match="insmod 9p failed"):
        qemu._collect(tmp_path, kernel(tmp_path), 0, 1.0)


def test_qemu_failing_to_start_is_reported(tmp_path: Path) -> None:
    (tmp_path / "qemu.log").write_text("qemu-system-x86_64: -kernel x: No such file\n")
    with pytest.raises(VMError, match=r"qemu failed .*No such file"):
        qemu._collect(tmp_path, kernel(tmp_path), 1, 0.1)


def test_command_line(tmp_path: Path) -> None:
    cmd = qemu.qemu_command(kernel(tmp_path), tmp_path / "i.cpio", tmp_path / "run")
    joined = " ".join(cmd)
    assert cmd[0] == "qemu-system-x86_64" and "-accel tcg" in joined and "-no-reboot" in joined
    assert f"-kernel {tmp_path / 'vmlinuz'}" in joined
    assert "path=/,security_model=none,readonly=on" in joined
    assert f"path={tmp_path / 'run'},security_model=none" in joined
    assert "rdinit=/init" in joined and "console=ttyS0" in joined


def test_command_line_for_virtiofs_shares_memory_with_the_daemons(tmp_path: Path) -> None:
    sockets = {"hostroot": tmp_path / "hostroot.sock", "vmrun": tmp_path / "vmrun.sock"}
    joined = " ".join(qemu.qemu_command(kernel(tmp_path), tmp_path / "i.cpio", tmp_path, 512, sockets=sockets))
    assert "memory-backend-memfd,id=mem,size=512M,share=on" in joined and "-numa node,memdev=mem" in joined
    assert f"socket,id=vfs0,path={tmp_path / 'hostroot.sock'}" in joined
    assert "vhost-user-fs-pci,chardev=vfs1,tag=vmrun" in joined
    assert "virtio-9p-pci" not in joined


def test_virtiofsd_command_lines_for_both_daemons(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(virtiofs.os, "geteuid", lambda: 0)
    c = virtiofs.daemon_command("/usr/lib/qemu/virtiofsd", False, tmp_path / "s", "/", "never")
    assert c[1:] == [f"--socket-path={tmp_path / 's'}", "-o", "source=/", "-o", "cache=none", "-o", "sandbox=chroot"]
    rust = virtiofs.daemon_command("/usr/libexec/virtiofsd", True, tmp_path / "s", "/", "always")
    assert "--shared-dir=/" in rust and "--cache=always" in rust and "--sandbox=chroot" in rust


def test_missing_virtiofsd_is_one_line_naming_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(virtiofs.VIRTIOFSD_ENV, "/nonexistent/virtiofsd")
    with pytest.raises(PrerequisiteError, match=r"^linux-image-7\.1\.13\+deb13-amd64 has no 9p modules .*virtiofsd"):
        virtiofs.require_virtiofsd("linux-image-7.1.13+deb13-amd64")
