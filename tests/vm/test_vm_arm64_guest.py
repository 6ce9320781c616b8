"""What an arm64 guest boots (no qemu, no network): the command line, the initramfs with its own
userland and the tool's zipapp, the trimmed userland, and the .pyc the guest's Python reads."""

from __future__ import annotations

import importlib.util
import marshal
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import List

import pytest

from mremapctl.backends.vm import cpio, initramfs, pyz, qemu, userland
from mremapctl.backends.vm.apt import Stanza
from mremapctl.backends.vm.errors import FetchFailed, VMError
from mremapctl.backends.vm.kernels import Kernel
from mremapctl.backends.vm.userland import Userland

R = "7.2.13+deb14-arm64-16k"


def kernel(folder: Path, transport: str = "9p") -> Kernel:
    (folder / "modules").mkdir(parents=True, exist_ok=True)
    (folder / "config").write_text("CONFIG_VIRTIO_PCI=y\nCONFIG_NET_9P=y\nCONFIG_NET_9P_VIRTIO=y\nCONFIG_9P_FS=y\n")
    return Kernel(f"linux-image-{R}", "7.2.13-1", "7.2.13", R, folder, transport, "arm64", 16384)


def test_command_line_is_aarch64_virt_with_the_run_folder_only(tmp_path: Path) -> None:
    cmd = qemu.qemu_command(kernel(tmp_path), tmp_path / "i.cpio", tmp_path / "run")
    joined = " ".join(cmd)
    assert cmd[0] == "qemu-system-aarch64" and "-accel tcg -M virt -cpu max,pauth=off" in joined
    assert f"-kernel {tmp_path / 'vmlinuz'}" in joined  # the Image itself: no PVH vmlinux
    assert "console=ttyAMA0" in joined and "edd=off" not in joined and "rdinit=/init" in joined
    assert f"path={tmp_path / 'run'},security_model=none" in joined
    assert "hostroot" not in joined and "path=/," not in joined  # nothing of the host but the run folder


def test_virtiofs_serves_only_the_run_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: List[object] = []
    monkeypatch.setattr(qemu.virtiofs, "serving", lambda package, shares, run_dir: seen.append(shares))
    qemu._shares(kernel(tmp_path, "virtiofs"), tmp_path / "run")
    assert seen == [[("vmrun", str(tmp_path / "run"), "never", True)]]


def fake_userland(root: Path) -> Userland:
    for folder in ("usr/bin", "usr/lib/python3.13", "usr/lib/modules", "proc", "sys", "dev", "share"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "usr/bin/busybox").write_bytes(b"\x7fELF busybox")
    (root / "usr/bin/python3.13").write_bytes(b"\x7fELF python")
    (root / "usr/bin/python3").symlink_to("python3.13")
    (root / "bin").symlink_to("usr/bin")
    (root / "lib").symlink_to("usr/lib")
    (root / "usr/lib/python3.13/os.py").write_text("# os\n")
    (root / userland.DONE).touch()
    return Userland(root, {"python3.13-minimal": "3.13.5-2+deb13u5"})


def test_initramfs_holds_the_userland_the_zipapp_and_an_init_without_host_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ul = fake_userland(tmp_path / "userland" / "abc")
    app = tmp_path / "mremapctl-abc-1-pyc.pyz"
    app.write_bytes(b"PK zipapp")
    monkeypatch.setattr(userland, "prepare", lambda cache, progress=None: ul)
    monkeypatch.setattr(pyz, "guest_zipapp", lambda ul, cache, progress=None: app)
    k = kernel(tmp_path / "k")
    path, got = initramfs.userland_initramfs(k, tmp_path)
    assert got is ul
    entries = {e.name: e for e in cpio.read_newc(path.read_bytes())}
    assert entries["opt/mremapctl.pyz"].data == b"PK zipapp"
    assert entries["usr/bin/python3"].data == b"python3.13" and entries["bin"].data == b"usr/bin"
    assert entries["usr/lib/python3.13/os.py"].data == b"# os\n" and "dev/console" in entries
    assert userland.DONE not in entries and "versions.json" not in entries
    init = entries["init"].data.decode()
    assert "mountshare vmrun /share rw" in init and "hostroot" not in init and "/share/guest.sh" in init
    again, _ = initramfs.userland_initramfs(k, tmp_path)
    assert again == path and again.stat().st_mtime_ns == path.stat().st_mtime_ns  # cached, not rebuilt
    app2 = tmp_path / "mremapctl-abc-2-pyc.pyz"  # the source changed: a new zipapp, a new initramfs
    app2.write_bytes(b"PK zipapp 2")
    monkeypatch.setattr(pyz, "guest_zipapp", lambda ul, cache, progress=None: app2)
    newer, _ = initramfs.userland_initramfs(k, tmp_path)
    assert newer != path and not path.exists()


