"""C helpers that create each kind of mapping, mirroring ``backends/live/makers.py``.

Every maker returns the address (or -1 with errno set, which the step reports), or stops
the program with the tool's own message where the tool would stop: exit 1 when the kind
is unavailable here, exit 2 for a bad path.
"""

from __future__ import annotations

from mremapctl.render.cprog import (
    c_core,  # noqa: F401  (registered first: helpers here use its helpers)
    c_memory,  # noqa: F401  (registered first: helpers here use its helpers)
)
from mremapctl.render.cprog.registry import helper

helper(
    "map_at",
    """
/* mmap at exactly addr (makers.py's mmap): a kernel before 4.17 treats
 * MAP_FIXED_NOREPLACE as a hint and may map elsewhere, which counts as EEXIST. */
static long map_at(unsigned long addr, unsigned long len, unsigned long prot, unsigned long flags, long fd)
{
    long ret = sys_mmap(addr, len, prot, flags, fd);

    if (ret != -1 && (unsigned long)ret != addr) {
        sys_munmap((unsigned long)ret, len);
        errno = EEXIST;
        return -1;
    }
    return ret;
}
""",
    needs=("sys_mmap", "sys_munmap"),
    fallbacks=("MAP_FIXED_NOREPLACE",),
)

helper(
    "need_huge_pages",
    """
/* hugetlb needs huge pages reserved beforehand (vm.nr_hugepages); without enough free
 * ones the tool stops with "hugetlb unavailable", and so does this program. */
static void need_huge_pages(unsigned long size)
{
    unsigned long free_pages = meminfo("HugePages_Free"), huge = meminfo("Hugepagesize");
    unsigned long needed = huge ? (size + huge - 1) / huge : 1;
    char total[32] = "?";
    FILE *f;

    if (needed < 1)
        needed = 1;
    if (free_pages >= needed)
        return;
    f = fopen("/proc/sys/vm/nr_hugepages", "r");
    if (f) {
        if (fscanf(f, "%31s", total) != 1)
            snprintf(total, sizeof total, "?");
        fclose(f);
    }
    if (free_pages == 0)
        die(1, "hugetlb unavailable: no huge pages reserved (vm.nr_hugepages = %s)", total);
    die(1, "hugetlb unavailable: %lu free huge pages, %lu needed (vm.nr_hugepages = %s)", free_pages, needed,
        total);
}
""",
    needs=("meminfo", "die"),
)

helper(
    "new_memfd",
    """
/* memfd_create(2): a file in memory; its name shows in /proc/self/maps as /memfd:NAME. */
static long new_memfd(const char *name, unsigned long flags)
{
    return syscall(SYS_memfd_create, name, flags);
}
""",
    fallbacks=("MFD_CLOEXEC", "MFD_HUGETLB", "SYS_memfd_create"),
)

helper(
    "secret_fd",
    """
/* memfd_secret(2): memory removed from the kernel's direct map. */
static long secret_fd(void)
{
    long fd = syscall(SYS_memfd_secret, (unsigned long)O_CLOEXEC);

    if (fd == -1)
        die(1, "secretmem unavailable: memfd_secret() failed: %s",
            errno == ENOSYS ? "kernel without CONFIG_SECRETMEM, or booted without secretmem.enable"
                            : strerror(errno));
    return fd;
}
""",
    needs=("die",),
    headers=("fcntl.h",),
    fallbacks=("SYS_memfd_secret",),
)

