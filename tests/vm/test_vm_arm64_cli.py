"""--arch and --page-size on the command line: one-line refusals, and `vm list --arch arm64` from fake lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import invoke


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["try", "--anon", "--backend", "live", "--arch", "arm64"], "--backend live runs on this machine"),
        (["run", "gc-heap-flip", "--backend", "sim", "--arch", "amd64", "--page-size", "16K"], "amd64 kernels have 4K"),
        (["matrix", "--backend", "sim", "--kernel", "6.1", "--arch", "arm64"], "which is not among them"),
        (["survey", "--arch", "arm64"], "--backend live runs on this machine"),
        (["vm", "fetch", "--arch", "sparc", "7.2"], "--arch sparc: known architectures are amd64 (x86_64) and arm64"),
        (["vm", "fetch", "--arch", "arm64", "--page-size", "64K", "7.2"], "arm64 kernels have 4K and 16K pages only"),
        (["vm", "fetch", "--page-size", "16K", "--arch", "amd64", "6.1"], "amd64 kernels have 4K pages only"),
        (["try", "--anon", "--backend", "vm", "--kernel", "7.2", "--page-size", "12K"], "a power of two"),
    ],
)
def test_bad_guest_choices_are_one_line_exit_2(
    args: list, said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MREMAPCTL_VM_CACHE", str(tmp_path / "cache"))
    result = invoke(args)
    assert not (tmp_path / "cache").exists()  # refused before any list or download
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mremapctl: error: ") and said in lines[0], lines


def test_vm_list_arm64_shows_both_page_sizes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lists = tmp_path / "apt-arm64" / "state" / "lists"
    lists.mkdir(parents=True)
    (lists / "m_debian_dists_trixie-security_main_binary-arm64_Packages").write_text(
        "".join(
            f"Package: linux-image-6.12.118+deb13-{fl}\nVersion: 6.12.118-1\nSize: 93000000\n\n"
            for fl in ("arm64", "arm64-16k", "cloud-arm64")
        )
    )
    (tmp_path / "apt-arm64" / "state" / "updated").touch()
    monkeypatch.setenv("MREMAPCTL_VM_CACHE", str(tmp_path))
    result = invoke(["vm", "list", "--arch", "arm64", "--json"])
    assert result.exit_code == 0, result.stderr
    rows = [(r["package"], r["arch"], r["page_size"], r["transport"]) for r in json.loads(result.stdout)["items"]]
    assert rows == [
        ("linux-image-6.12.118+deb13-arm64", "arm64", 4096, "9p"),
        ("linux-image-6.12.118+deb13-arm64-16k", "arm64", 16384, "9p"),
    ]
    table = invoke(["vm", "list", "--arch", "aarch64"]).stdout
    assert "linux-image-6.12.118+deb13-arm64 " in table and "linux-image-6.12.118+deb13-arm64-16k " in table
    assert "cloud" not in table
    assert "16 KiB  linux-image-6.12.118+deb13-arm64-16k " in table  # the page size has its column
    for width in ("60", "80"):  # too narrow for the table: two lines a kernel, every name whole
        narrow = invoke(["vm", "list", "--arch", "arm64"], env={"COLUMNS": width, "NO_COLOR": "1"}).stdout
        assert "…" not in narrow and "\n  linux-image-6.12.118+deb13-arm64-16k\n" in narrow
        assert "6.12.118 arm64 16 KiB · trixie-security · 93 MB" in narrow
        assert max(len(line) for line in narrow.splitlines()) <= int(width)
    assert not (tmp_path / "apt").exists()  # the amd64 lists were not touched