class FakeApt:
    def __init__(self, stanzas: List[Stanza]) -> None:
        self.records = stanzas

    def stanzas(self, prefixes: object) -> List[Stanza]:
        return self.records


def test_userland_versions_come_from_trixie_and_its_security_updates() -> None:
    records = [Stanza(p, "1.0-1", "trixie", 1) for p in userland.PACKAGES]
    records += [
        Stanza("libc6", "2.41-12+deb13u5", "trixie-security", 1),
        Stanza("libc6", "2.42-1", "sid", 1),  # unstable's is newer, but not the stable userland
        Stanza("libc6-dev", "9.9-1", "trixie", 1),
    ]
    got = userland.pick_versions(FakeApt(records))  # type: ignore[arg-type]
    assert got["libc6"] == "2.41-12+deb13u5" and got["python3.13-minimal"] == "1.0-1"
    with pytest.raises(FetchFailed, match="needs busybox-static, not in Debian's trixie/trixie-security lists"):
        userland.pick_versions(FakeApt([r for r in records if r.package != "busybox-static"]))  # type: ignore[arg-type]


def test_trim_keeps_what_python_and_ctypes_need(tmp_path: Path) -> None:
    libs = tmp_path / "usr/lib/aarch64-linux-gnu"
    std = tmp_path / "usr/lib/python3.13"
    for path in [
        libs / "libc.so.6",
        libs / "libffi.so.8",
        libs / "libz.so.1.3.1",
        libs / "libssl.so.3",
        libs / "gconv/UTF-16.so",
        std / "json/__init__.py",
        std / "test/test_os.py",
        std / "lib-dynload/_ctypes.cpython-313-aarch64-linux-gnu.so",
        std / "lib-dynload/_ssl.cpython-313-aarch64-linux-gnu.so",
        std / "__pycache__/os.cpython-313.pyc",
        tmp_path / "usr/share/doc/libc6/copyright",
    ]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    (tmp_path / "usr/bin").mkdir()
    userland._layout(tmp_path)
    userland._trim(tmp_path)
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert left == [
        "etc/group",
        "etc/passwd",
        "usr/lib/aarch64-linux-gnu/libc.so.6",
        "usr/lib/aarch64-linux-gnu/libffi.so.8",
        "usr/lib/aarch64-linux-gnu/libz.so.1.3.1",
        "usr/lib/python3.13/json/__init__.py",
        "usr/lib/python3.13/lib-dynload/_ctypes.cpython-313-aarch64-linux-gnu.so",
    ]
    assert (tmp_path / "usr/bin/python3").readlink() == Path("python3.13") and (tmp_path / "lib").is_symlink()


def test_zipapp_is_reused_until_the_source_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built: List[str] = []

    def build(ul: Userland, folder: Path, out: Path, progress: object) -> Path:
        built.append(out.name)
        folder.mkdir(parents=True, exist_ok=True)
        out.write_bytes(b"PK")
        return out

    ul = Userland(tmp_path / "u" / "key1", {})
    monkeypatch.setattr(pyz, "_build", build)
    monkeypatch.setattr(pyz, "qemu_user", lambda: "/usr/bin/qemu-aarch64")
    monkeypatch.setattr(pyz, "source_digest", lambda: "d1")
    first = pyz.guest_zipapp(ul, tmp_path)
    assert first.name == "mremapctl-key1-d1-pyc.pyz" and pyz.guest_zipapp(ul, tmp_path) == first
    monkeypatch.setattr(pyz, "source_digest", lambda: "d2")
    monkeypatch.setattr(pyz, "qemu_user", lambda: None)  # no qemu-user: a zipapp without .pyc
    assert pyz.guest_zipapp(ul, tmp_path).name == "mremapctl-key1-d2.pyz"
    assert built == ["mremapctl-key1-d1-pyc.pyz", "mremapctl-key1-d2.pyz"]


