"""Kernels from fake package lists in the name shapes Debian uses from 5.10 to 7.3."""

from __future__ import annotations

import re
from typing import List

import pytest

from mremapctl.backends.vm import catalog, packages
from mremapctl.backends.vm.catalog import Record
from mremapctl.backends.vm.errors import KernelNotFound
from mremapctl.backends.vm.packages import KernelPackage

R = "7.2.12+deb13-amd64"
V = "7.2.12-1~bpo13+1"
LISTING = [
    # one package per kernel, signed and -unsigned names of the same build
    Record("linux-image-5.10.0-46-amd64", "5.10.262-1", "bullseye-security", 57_000_000),
    Record("linux-image-6.1.0-57-amd64", "6.1.192-3", "bookworm-security", 71_000_000),
    Record("linux-image-6.1.0-57-amd64-unsigned", "6.1.192-3", "bookworm-security", 71_000_000),
    Record("linux-image-6.1.0-57-amd64-dbg", "6.1.192-3", "bookworm-security", 900_000_000),
    Record("linux-image-6.1.0-50-amd64", "6.1.176-1", "bookworm", 70_000_000),
    Record("linux-image-6.1.0-50-amd64", "6.1.176-1", "bookworm-security", 70_000_000),  # in two suites
    Record("linux-image-6.18.5+deb13-amd64", "6.18.5-1~bpo13+1", "trixie-backports", 167_000_000),
    Record("linux-image-6.18.15+deb13-amd64", "6.18.15-1~bpo13+1", "trixie-backports", 167_400_000),
    Record("linux-image-6.18.15+deb13-cloud-amd64", "6.18.15-1~bpo13+1", "trixie-backports", 60_000_000),
    # split, with every part published
    Record(f"linux-image-{R}", V, "trixie-backports", 1900),
    Record(f"linux-binary-{R}", V, "trixie-backports", 14_000_000),
    Record(f"linux-base-{R}", V, "trixie-backports", 1_000_000),
    Record(f"linux-modules-{R}", V, "trixie-backports", 159_000_000),
    Record("linux-headers-7.2.12+deb13-amd64", V, "trixie-backports", 1),
    # split, kernel binary only (Debian published no linux-modules or linux-base for it)
    Record("linux-image-7.1.13+deb13-amd64", "7.1.13-1~bpo13+1", "trixie-backports", 1896),
    Record("linux-binary-7.1.13+deb13-amd64", "7.1.13-1~bpo13+1", "trixie-backports", 13_787_416),
    # a release candidate whose ABI has no point release, with an unsigned binary beside it
    Record("linux-image-7.3-amd64", "7.3~rc7-1~exp1", "experimental", 1888),
    Record("linux-binary-7.3-amd64", "7.3~rc7-1~exp1", "experimental", 14_400_000),
    Record("linux-binary-unsigned-7.3-amd64", "7.3~rc7-1~exp1", "experimental", 14_400_000),
    Record("linux-base-7.3-amd64", "7.3~rc7-1~exp1", "experimental", 400_000),
    Record("linux-modules-7.3-amd64", "7.3~rc7-1~exp1", "experimental", 103_000_000),
    Record("linux-image-7.3.4+deb13-amd64", "7.3.4-1~bpo13+1", "trixie-backports", 1900),
    Record("linux-binary-7.3.4+deb13-amd64", "7.3.4-1~bpo13+1", "trixie-backports", 14_100_000),
    Record("linux-base-7.3.4+deb13-amd64", "7.3.4-1~bpo13+1", "trixie-backports", 1_000_000),
    Record("linux-modules-7.3.4+deb13-amd64", "7.3.4-1~bpo13+1", "trixie-backports", 107_000_000),
]


def kernels() -> List[KernelPackage]:
    return catalog.assemble(LISTING)


def by_package(name: str) -> KernelPackage:
    (found,) = [p for p in kernels() if p.package == name]
    return found


def test_split_kernel_is_one_entry_with_its_parts_and_their_total_size() -> None:
    k = by_package(f"linux-image-{R}")
    assert k.parts == (f"linux-binary-{R}", f"linux-base-{R}", f"linux-modules-{R}")
    assert (k.release, k.upstream, k.series, k.size) == (R, "7.2.12", "7.2", 174_000_000)
    assert not k.needs_virtiofs


