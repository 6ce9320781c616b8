"""Listing, resolving and cleaning against a fake cache (no network, no apt)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Tuple

import pytest

from mremapctl.backends.vm import cache as vmcache
from mremapctl.backends.vm import kernels
from mremapctl.backends.vm.errors import FetchFailed, MirrorUnavailable, UnsupportedKernel


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache with fresh lists for 5.10 and 6.1 and one cached kernel."""
    monkeypatch.setattr(kernels, "check_prerequisites", lambda tools=(): None)
    lists = tmp_path / "apt" / "state" / "lists"
    lists.mkdir(parents=True)
    (lists / "m_debian_dists_bullseye_main_binary-amd64_Packages").write_text(
        "Package: linux-image-5.10.0-32-amd64\nVersion: 5.10.223-1\n\n"
        "Package: linux-image-5.10.0-32-cloud-amd64\nVersion: 5.10.223-1\n"
    )
    (lists / "m_debian_dists_bookworm_main_binary-amd64_Packages").write_text(
        "Package: linux-image-6.1.0-50-amd64\nVersion: 6.1.176-1\n"
    )
    (tmp_path / "apt" / "state" / "updated").touch()
    k = tmp_path / "kernels" / "linux-image-6.1.0-50-amd64_6.1.176-1"
    k.mkdir(parents=True)
    (k / "kernel.json").write_text(
        json.dumps(
            {
                "package": "linux-image-6.1.0-50-amd64",
                "version": "6.1.176-1",
                "upstream": "6.1.176",
                "release": "6.1.0-50-amd64",
            }
        )
    )
    return tmp_path


def test_available_marks_cached(root: Path) -> None:
    got = [(p.package, p.upstream, p.cached) for p in kernels.available(cache=root)]
    assert got == [
        ("linux-image-6.1.0-50-amd64", "6.1.176", True),
        ("linux-image-5.10.0-32-cloud-amd64", "5.10.223", False),
        ("linux-image-5.10.0-32-amd64", "5.10.223", False),
    ]


def test_resolve_and_cached_fast_path(root: Path) -> None:
    assert kernels.resolve("5.10", cache=root).package == "linux-image-5.10.0-32-amd64"
    (root / "apt").rename(root / "apt-gone")  # no lists at all: an exact cached release still resolves
    assert kernels.resolve("6.1.0-50-amd64", cache=root).cached


def test_cached_kernel_paths(root: Path) -> None:
    (k,) = kernels.cached_kernels(root)
    assert k.release == "6.1.0-50-amd64"
    assert k.boot_image == k.vmlinuz  # no vmlinux extracted: boot the bzImage
    (k.directory / "vmlinux").write_bytes(b"\x7fELF")
    assert k.boot_image == k.directory / "vmlinux"
    assert kernels.fetch(kernels.resolve("6.1", cache=root), cache=root) == k  # cached: no download


def test_config_without_9p_is_refused() -> None:
    with pytest.raises(UnsupportedKernel, match="9p networking"):
        kernels.check_config("CONFIG_VIRTIO_PCI=y\n# CONFIG_NET_9P is not set\n", "linux-image-x-cloud-amd64")
    kernels.check_config("CONFIG_VIRTIO_PCI=y\nCONFIG_NET_9P=m\nCONFIG_NET_9P_VIRTIO=m\nCONFIG_9P_FS=m\n", "x")


def test_clean_removes_everything(root: Path) -> None:
    assert kernels.clean(root) > 0
    assert not root.exists()
    assert kernels.clean(root) == 0


def test_cache_dir_precedence() -> None:
    assert vmcache.cache_dir({"MREMAPCTL_VM_CACHE": "/c", "XDG_CACHE_HOME": "/x"}) == Path("/c")
    assert vmcache.cache_dir({"XDG_CACHE_HOME": "/x", "HOME": "/h"}) == Path("/x/mremapctl/vm")
    assert vmcache.cache_dir({"HOME": "/h"}) == Path("/h/.cache/mremapctl/vm")


def test_offline_falls_back_to_a_cached_kernel(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lists = root / "apt" / "state" / "lists" / "m_debian_dists_bookworm_main_binary-amd64_Packages"
    lists.write_text("Package: linux-image-6.1.0-53-amd64\nVersion: 6.1.187-1\n")  # newer than the cached one

    def no_mirror(*args: object, **kwargs: object) -> None:
        raise MirrorUnavailable("cannot reach the Debian mirrors")

    monkeypatch.setattr(kernels.PrivateApt, "download_all", no_mirror)
    monkeypatch.setattr(kernels.PrivateApt, "update", no_mirror)
    assert kernels.get("6.1", cache=root).package == "linux-image-6.1.0-50-amd64"
    with pytest.raises(MirrorUnavailable):
        kernels.get("5.10", cache=root)


def test_a_package_that_cannot_be_unpacked_is_one_error_and_leaves_nothing(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def damaged_download(
        self: object, wanted: List[Tuple[str, str]], dest: Path, progress: object = None
    ) -> List[Path]:
        dest.mkdir(parents=True, exist_ok=True)
        ((package, version),) = wanted
        deb = dest / f"{package}_{version}_amd64.deb"
        deb.write_bytes(b"!<arch>\n" + b"data.tar.xz/    0           0     0     100644  40        `\n" + bytes(40))
        return [deb]

    monkeypatch.setattr(kernels.PrivateApt, "ensure_lists", lambda self, refresh=None, progress=None: None)
    monkeypatch.setattr(kernels.PrivateApt, "download_all", damaged_download)
    with pytest.raises(FetchFailed, match=r"^linux-image-5\.10\.0-32-amd64 5\.10\.223-1: unpacking .* failed: xz "):
        kernels.fetch("5.10", cache=root)
    assert [p.name for p in (root / "kernels").iterdir()] == ["linux-image-6.1.0-50-amd64_6.1.176-1"]
    assert list((root / "debs").iterdir()) == []