def test_source_digest_covers_the_package_and_the_build_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "src" / "mremapctl" / "__pycache__").mkdir(parents=True)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "build_pyz.py").write_text("build")
    (tmp_path / "src" / "mremapctl" / "a.py").write_text("A = 1\n")
    monkeypatch.setattr(pyz, "package_dir", lambda: tmp_path / "src" / "mremapctl")
    before = pyz.source_digest()
    (tmp_path / "src" / "mremapctl" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"cache")
    assert pyz.source_digest() == before
    (tmp_path / "scripts" / "build_pyz.py").write_text("build differently")
    changed = pyz.source_digest()
    (tmp_path / "src" / "mremapctl" / "a.py").write_text("A = 2\n")
    assert len({before, changed, pyz.source_digest()}) == 3


def test_guest_compile_writes_unchecked_pyc_that_zipimport_uses(tmp_path: Path) -> None:
    """guest_compile.py under this Python on a small app: what importing it compiles becomes NAME.pyc
    beside NAME.py, naming the guest's path; __main__ is compiled, not run; zipimport prefers the pyc."""
    pkg = tmp_path / "app" / "mremapctl"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "mod.py").write_text("WHERE = 'compiled'\n")
    (pkg / "_abi.py").write_text("import _cffi_backend_not_here\n")
    (pkg / "__main__.py").write_text("raise SystemExit(3)\n")
    (tmp_path / "app" / "__main__.py").write_text("raise SystemExit(4)\n")
    script = Path(pyz.__file__).with_name("guest_compile.py")
    sysroot = tmp_path / "sysroot"
    sysroot.mkdir()
    cmd = [sys.executable, "-I", "-B", str(script), str(tmp_path / "app"), str(sysroot), "/opt/m.pyz"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    assert "not importable: ['mremapctl._abi']" in out
    pyc = (pkg / "sub" / "mod.pyc").read_bytes()
    assert pyc[:4] == importlib.util.MAGIC_NUMBER and int.from_bytes(pyc[4:8], "little") == 0b01
    assert marshal.loads(pyc[16:]).co_filename == "/opt/m.pyz/mremapctl/sub/mod.py"
    assert (tmp_path / "app" / "__main__.pyc").exists() and not (pkg / "__pycache__").exists()
    (pkg / "sub" / "mod.py").write_text("WHERE = 'source'\n")  # zipimport must not look at the source
    with zipfile.ZipFile(tmp_path / "m.zip", "w") as z:
        for path in (tmp_path / "app").rglob("*.py*"):
            z.write(path, path.relative_to(tmp_path / "app"))
    probe = "import sys; sys.path.insert(0, sys.argv[1]); import mremapctl.sub.mod as m; print(m.WHERE)"
    read = subprocess.run([sys.executable, "-I", "-c", probe, str(tmp_path / "m.zip")], capture_output=True, text=True)
    assert read.stdout.strip() == "compiled", read.stderr


def test_guests_refuse_what_they_cannot_see_before_booting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An arm64 guest has no host folders; an amd64 guest runs this machine's programs, so needs an x86 host."""
    monkeypatch.setattr(qemu, "check_arch", lambda arch: None)
    booted: List[object] = []
    monkeypatch.setattr(qemu, "_boot", lambda *args: booted.append(args))
    with pytest.raises(ValueError, match="sees no host folders"):
        qemu.run_in_kernel(kernel(tmp_path / "k"), ["true"], cwd=tmp_path)
    with pytest.raises(ValueError, match="plain names in the run folder"):
        qemu.run_in_kernel(kernel(tmp_path / "k"), ["true"], inputs={"../x": b""})
    amd64 = Kernel("linux-image-6.1.0-50-amd64", "6.1.176-1", "6.1.176", "6.1.0-50-amd64", tmp_path)
    monkeypatch.setattr(qemu, "host_arch", lambda: "arm64")
    with pytest.raises(VMError, match="an amd64 guest runs this machine's programs, and it is arm64"):
        qemu.run_in_kernel(amd64, ["true"], cwd=tmp_path)
    assert booted == []
