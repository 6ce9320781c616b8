"""The private apt configuration: mirrors from the host's sources, our own lists, no host state."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from mremapctl.backends.vm import apt
from mremapctl.backends.vm.errors import MirrorUnavailable

DEB822 = """Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
"""


@pytest.fixture(autouse=True)
def no_env_mirrors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(apt.MIRROR_ENV, raising=False)
    monkeypatch.delenv(apt.SECURITY_MIRROR_ENV, raising=False)


def test_mirrors_from_deb822(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(DEB822)
    assert apt.host_mirrors(tmp_path) == ("http://mirror.example/debian", "http://mirror.example/debian-security")


def test_mirrors_from_one_line_sources_derive_security(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text(
        "# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://m.example/debian/ bullseye main\n"
        "deb http://other.example/ubuntu jammy main\n"
    )
    assert apt.host_mirrors(tmp_path) == ("http://m.example/debian", "http://m.example/debian-security")


def test_environment_overrides_and_missing_mirror_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(MirrorUnavailable, match=apt.MIRROR_ENV):
        apt.host_mirrors(tmp_path)
    monkeypatch.setenv(apt.MIRROR_ENV, "http://a.example/debian")
    monkeypatch.setenv(apt.SECURITY_MIRROR_ENV, "http://b.example/debian-security")
    assert apt.host_mirrors(tmp_path) == ("http://a.example/debian", "http://b.example/debian-security")


def test_config_adds_all_suites_and_stays_in_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keyring = tmp_path / "keyring.gpg"
    keyring.write_bytes(b"")
    monkeypatch.setattr(apt, "KEYRING", keyring)
    root = tmp_path / "apt"
    apt.PrivateApt(root).write_config(("http://m.example/debian", "http://m.example/debian-security"))
    sources = (root / "sources.list").read_text().splitlines()
    suites = [line.split()[-2] for line in sources]
    assert suites == [
        "bullseye",
        "bullseye-security",
        "bookworm",
        "bookworm-security",
        "bookworm-backports",
        "trixie",
        "trixie-security",
        "trixie-backports",
        "sid",
        "experimental",
    ]
    assert all("arch=amd64" in line and f"signed-by={keyring}" in line for line in sources)
    assert all(" http://m.example/debian-security " in line for line in sources if "-security" in line)
    conf = (root / "apt.conf").read_text()
    for line in conf.splitlines():
        if line.startswith("Dir::"):
            assert str(root) in line, line
    assert (root / "state" / "status").read_text() == ""


def test_stanzas_parse_kernel_records_from_lists(tmp_path: Path) -> None:
    lists = tmp_path / "state" / "lists"
    lists.mkdir(parents=True)
    (lists / "m.example_debian_dists_bookworm_main_binary-amd64_Packages").write_text(
        "Package: bash\nVersion: 5.2\n\n"
        "Package: linux-image-6.1.0-50-amd64\nSource: linux-signed-amd64\nVersion: 6.1.176-1\nSize: 123\n\n"
        "Package: linux-image-amd64\nVersion: 6.1.176-1\n"
    )
    (lists / "m.example_debian-security_dists_bullseye-security_main_binary-amd64_Packages").write_text(
        "Package: linux-image-5.10.0-46-amd64\nVersion: 5.10.262-1\nSize: 57\n"
    )
    found = {(s.package, s.version, s.suite, s.size) for s in apt.PrivateApt(tmp_path).stanzas()}
    assert found == {
        ("linux-image-6.1.0-50-amd64", "6.1.176-1", "bookworm", 123),
        ("linux-image-amd64", "6.1.176-1", "bookworm", 0),
        ("linux-image-5.10.0-46-amd64", "5.10.262-1", "bullseye-security", 57),
    }


def test_fresh_lists_are_not_refreshed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    private = apt.PrivateApt(tmp_path)
    private.lists.mkdir(parents=True)
    (private.lists / "x_dists_bookworm_main_binary-amd64_Packages").write_text("")
    private.stamp.touch()
    calls = []
    monkeypatch.setattr(private, "update", lambda progress=None: calls.append(1))
    private.ensure_lists()
    assert calls == []
    old = time.time() - 2 * apt.MAX_LIST_AGE
    os.utime(private.stamp, (old, old))
    private.ensure_lists()
    assert calls == [1]


def test_recent_failed_update_is_not_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    private = apt.PrivateApt(tmp_path)
    private.lists.mkdir(parents=True)
    (private.lists / "x_dists_bookworm_main_binary-amd64_Packages").write_text("")
    private.stamp.touch()
    old = time.time() - 2 * apt.MAX_LIST_AGE
    os.utime(private.stamp, (old, old))
    private.failed.touch()  # a refresh just failed (offline): use the old lists for now
    calls = []
    monkeypatch.setattr(private, "update", lambda progress=None: calls.append(1))
    private.ensure_lists()
    assert calls == []
    private.ensure_lists(refresh=True)
    assert calls == [1]


def test_stanza_index_is_reused_until_lists_change(tmp_path: Path) -> None:
    private = apt.PrivateApt(tmp_path)
    private.lists.mkdir(parents=True)
    lists = private.lists / "m_debian_dists_trixie_main_binary-amd64_Packages"
    lists.write_text("Package: linux-image-6.12.1+deb13-amd64\nVersion: 6.12.1-1\n")
    first = private.stanzas()
    assert private.index.exists() and private.stanzas() == first
    lists.write_text("Package: linux-image-6.12.2+deb13-amd64\nVersion: 6.12.2-1\n")
    os.utime(lists, ns=(1, 1))  # a different mtime, as after an update
    assert [s.version for s in private.stanzas()] == ["6.12.2-1"]
