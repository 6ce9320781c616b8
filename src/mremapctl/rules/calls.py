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
        id="mseal-merge-skipped",
        call="mseal",
        errno=None,
        since=(6, 17),
        until=(7, 0),
        until_backports=((6, 19, 11), (6, 18, 21)),
        topics=("mseal",),
        text="sealing a range whose piece merges into the sealed VMA after it leaves the next piece unmerged with "
        "what precedes it: one VMA boundary too many",
        change="the 6.17 mseal rework; fixed by 'mm/mseal: update VMA end correctly on merge' (7.0; seen: 6.17.13, "
        "6.18.15, 6.19.6-6.19.10 split, 6.19.11, 7.0.13 and 6.18.44 whole; 6.18.21 from the report, unconfirmed)",
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
        since=(6, 19),
        backports=((6, 18, 37),),
        topics=("guard",),
        text="MADV_GUARD_INSTALL marks each VMA it touches, whole, VM_MAYBE_GUARD: gu in smaps",
        change="mm: introduce VM_MAYBE_GUARD and make visible in /proc/$pid/smaps (6.19; source read in 6.19.6; "
        "in 6.18.y after 6.18.15 and by 6.18.44, placed at 6.18.37 as reported)",
    ),
    Rule(
        id="sticky-flags",
        call="mmap, mprotect, madvise, mremap",
        errno=None,
        since=(6, 19),
        backports=((6, 18, 37),),
        topics=("guard", "merge"),
        text="VMAs that differ only in gu or sd still merge, and the merged VMA carries both (sticky flags)",
        change="mm: implement sticky VMA flags (6.19; source read in 6.19.6; seen on 6.18.44)",
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
        since=(6, 7),
        topics=("mprotect",),
        text="mprotect taking write away from an unfaulted private anonymous VMA drops VM_ACCOUNT (ac)",
        change="mm/mprotect: allow unfaulted VMAs to be unaccounted on mprotect() (6.7; source: not in 6.1.192, "
        "in 6.12.117)",
    ),
    Rule(
        id="perf-ring-pfnmap",
        call="mmap",
        errno=None,
        since=(6, 14),
        topics=("perf",),
        text="the perf ring buffer is mapped in advance, as PFNs: VmFlags pf io",
        change="perf/core: map pages in advance (6.14; source; seen: 6.12.118 without, 6.16.12 with)",
    ),
    Rule(
        id="anon-inode-no-exec",
        call="mmap",
        errno=None,
        since=(6, 16),
        backports=((6, 15, 4),),
        topics=("perf",),
        text="anonymous-inode files (the perf ring buffer) may not be mapped executable: VmFlags lose me",
        change="anon_inode: explicitly block ->mmap() executable mappings (6.16; stable 6.15.4; seen: 6.12.118 me, "
        "6.16.12 none)",
    ),
    Rule(
        id="secretmem-locked",
        call="mmap",
        errno=None,
        since=(5, 14),
        until=(7, 2),
        until_backports=((6, 12, 113), (6, 1, 191)),
        topics=("secretmem",),
        text="a secretmem mapping is VM_LOCKED: VmFlags lo",
        change="mm: introduce memfd_secret system call (5.14); ended by 'mm/secretmem: properly account locked "
        "pages' (7.2; stable 6.12.113, 6.1.191; seen: lo on 6.16.12-7.1.13, none on 6.12.118 and 7.2.13)",
    ),
    Rule(
        id="arm64-vdso-grew",
        call="execve",
        errno=None,
        since=(6, 12),
        topics=("vdso", "arm64"),
        text="on arm64 the vDSO's code is more than 4 KiB: two pages with 4K pages (one with 16K); x86-64's always was",
        change="seen on Debian's arm64 kernels: one 4K page on 5.10.262 and 6.1.192, two on 6.12.118 "
        "and later (placed at 6.12, the first seen; no release between was booted)",
    ),
    Rule(
        id="aio-ring-dontcopy",
        call="io_setup",
        errno=None,
        since=(7, 1),
        topics=("aio",),
        text="the aio ring is not copied into a fork child: VmFlags dc",
        change="seen on Debian's 7.1.13, 7.2.13 and 7.3.4, not on 7.0.13 (the commit is not yet identified)",
    ),
)