helper(
    "temp_file",
    """
/* Python's tempfile.gettempdir(), nearly: $TMPDIR, $TEMP, $TMP, then the usual places. */
static const char *temp_dir(void)
{
    const char *candidates[] = {getenv("TMPDIR"), getenv("TEMP"), getenv("TMP"), "/tmp", "/var/tmp", "/usr/tmp"};
    size_t i;

    for (i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
        if (candidates[i] && *candidates[i] && access(candidates[i], W_OK | X_OK) == 0)
            return candidates[i];
    return ".";
}

/* A new temporary file, unlinked at once: nothing is left behind, and the maps say "(deleted)". */
static long temp_file(const char *dir, const char *name)
{
    char path[4096];
    long fd;

    if (!dir)
        dir = temp_dir();
    snprintf(path, sizeof path, "%s/mremapctl.%d.%s", dir, (int)getpid(), name);
    fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd == -1)
        die(2, "dir = '%s': cannot create a file there: %s", dir, strerror(errno));
    unlink(path);
    return fd;
}
""",
    needs=("die",),
    headers=("fcntl.h",),
)

helper(
    "open_path",
    """
/* An existing file named by the scenario; written only if it says writable = true. */
static long open_path(const char *path, int writable)
{
    long fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);

    if (fd == -1)
        die(2, "path = '%s': %s", path, strerror(errno));
    return fd;
}
""",
    needs=("die",),
    headers=("fcntl.h",),
)

helper(
    "map_devzero",
    """
/* /dev/zero: private, it is anonymous memory; shared, a shmem object. */
static long map_devzero(unsigned long addr, unsigned long len, unsigned long prot, unsigned long flags)
{
    long fd = open("/dev/zero", O_RDWR | O_CLOEXEC), ret;
    int err;

    if (fd == -1)
        return -1;
    ret = map_at(addr, len, prot, flags, fd);
    err = errno;
    close((int)fd);
    errno = err;
    return ret;
}
""",
    needs=("map_at",),
    headers=("fcntl.h",),
)

helper(
    "perf_fd",
    """
/* perf_event_attr as far as PERF_ATTR_SIZE_VER0 (64 bytes), spelled out so that old
 * headers build it: a disabled software dummy event, user space only (structs.py). */
struct perf_attr_v0 {
    uint32_t type, size;
    uint64_t config, sample_period, sample_type, read_format;
    uint64_t flags; /* the bitfield: disabled is bit 0, exclude_kernel 5, exclude_hv 6 */
    uint32_t wakeup_events, bp_type;
    uint64_t bp_addr;
};

/* A perf event whose ring buffer can be mmap'ed (VM_PFNMAP|VM_DONTEXPAND). */
static long perf_fd(void)
{
    struct perf_attr_v0 attr;
    long fd;

    memset(&attr, 0, sizeof attr);
    attr.type = 1;              /* PERF_TYPE_SOFTWARE */
    attr.size = sizeof attr;    /* 64: PERF_ATTR_SIZE_VER0 */
    attr.config = 9;            /* PERF_COUNT_SW_DUMMY */
    attr.flags = 1 | 1 << 5 | 1 << 6;
    fd = syscall(SYS_perf_event_open, &attr, 0L, -1L, -1L, 8UL /* PERF_FLAG_FD_CLOEXEC */);
    if (fd == -1)
        die(1, "perf unavailable: perf_event_open() failed: %s%s", strerror(errno),
            errno == EACCES || errno == EPERM ? " (kernel.perf_event_paranoid too high?)" : "");
    return fd;
}
""",
    needs=("die",),
    headers=("stdint.h",),
)

helper(
    "map_sysv",
    """
/* A System V segment attached at addr, marked for removal at once: the kernel frees it
 * when the last attachment goes (at exit). */
static long map_sysv(unsigned long addr, unsigned long size, unsigned long shmflg)
{
    long id = syscall(SYS_shmget, (unsigned long)IPC_PRIVATE, size, (unsigned long)(IPC_CREAT | 0600)), ret;
    int err;

    if (id == -1)
        return -1;
    ret = syscall(SYS_shmat, id, addr, shmflg);
    err = errno;
    syscall(SYS_shmctl, id, (unsigned long)IPC_RMID, 0UL);
    errno = err;
    return ret;
}
""",
    headers=("sys/ipc.h", "sys/shm.h"),
    fallbacks=("SHM_REMAP",),
)