def test_split_kernel_without_modules_needs_virtiofs() -> None:
    k = by_package("linux-image-7.1.13+deb13-amd64")
    assert k.downloads == ("linux-binary-7.1.13+deb13-amd64",) and k.needs_virtiofs


def test_signed_binary_is_chosen_and_rc_is_named_as_such() -> None:
    k = by_package("linux-image-7.3-amd64")
    assert k.parts[0] == "linux-binary-7.3-amd64" and not k.unsigned
    assert (k.upstream, k.series, k.release) == ("7.3-rc7", "7.3", "7.3-amd64")


def test_one_package_kernels_stay_as_before_and_unknown_names_are_ignored() -> None:
    names = {p.package for p in kernels()}
    assert "linux-image-6.1.0-57-amd64-unsigned" in names and "linux-image-6.1.0-57-amd64" in names
    assert not any(n.endswith("-dbg") or "headers" in n for n in names)
    assert sum(1 for p in kernels() if p.package == "linux-image-6.1.0-50-amd64") == 1
    assert by_package("linux-image-6.1.0-57-amd64").parts == ()


def test_rows_are_the_newest_plain_kernel_of_each_series() -> None:
    got = [(p.series, p.upstream, p.package) for p in catalog.rows(kernels())]
    assert got == [
        ("7.3", "7.3.4", "linux-image-7.3.4+deb13-amd64"),
        ("7.2", "7.2.12", f"linux-image-{R}"),
        ("7.1", "7.1.13", "linux-image-7.1.13+deb13-amd64"),
        ("6.18", "6.18.15", "linux-image-6.18.15+deb13-amd64"),
        ("6.1", "6.1.192", "linux-image-6.1.0-57-amd64"),
        ("5.10", "5.10.262", "linux-image-5.10.0-46-amd64"),
    ]


def test_all_rows_are_one_per_release_signed_name_first() -> None:
    every = catalog.rows(kernels(), every=True)
    releases = [p.release for p in every]
    assert len(releases) == len(set(releases)) == 10
    assert "linux-image-6.1.0-57-amd64" in {p.package for p in every}
    assert not any(p.unsigned for p in every)
    assert [p.upstream for p in every][:2] == ["7.3.4", "7.3-rc7"]


def test_notes_say_how_a_kernel_boots() -> None:
    assert catalog.note(by_package("linux-image-7.1.13+deb13-amd64"), virtiofs_ok=True) == "virtiofs"
    assert catalog.note(by_package("linux-image-7.1.13+deb13-amd64"), virtiofs_ok=False) == "needs virtiofsd"
    assert catalog.note(by_package("linux-image-6.18.15+deb13-cloud-amd64")).startswith("no 9p")
    assert catalog.note(by_package("linux-image-7.3-amd64")) == "rc"
    assert catalog.note(by_package(f"linux-image-{R}")) == ""


@pytest.mark.parametrize(
    ("spec", "package"),
    [
        ("6.1", "linux-image-6.1.0-57-amd64"),
        ("linux-image-6.1.0-57-amd64", "linux-image-6.1.0-57-amd64"),
        ("6.18", "linux-image-6.18.15+deb13-amd64"),
        ("6.18.5", "linux-image-6.18.5+deb13-amd64"),
        ("7.2", f"linux-image-{R}"),
        ("7.3", "linux-image-7.3.4+deb13-amd64"),  # the release beats the release candidate
        (R, f"linux-image-{R}"),
        (f"linux-binary-{R}", f"linux-image-{R}"),
        ("7.3-amd64", "linux-image-7.3-amd64"),
    ],
)
def test_resolve_new_shapes(spec: str, package: str) -> None:
    assert packages.resolve(spec, kernels()).package == package


def test_missing_point_release_lists_the_series() -> None:
    with pytest.raises(
        KernelNotFound, match=re.escape("no Debian amd64 kernel 6.18.7; for 6.18 Debian has 6.18.5, 6.18.15")
    ):
        packages.resolve("6.18.7", kernels())
    with pytest.raises(KernelNotFound, match=re.escape("available: 5.10, 6.1, 6.18, 7.1, 7.2, 7.3")):
        packages.resolve("6.16", kernels())
