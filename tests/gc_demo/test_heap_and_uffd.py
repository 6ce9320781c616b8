"""The heap's objects and compaction, and the userfaultfd ABI written out by hand."""

from __future__ import annotations

import errno
import struct

import pytest

from mremapctl.backends.live import userfaultfd
from mremapctl.gc_demo import uffd
from mremapctl.gc_demo.heap import OBJECT, PAGE, TAG, Marks, compact, expected_page, page_bytes


def test_every_word_says_where_it_was_born() -> None:
    two = page_bytes(3, 2)
    assert len(two) == 2 * PAGE and two[:PAGE] == page_bytes(3) and two[PAGE:] == page_bytes(4)
    words = struct.unpack(f"<{2 * PAGE // 8}Q", two)
    assert words[0] == TAG + 3 * 512 and words[-1] == TAG + 5 * 512 - 1


def test_compaction_slides_live_objects_to_the_start() -> None:
    marks = Marks(64, seed=1)
    for page in range(64):
        live = marks.live_slots(page)
        new = expected_page(page, marks)
        assert len(new) == PAGE and new[len(live) * OBJECT :] == bytes(PAGE - len(live) * OBJECT)
        old = page_bytes(page)
        for i, slot in enumerate(live):
            assert new[i * OBJECT : (i + 1) * OBJECT] == old[slot * OBJECT : (slot + 1) * OBJECT]
    assert compact(page_bytes(0), ()) == bytes(PAGE)


def test_marks_are_seeded_and_about_five_in_eight() -> None:
    assert Marks(8, seed=9).live_slots(5) == Marks(8, seed=9).live_slots(5)
    share = Marks(1024).live_objects() / (1024 * 64)
    assert 0.6 < share < 0.65


def test_ioctl_numbers_match_the_uapi_header() -> None:
    # include/uapi/linux/userfaultfd.h, as a C program prints them on x86_64
    assert uffd.UFFDIO_API == 0xC018AA3F
    assert uffd.UFFDIO_REGISTER == 0xC020AA00
    assert uffd.UFFDIO_COPY == 0xC028AA03
    assert uffd.UFFDIO_CONTINUE == 0xC020AA07
    assert userfaultfd.USERFAULTFD_IOC_NEW == 0xAA00
    assert uffd.IOCTL_BIT == {"copy": 1 << 3, "continue": 1 << 7}


def test_messages_parse_page_faults_only() -> None:
    fault = struct.pack("<B7xQQ8x", uffd.EVENT_PAGEFAULT, uffd.FLAG_MINOR, 0x100000003000)
    remove = struct.pack("<B7xQQ8x", 0x15, 0, 0)
    u = uffd.Userfaultfd(None, -1)  # type: ignore[arg-type]
    assert list(u.faults(fault + remove + fault)) == [uffd.Fault(0x100000003000, uffd.FLAG_MINOR)] * 2


@pytest.mark.parametrize(
    ("syscall_err", "dev_err", "sysctl", "euid", "expected"),
    [
        (
            errno.EPERM,
            errno.EACCES,
            0,
            1000,
            "userfaultfd(2) gave EPERM (vm.unprivileged_userfaultfd = 0 and this process lacks CAP_SYS_PTRACE), "
            "and /dev/userfaultfd is not accessible (EACCES",
        ),
        (errno.EPERM, errno.ENOENT, 0, 1000, "/dev/userfaultfd does not exist (Linux 6.1+)"),
        (errno.EPERM, errno.EACCES, 1, 0, "even as root (a seccomp filter or an LSM forbids it)"),
    ],
)
def test_permission_message_says_what_is_needed(
    syscall_err: int, dev_err: int, sysctl: int, euid: int, expected: str
) -> None:
    message = userfaultfd.permission_message(syscall_err, dev_err, sysctl, euid)
    assert message.startswith("userfaultfd not permitted: ") and expected in message
    assert "run as root (or with CAP_SYS_PTRACE)" in message
    assert "`sysctl -w vm.unprivileged_userfaultfd=1`" in message
    assert "read-write access to /dev/userfaultfd" in message
    assert "\n" not in message