helper(
    "relocate",
    """
/* makers.py finds these by name; their size is the kernel's, assumed below this. */
#define KERNEL_SIZED_MAX (64UL << 20)

/* The first mapping named exactly `name`, or (last) the last one whose name starts with it. */
static int find_named(const char *name, int last, struct mapping *found)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    struct mapping m;
    int hit = 0;

    memset(found, 0, sizeof *found);
    while (maps && next_mapping(maps, &m)) {
        if (last ? strncmp(m.path, name, strlen(name)) == 0 : strcmp(m.path, name) == 0) {
            *found = m;
            hit = 1;
            if (!last)
                break;
        }
    }
    if (maps)
        fclose(maps);
    return hit;
}

static int overlaps_any(unsigned long addr, unsigned long len)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    struct mapping m;
    int hit = 0;

    while (maps && !hit && next_mapping(maps, &m))
        hit = m.start < addr + len && addr < m.end;
    if (maps)
        fclose(maps);
    return hit;
}

/* Move a mapping the kernel placed (found by its name) to `to` with MREMAP_MAYMOVE|MREMAP_FIXED,
 * as makers.py's relocate does: EEXIST rather than replace something, unless replace. */
static long relocate(const char *kind, const char *name, unsigned long to, int replace, unsigned long *len)
{
    struct mapping m;

    if (!find_named(name, 1, &m))
        die(1, "%s unavailable: no %s mapping in this process", kind, name);
    *len = m.end - m.start;
    if (*len > KERNEL_SIZED_MAX)
        die(1, "%s: %lu bytes; this program assumes a kernel-sized region is smaller", kind, *len);
    if (!replace && overlaps_any(to, *len)) {
        errno = EEXIST;
        return -1;
    }
    return sys_mremap(m.start, *len, *len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
}
""",
    needs=("mappings", "sys_mremap", "die"),
)

helper(
    "move_vdso",
    """
/* The C library keeps pointers into the vDSO (clock_gettime ...). Once it has moved they
 * would point at nothing, so put a copy of its code back where it was: the copy still
 * reaches the unmoved [vvar] data at the same distance. */
static long leave_copy(unsigned long start, const void *text, unsigned long len)
{
    long ret = sys_mmap(start, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1);

    if (ret == -1)
        return -1;
    memcpy((void *)start, text, len);
    return sys_mprotect(start, len, PROT_READ | PROT_EXEC);
}

/* This process's own vDSO, moved into the lab; a copy of its code stays behind. */
static long move_vdso(unsigned long to, int replace, unsigned long *len)
{
    struct mapping vdso;
    void *text;
    long ret;
    int err;

    if (!find_named("[vdso]", 0, &vdso))
        die(1, "vdso unavailable: this process has no [vdso] mapping");
    text = malloc(vdso.end - vdso.start);
    if (!text)
        die(1, "vdso: out of memory");
    memcpy(text, (const void *)vdso.start, vdso.end - vdso.start);
    ret = relocate("vdso", "[vdso]", to, replace, len);
    if (ret != -1 && leave_copy(vdso.start, text, vdso.end - vdso.start) == -1)
        ret = -1;
    err = errno;
    free(text);
    errno = err;
    return ret;
}
""",
    needs=("relocate", "sys_mmap", "sys_mprotect"),
    fallbacks=("MAP_FIXED_NOREPLACE",),
)

helper(
    "move_aio_ring",
    """
/* io_setup(2) maps an aio completion ring where the kernel likes; move it into the lab. */
static long move_aio_ring(unsigned long to, int replace, unsigned long *len)
{
    unsigned long ctx = 0;
    struct mapping ring;

    if (syscall(SYS_io_setup, 1UL, &ctx) == -1)
        return -1;
    if (!mapping_at(ctx, &ring))
        snprintf(ring.path, sizeof ring.path, "[aio]");
    return relocate("aio", ring.path, to, replace, len);
}
""",
    needs=("relocate",),
)
