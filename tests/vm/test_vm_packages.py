"""Resolving a kernel spec against a fake Debian package list."""

from __future__ import annotations

import re
from typing import List, Optional

import pytest

from mremapctl.backends.vm import packages
from mremapctl.backends.vm.errors import KernelNotFound, UnsupportedKernel
from mremapctl.backends.vm.packages import KernelPackage

LISTING = [
    ("linux-image-5.10.0-30-amd64", "5.10.218-1", "bullseye"),
    ("linux-image-5.10.0-32-amd64", "5.10.223-1", "bullseye"),
    ("linux-image-5.10.0-46-amd64", "5.10.262-1", "bullseye-security"),
    ("linux-image-5.10.0-46-cloud-amd64", "5.10.262-1", "bullseye-security"),
    ("linux-image-5.10.0-46-rt-amd64", "5.10.262-1", "bullseye-security"),
    ("linux-image-5.10.0-46-amd64-dbg", "5.10.262-1", "bullseye-security"),
    ("linux-image-5.10.0-45-amd64", "5.10.259-1", "bullseye-security"),
    ("linux-image-6.1.0-0.deb11.52-amd64", "6.1.180-1~deb11u1", "bullseye-security"),
    ("linux-image-6.1.0-50-amd64", "6.1.176-1", "bookworm"),
    ("linux-image-6.1.0-53-amd64", "6.1.187-1", "bookworm-security"),
    ("linux-image-6.1.0-53-amd64-unsigned", "6.1.187-1", "bookworm-security"),
    ("linux-image-6.12.43+bpo-amd64", "6.12.43-1~bpo12+1", "bookworm-backports"),
    ("linux-image-6.12.117+deb13-amd64", "6.12.117-1", "trixie"),
    ("linux-image-amd64", "6.12.117-1", "trixie"),
]


def fake(cached: Optional[str] = None) -> List[KernelPackage]:
    out = []
    for name, version, suite in LISTING:
        pkg = packages.make_package(name, version, suite, cached=(name == cached))
        if pkg is not None:
            out.append(pkg)
    return out


def test_meta_and_debug_packages_are_ignored() -> None:
    names = {p.package for p in fake()}
    assert "linux-image-amd64" not in names
    assert not any(n.endswith("-dbg") for n in names)


@pytest.mark.parametrize(
    ("spec", "package"),
    [
        ("5.10", "linux-image-5.10.0-46-amd64"),
        ("6.1", "linux-image-6.1.0-53-amd64"),
        ("6.12", "linux-image-6.12.117+deb13-amd64"),
        ("5.10.223", "linux-image-5.10.0-32-amd64"),
        ("5.10.0-45-amd64", "linux-image-5.10.0-45-amd64"),
        ("linux-image-6.1.0-50-amd64", "linux-image-6.1.0-50-amd64"),
        ("6.1.0-53-amd64-unsigned", "linux-image-6.1.0-53-amd64-unsigned"),
        ("5.10.0-46-rt-amd64", "linux-image-5.10.0-46-rt-amd64"),
    ],
)
def test_resolve(spec: str, package: str) -> None:
    assert packages.resolve(spec, fake()).package == package


def test_resolve_reports_upstream_and_release() -> None:
    pkg = packages.resolve("5.10", fake())
    assert (pkg.upstream, pkg.release, pkg.flavour, pkg.suite) == (
        "5.10.262",
        "5.10.0-46-amd64",
        "amd64",
        "bullseye-security",
    )


def test_signed_name_preferred_unless_unsigned_is_cached() -> None:
    assert not packages.resolve("6.1", fake()).unsigned
    assert packages.resolve("6.1", fake(cached="linux-image-6.1.0-53-amd64-unsigned")).unsigned


def test_cloud_flavour_is_refused_with_reason() -> None:
    with pytest.raises(UnsupportedKernel, match=r"no 9p.*use linux-image-5\.10\.0-46-amd64"):
        packages.resolve("5.10.0-46-cloud-amd64", fake())


def test_unknown_version_lists_what_exists() -> None:
    with pytest.raises(KernelNotFound, match=re.escape("available: 5.10, 6.1, 6.12")):
        packages.resolve("4.19", fake())
    with pytest.raises(KernelNotFound):
        packages.resolve("linux-image-9.9.9-amd64", fake())


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("6.1.176-1", "6.1.176-1~deb11u1"),
        ("5.10.262-1", "5.10.223-1"),
        ("1:1.0-1", "2.0-1"),
        ("6.12.43-1", "6.12.43-1~bpo12+1"),
        ("1.0a", "1.0"),
        ("1.0", "1.0~rc1"),
        ("1.10", "1.9"),
    ],
)
def test_compare_versions(a: str, b: str) -> None:
    assert packages.compare_versions(a, b) > 0
    assert packages.compare_versions(b, a) < 0
    assert packages.compare_versions(a, a) == 0


def test_newest_first_orders_by_debian_version() -> None:
    ordered = packages.newest_first([p for p in fake() if p.upstream.startswith("5.10") and p.flavour == "amd64"])
    assert [p.upstream for p in ordered] == ["5.10.262", "5.10.259", "5.10.223", "5.10.218"]
