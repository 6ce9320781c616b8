"""C helpers for the program's set-up and the ops beyond plain syscalls (``backends/live/machine.py``)."""

from __future__ import annotations

from mremapctl.render.cprog import (
    c_core,  # noqa: F401  (registered first: helpers here use its helpers)
    c_memory,  # noqa: F401  (registered first: helpers here use its helpers)
)
from mremapctl.render.cprog.registry import helper

helper(
    "setup",
    """
/* What the tool does before the first step: the page size must be the one the scenario's
 * sizes were computed with; the lab must be free. The tool's parent reserves the lab
 * (PROT_NONE, MAP_FIXED_NOREPLACE: it fails if anything is there) and the child that runs
 * the experiment frees it again; here one process does both. An experiment that hangs
 * (a fault waiting for a userfaultfd handler nobody runs) is killed after 10 s, as the
 * tool's time-out does. */
static void setup(void)
{
    long lab;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (sysconf(_SC_PAGESIZE) != (long)PAGE)
        die(1, "this program was generated for %lu-byte pages; this machine has %ld", PAGE, sysconf(_SC_PAGESIZE));
    lab = sys_mmap(LAB_START, LAB_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE,
                   -1);
    if (lab != (long)LAB_START) {
        if (lab != -1) {
            sys_munmap((unsigned long)lab, LAB_SIZE);
            errno = EEXIST;
        }
        die(1, "cannot reserve the lab at 0x%lx: %s", LAB_START, strerror(errno));
    }
    sys_munmap(LAB_START, LAB_SIZE);
    alarm(10);
}
""",
    needs=("die", "sys_mmap", "sys_munmap"),
    fallbacks=("MAP_FIXED_NOREPLACE",),
)

helper(
    "uffd_register",
    """
/* <linux/userfaultfd.h>, spelled out so that old headers build it. */
struct uffd_api { uint64_t api, features, ioctls; };
struct uffd_register { uint64_t start, len, mode, ioctls; };
#define UFFD_API_VERSION 0xAA
#define UFFDIO_API_IOCTL _IOWR(0xAA, 0x3F, struct uffd_api)
#define UFFDIO_REGISTER_IOCTL _IOWR(0xAA, 0x00, struct uffd_register)
/* MINOR_HUGETLBFS | MINOR_SHMEM | WP_HUGETLBFS_SHMEM: asked for, then none on refusal */
#define UFFD_FEATURES_WANTED (1ULL << 9 | 1ULL << 10 | 1ULL << 12)

static long uffd = -1;

/* One userfaultfd for the whole program, opened at its first registration (machine.py). */
static int open_uffd(void)
{
    uint64_t features[2] = {UFFD_FEATURES_WANTED, 0};
    struct uffd_api api;
    long fd;
    int i, err = 0;

    for (i = 0; i < 2; i++) {
        fd = syscall(SYS_userfaultfd, (unsigned long)(O_CLOEXEC | O_NONBLOCK));
        if (fd == -1)
            return -1;
        api.api = UFFD_API_VERSION, api.features = features[i], api.ioctls = 0;
        if (ioctl((int)fd, UFFDIO_API_IOCTL, &api) == 0) {
            uffd = fd;
            return 0;
        }
        err = errno;
        close((int)fd);
    }
    errno = err;
    return -1;
}

/* Register [addr, addr+len) with the userfaultfd; mode 1 missing, 2 wp, 4 minor. */
static long uffd_register(unsigned long addr, unsigned long len, unsigned long mode)
{
    struct uffd_register reg;
    long ret;

    if (uffd < 0 && open_uffd() == -1)
        return -1;
    reg.start = addr, reg.len = len, reg.mode = mode, reg.ioctls = 0;
    ret = ioctl((int)uffd, UFFDIO_REGISTER_IOCTL, &reg);
    if (ret == 0)
        uffd_armed = 1;
    return ret;
}
""",
    needs=("uffd_probe",),
    headers=("fcntl.h", "stdint.h", "sys/ioctl.h"),
    fallbacks=("SYS_userfaultfd",),
)

helper(
    "set_limit",
    """
/* Set a resource limit, soft and hard alike, as the tool does. */
static long set_limit(int resource, unsigned long value)
{
    struct rlimit limit;

    limit.rlim_cur = limit.rlim_max = value;
    return setrlimit(resource, &limit);
}
""",
    headers=("sys/resource.h",),
)

helper(
    "drop_cap",
    """
/* capget/capset, version 3: two 32-bit words per set. */
struct cap_header { uint32_t version; int pid; };
struct cap_data { uint32_t effective, permitted, inheritable; };

/* Remove one capability from the effective and permitted sets (for good). */
static long drop_cap(int cap)
{
    struct cap_header header = {0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0};
    struct cap_data data[2];

    memset(data, 0, sizeof data);
    if (syscall(SYS_capget, &header, data) == -1)
        return -1;
    data[cap / 32].effective &= ~(1U << cap % 32);
    data[cap / 32].permitted &= ~(1U << cap % 32);
    return syscall(SYS_capset, &header, data);
}
""",
    headers=("stdint.h",),
)

helper(
    "report_vmas",
    """
/* The vmas question (engine.py): how many VMAs cover [start, end); given a VmFlag, whether all
 * of them ("yes"), none ("no") or some carry it, as /proc/self/smaps shows them. */
static void report_vmas(int step, unsigned long start, unsigned long end, const char *flag)
{
    FILE *smaps = fopen("/proc/self/smaps", "r");
    static char line[4096 + 128];
    unsigned long lo, hi;
    int count = 0, having = 0, inside = 0;
    char *word;

    while (smaps && fgets(line, sizeof line, smaps)) {
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
            inside = lo < end && start < hi;
            count += inside;
        } else if (inside && flag && strncmp(line, "VmFlags:", 8) == 0) {
            for (word = strtok(line + 8, " \\n"); word; word = strtok(NULL, " \\n"))
                if (strcmp(word, flag) == 0)
                    having++;
        }
    }
    if (smaps)
        fclose(smaps);
    if (!flag)
        printf("step %d vmas %d\\n", step, count);
    else
        printf("step %d vmas %s\\n", step, count && having == count ? "yes" : having == 0 ? "no" : "some");
}
""",
)
