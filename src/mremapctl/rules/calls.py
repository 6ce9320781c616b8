"""What the other memory calls allow, and the VmFlags a kernel gives some kinds of mapping.

mremap's outcome depends on them: a sealed range, a locked one, a guard region, a VmFlag that
decides a merge. Each fact holds for a range of releases, like mremap's own rules; the
simulator asks whether one holds and never compares versions itself.
"""

from __future__ import annotations

from mremapctl.rules.rule import Rule

RULES = (
    Rule(
        id="mseal-missing",
        call="mseal",
        errno="ENOSYS",
        until=(6, 10),
        topics=("mseal",),
        text="there is no mseal() system call",
        change="mseal: add mseal syscall (6.10)",
    ),
    Rule(
        id="sealed-vma-refuses",
        call="munmap, mprotect",
        errno="EPERM",
        since=(6, 10),
        topics=("mseal",),
        text="munmap and mprotect of a sealed range (VmFlags sl) are refused",
        change="mseal: add mseal syscall (6.10)",
    ),
    Rule(
        id="guard-advice-missing",
        call="madvise",
        errno="EINVAL",
        until=(6, 13),
        topics=("guard",),
        text="MADV_GUARD_INSTALL and MADV_GUARD_REMOVE are unknown advice",
        change="mm: madvise: implement lightweight guard page mechanism (6.13)",
    ),
    Rule(
        id="guard-flag-visible",
        call="madvise",
        errno=None,
        since=(6, 18),
        topics=("guard",),
        text="MADV_GUARD_INSTALL marks the VMA VM_MAYBE_GUARD, shown as gu in smaps",
        change="mm: introduce VM_MAYBE_GUARD and make visible in /proc/$pid/smaps (6.19; stable 6.18.37)",
    ),
    Rule(
        id="uffd-wp-mode",
        call="userfaultfd",
        errno=None,
        since=(5, 7),
        topics=("userfaultfd",),
        text="userfaultfd can register a range for write-protect faults (UFFDIO_REGISTER_MODE_WP)",
        change="userfaultfd: wp: add UFFDIO_REGISTER_MODE_WP (5.7)",
    ),
    Rule(
        id="uffd-minor-mode",
        call="userfaultfd",
        errno=None,
        since=(5, 14),
        topics=("userfaultfd",),
        text="userfaultfd can register shared memory for minor faults (UFFDIO_REGISTER_MODE_MINOR)",
        change="userfaultfd/shmem: support minor fault registration for shmem (5.14)",
    ),
    Rule(
        id="secretmem-default-on",
        call="memfd_secret",
        errno=None,
        since=(6, 5),
        topics=("secretmem",),
        text="memfd_secret() arrived in 5.14 and answered ENOSYS unless booted with secretmem.enable=1 until 6.5",
        change="mm/secretmem: make it on by default (6.5); the call exists from 5.14",
    ),
    Rule(
        id="mprotect-unaccounts-unfaulted",
        call="mprotect",
        errno=None,
        since=(6, 3),
        topics=("mprotect",),
        text="mprotect taking write away from an unfaulted private anonymous VMA drops VM_ACCOUNT (ac)",
        change="mm/mprotect: allow unfaulted VMAs to be unaccounted on mprotect()",
    ),
    Rule(
        id="perf-ring-pfnmap",
        call="mmap",
        errno=None,
        since=(6, 16),
        topics=("perf",),
        text="the perf ring buffer is mapped as PFNs: VmFlags pf io, and no longer me",
        change="perf: map pages in advance; anon_inode: no exec (placed at 6.16 until pinned on real kernels)",
    ),
    Rule(
        id="secretmem-locked",
        call="mmap",
        errno=None,
        since=(6, 16),
        topics=("secretmem",),
        text="a secretmem mapping is VM_LOCKED: VmFlags lo",
        change="mm/secretmem (placed at 6.16 until pinned on real kernels)",
    ),
)
