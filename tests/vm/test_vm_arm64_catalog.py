"""arm64 kernels from fake package lists in the shapes Debian uses: 4K and 16K flavours, the 7.2 split."""

from __future__ import annotations

import re
from typing import List

import pytest

from mremapctl.backends.vm import arch, catalog, packages
from mremapctl.backends.vm.catalog import Record
from mremapctl.backends.vm.errors import KernelNotFound
from mremapctl.backends.vm.packages import KernelPackage
from mremapctl.errors import BadInput
from mremapctl.platforms import parse_page_size

R = "7.2.13+deb14"
V = "7.2.13-1"
LISTING = [
    # 6.12: one package per kernel, every flavour Debian builds for arm64
    *(
        Record(f"linux-image-6.12.118+deb13-{fl}", "6.12.118-1", "trixie-security", size)
        for fl, size in [("arm64", 93_400_000), ("arm64-16k", 92_600_000), ("cloud-arm64", 50_000_000)]
    ),
    Record("linux-image-6.12.118+deb13-rt-arm64", "6.12.118-1", "trixie-security", 94_000_000),
    Record("linux-image-6.12.118+deb13-arm64-16k-unsigned", "6.12.118-1", "trixie-security", 92_600_000),
    Record("linux-image-6.12.118+deb13-arm64-16k-dbg", "6.12.118-1", "trixie-security", 1_000_000_000),
    Record("linux-image-6.12.117+deb13-arm64", "6.12.117-1", "trixie", 93_300_000),
    # 7.2: the split, with its 2 KB linux-image metapackage, in both page sizes
    *(
        Record(f"linux-{kind}-{R}-{fl}", V, "sid", size)
        for fl in ("arm64", "arm64-16k")
        for kind, size in [("image", 1900), ("binary", 11_900_000), ("base", 4_000_000), ("modules", 93_300_000)]
    ),
    Record("linux-image-arm64-16k", "7.2.13-1", "sid", 1800),  # the unversioned metapackage
    Record(f"linux-image-{R}-amd64", V, "sid", 1900),  # another architecture's name in the same list
]


def kernels() -> List[KernelPackage]:
    return [p for p in catalog.assemble(LISTING) if p.arch == "arm64"]


def test_flavours_give_the_page_size_and_architecture() -> None:
    by_flavour = {p.flavour: p for p in kernels() if p.upstream == "6.12.118"}
    assert set(by_flavour) == {"arm64", "arm64-16k", "cloud-arm64", "rt-arm64"}
    assert by_flavour["arm64-16k"].page_size == 16384 and by_flavour["arm64"].page_size == 4096
    assert {p.arch for p in by_flavour.values()} == {"arm64"}
    assert packages.parse_name("linux-image-6.12.118+deb13-arm64-16k-unsigned") == (
        "6.12.118+deb13-arm64-16k",
        "arm64-16k",
        True,
    )
    assert packages.parse_name("linux-image-6.12.118+deb13-arm64-16k-dbg") is None


def test_split_kernel_is_three_parts_and_the_metapackage_only_names_it() -> None:
    (k,) = [p for p in kernels() if p.release == f"{R}-arm64-16k"]
    assert k.package == f"linux-image-{R}-arm64-16k"  # the name users know
    assert k.parts == (f"linux-binary-{R}-arm64-16k", f"linux-base-{R}-arm64-16k", f"linux-modules-{R}-arm64-16k")
    assert k.downloads == k.parts and k.size == 11_900_000 + 4_000_000 + 93_300_000
    assert (k.page_size, k.needs_virtiofs) == (16384, False)


@pytest.mark.parametrize(
    ("spec", "page_size", "package"),
    [
        ("6.12", None, "linux-image-6.12.118+deb13-arm64"),
        ("6.12", 16384, "linux-image-6.12.118+deb13-arm64-16k"),
        ("6.12.117", 4096, "linux-image-6.12.117+deb13-arm64"),
        ("7.2", 16384, f"linux-image-{R}-arm64-16k"),
        ("7.2", None, f"linux-image-{R}-arm64"),
        (f"{R}-arm64-16k", None, f"linux-image-{R}-arm64-16k"),
        (f"linux-binary-{R}-arm64-16k", None, f"linux-image-{R}-arm64-16k"),
    ],
)
def test_version_and_page_size_pick_the_plain_flavour(spec: str, page_size: int, package: str) -> None:
    flavour = arch.ARM64.flavour(page_size)
    assert packages.resolve(spec, kernels(), flavour).package == package


def test_missing_16k_release_and_foreign_names_say_what_to_do() -> None:
    with pytest.raises(KernelNotFound, match=re.escape("no Debian arm64-16k kernel 6.12.117; for 6.12 Debian has")):
        packages.resolve("6.12.117", kernels(), "arm64-16k")
    with pytest.raises(KernelNotFound, match=r"it names an arm64 kernel: add --arch arm64$"):
        packages.resolve(f"{R}-arm64-16k", [], "amd64")


def test_rows_show_both_page_sizes_of_each_series_and_skip_cloud_and_rt() -> None:
    got = [(p.series, p.flavour, p.upstream) for p in catalog.rows(kernels(), flavours=("arm64", "arm64-16k"))]
    assert got == [
        ("7.2", "arm64", "7.2.13"),
        ("7.2", "arm64-16k", "7.2.13"),
        ("6.12", "arm64", "6.12.118"),
        ("6.12", "arm64-16k", "6.12.118"),
    ]


def test_architecture_and_page_size_options() -> None:
    assert arch.get_arch("aarch64") is arch.ARM64 and arch.get_arch("x86_64") is arch.AMD64
    assert [parse_page_size(t) for t in ("16K", "16k", "16384", "4KiB", None)] == [16384, 16384, 16384, 4096, None]
    with pytest.raises(BadInput, match="Debian's arm64 kernels have 4K and 16K pages only"):
        arch.ARM64.flavour(65536)
    with pytest.raises(BadInput, match="amd64 kernels have 4K pages only"):
        arch.AMD64.flavour(16384)
    for bad in ("16M?", "3K", "0"):
        with pytest.raises(BadInput):
            parse_page_size(bad)
    with pytest.raises(BadInput, match="--arch riscv64: known architectures are amd64"):
        arch.get_arch("riscv64")
