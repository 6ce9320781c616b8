"""The prerequisite check: one line naming the packages to install."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Optional

import pytest

from mremapctl.backends.vm import prereq
from mremapctl.backends.vm.errors import PrerequisiteError


def which_none_of(*absent: str) -> Callable[[str], Optional[str]]:
    def which(tool: str) -> Optional[str]:
        return None if tool in absent else f"/usr/bin/{tool}"

    return which


def no_busybox() -> Optional[Path]:
    return None


def some_busybox() -> Optional[Path]:
    return Path("/bin/busybox")


def test_all_present_passes() -> None:
    prereq.check_prerequisites(which=which_none_of(), busybox=some_busybox)


def test_missing_qemu_and_busybox_is_one_line_with_install_command() -> None:
    with pytest.raises(PrerequisiteError) as err:
        prereq.check_prerequisites(which=which_none_of("qemu-system-x86_64"), busybox=no_busybox)
    message = str(err.value)
    assert "\n" not in message
    assert "qemu-system-x86_64" in message and "static busybox" in message
    assert message.endswith("apt-get install qemu-system-x86 busybox-static zstd")


def test_missing_xz_adds_xz_utils() -> None:
    with pytest.raises(PrerequisiteError, match=r"apt-get install qemu-system-x86 busybox-static zstd xz-utils$"):
        prereq.check_prerequisites(which=which_none_of("xz"), busybox=some_busybox)


def test_missing_apt_says_a_debian_host_is_needed() -> None:
    with pytest.raises(PrerequisiteError, match="apt-get"):
        prereq.check_prerequisites(("apt-get",), which=which_none_of("apt-get"), busybox=some_busybox)


def test_only_the_requested_tools_are_checked() -> None:
    prereq.check_prerequisites(("apt-get",), which=which_none_of("qemu-system-x86_64"), busybox=no_busybox)


def test_static_elf_detection(tmp_path: Path) -> None:
    assert not prereq.is_static_elf(Path(sys.executable).resolve())  # python is dynamically linked
    fake = tmp_path / "static"
    header = bytearray(64)
    header[:6] = b"\x7fELF\x02\x01"
    header[32:40] = (64).to_bytes(8, "little")  # e_phoff
    header[54:56] = (56).to_bytes(2, "little")  # e_phentsize
    header[56:58] = (1).to_bytes(2, "little")  # e_phnum
    phdr = (1).to_bytes(4, "little") + bytes(52)  # one PT_LOAD, no PT_INTERP
    fake.write_bytes(bytes(header) + phdr)
    assert prereq.is_static_elf(fake)
    (tmp_path / "text").write_text("#!/bin/sh\n")
    assert not prereq.is_static_elf(tmp_path / "text")
