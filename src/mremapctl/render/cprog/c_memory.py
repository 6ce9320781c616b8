"""C helpers that look at memory without touching it: maps, fault classification, probes.

They mirror ``backends/live/memory.py``: a read is a write(2) of the byte into a pipe, a
write a read(2) from one, so a bad address is an EFAULT instead of a signal, and the
signal a real access would have got is worked out from /proc/self/maps and pagemap.
"""

from __future__ import annotations

from mremapctl.limits import POPULATE_FLOOR, POPULATE_SHARE
from mremapctl.render.cprog import c_core  # noqa: F401  (registered first: helpers here use its helpers)
from mremapctl.render.cprog.registry import helper

helper(
    "mappings",
    """
/* One line of /proc/self/maps. */
struct mapping {
    unsigned long start, end;
    char perms[8];
    char path[4096];
};

/* The next mapping of an open /proc/self/maps (0 at its end). */
static int next_mapping(FILE *maps, struct mapping *m)
{
    static char line[4096 + 128];
    int name_at = 0;

    while (fgets(line, sizeof line, maps)) {
        line[strcspn(line, "\\n")] = '\\0';
        if (sscanf(line, "%lx-%lx %7s %*x %*s %*u %n", &m->start, &m->end, m->perms, &name_at) < 3)
            continue;
        snprintf(m->path, sizeof m->path, "%s", name_at > 0 ? line + name_at : "");
        return 1;
    }
    return 0;
}

/* The mapping containing addr, if there is one. */
static int mapping_at(unsigned long addr, struct mapping *found)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    int hit = 0;

    while (maps && !hit && next_mapping(maps, found))
        hit = found->start <= addr && addr < found->end;
    if (maps)
        fclose(maps);
    return hit;
}
""",
)

helper(
    "fault_kind",
    """
/* The signal a real access would have got where the kernel answered EFAULT (memory.py's
 * fault_kind): SIGSEGV without a mapping, without the permission, or on a guard page;
 * SIGBUS when the mapping is there but has no page for it (past the end of a file ...). */
static const char *fault_kind(unsigned long addr, int writing)
{
    struct mapping m;
    unsigned long long entry = 0;
    int pagemap;

    if (!mapping_at(addr, &m) || m.perms[writing ? 1 : 0] == '-')
        return "SIGSEGV";
    pagemap = open("/proc/self/pagemap", O_RDONLY);
    if (pagemap >= 0) {
        if (pread(pagemap, &entry, 8, (off_t)(addr / PAGE * 8)) != 8)
            entry = 0;
        close(pagemap);
    }
    return entry & (1ULL << 58) ? "SIGSEGV" : "SIGBUS"; /* PM_GUARD_REGION (6.14+) */
}
""",
    needs=("mappings",),
    headers=("fcntl.h",),
)

helper(
    "probe_pipe",
    """
/* Reads and writes never touch the memory directly, so they never fault: bytes pass
 * through this pipe with write(2) and read(2), which return EFAULT instead of a signal. */
static int probe_pipe[2];
""",
)

helper(
    "probe",
    """
/* What a page's byte reads as: "zero", "data:A" or "data:0xNN" (pages.py). */
static const char *describe_byte(unsigned char byte, char *text, size_t size)
{
    if (byte == 0)
        snprintf(text, size, "zero");
    else if (byte >= 0x20 && byte < 0x7f)
        snprintf(text, size, "data:%c", byte);
    else
        snprintf(text, size, "data:0x%02x", byte);
    return text;
}

/* Read one byte at addr by writing it into a pipe: EFAULT where a load would fault. */
static const char *probe_via(int fds[2], unsigned long addr, char *text, size_t size, int errno_as_number)
{
    unsigned char byte;

    if (write(fds[1], (const void *)addr, 1) == 1 && read(fds[0], &byte, 1) == 1)
        return describe_byte(byte, text, size);
    if (errno == EFAULT)
        return fault_kind(addr, 0);
    if (errno_as_number)
        snprintf(text, size, "error:%d", errno);
    else
        snprintf(text, size, "error:%s", errno_name(errno));
    return text;
}
""",
    needs=("probe_pipe", "fault_kind", "errno_name"),
)

helper(
    "probe_read",
    """
static const char *probe_read(unsigned long addr, char *text, size_t size)
{
    return probe_via(probe_pipe, addr, text, size, 0);
}
""",
    needs=("probe",),
)

helper(
    "uffd_probe",
    """
/* Once a range is registered with userfaultfd, a read there may wait for a fault handler
 * that does not exist. Like the tool, probe from a thread and give it 0.3 s: "uffd" if it
 * is still waiting (it stays blocked until the program exits). Each probe has its own
 * pipe, because a copy blocked in a fault holds its pipe's lock. */
static int uffd_armed;

struct probe {
    unsigned long addr;
    int fds[2], done[2];
    char text[32];
    const char *result;
};

static void *probe_thread(void *arg)
{
    struct probe *p = arg;

    p->result = probe_via(p->fds, p->addr, p->text, sizeof p->text, 1);
    if (write(p->done[1], "", 1) != 1)
        p->result = "error:done";
    return NULL;
}

static const char *probe_bounded(unsigned long addr, char *text, size_t size)
{
    struct probe *p = calloc(1, sizeof *p);
    struct pollfd ready;
    pthread_t thread;

    if (!p || pipe(p->fds) == -1 || pipe(p->done) == -1)
        die(1, "probe: out of memory or file descriptors");
    p->addr = addr;
    if (pthread_create(&thread, NULL, probe_thread, p) != 0)
        die(1, "probe: cannot start a thread");
    pthread_detach(thread);
    ready.fd = p->done[0];
    ready.events = POLLIN;
    if (poll(&ready, 1, 300) != 1)
        return "uffd"; /* the thread, its pipes and p stay: it is blocked in the fault */
    snprintf(text, size, "%s", p->result);
    close(p->fds[0]), close(p->fds[1]), close(p->done[0]), close(p->done[1]);
    free(p);
    return text;
}
""",
    needs=("probe", "die"),
    headers=("poll.h", "pthread.h"),
)

helper(
    "probe_read_uffd",
    """
static const char *probe_read(unsigned long addr, char *text, size_t size)
{
    return uffd_armed ? probe_bounded(addr, text, size) : probe_via(probe_pipe, addr, text, size, 0);
}
""",
    needs=("uffd_probe",),
    provides="probe_read",
)

helper(
    "read_range",
    """
/* A read step: one probe at addr and at every page boundary after it, up to addr+size. */
static void read_range(int step, unsigned long addr, unsigned long size)
{
    char text[32];
    unsigned long at;

    printf("step %d read ok", step);
    for (at = addr; size && at < addr + size; at = (at / PAGE + 1) * PAGE)
        printf(" %s", probe_read(at, text, sizeof text));
    printf("\\n");
}
""",
    needs=("probe_read",),
)

helper(
    "write_range",
    """
/* Write `value` into [addr, addr+len), a span within one page, with read(2) from the pipe:
 * "ok", or the signal a store would have got. */
static const char *write_span(unsigned long addr, unsigned long len, int value)
{
    static char bytes[PAGE], text[32];
    long done, got;
    int err;

    memset(bytes, value, len);
    if (write(probe_pipe[1], bytes, len) != (long)len)
        die(1, "probe pipe: %s", strerror(errno));
    done = read(probe_pipe[0], (void *)addr, len);
    if (done == (long)len)
        return "ok";
    err = done == -1 ? errno : 0;
    for (done = done < 0 ? 0 : done; done < (long)len; done += got) /* drain what the copy left */
        if ((got = read(probe_pipe[0], bytes, len - done)) <= 0)
            die(1, "probe pipe: %s", strerror(errno));
    if (err == EFAULT || err == 0)
        return fault_kind(addr, 1);
    snprintf(text, sizeof text, "error:%d", err);
    return text;
}

/* Write `value` to every byte of [addr, addr+size), page by page. A write step prints its
 * line (outcome: ok, or the first page's fault); a fill (step 0) only writes. */
static void write_range(int step, unsigned long addr, unsigned long size, int value)
{
    char first[32] = "ok", *pages = NULL;
    size_t pages_len = 0;
    FILE *line = open_memstream(&pages, &pages_len);
    unsigned long at, end;
    const char *result;

    for (at = addr; size && at < addr + size; at = end) {
        end = (at / PAGE + 1) * PAGE < addr + size ? (at / PAGE + 1) * PAGE : addr + size;
        result = write_span(at, end - at, value);
        fprintf(line, " %s", result);
        if (strcmp(first, "ok") == 0 && strcmp(result, "ok") != 0)
            snprintf(first, sizeof first, "%s", result);
    }
    fclose(line);
    if (step)
        printf("step %d write %s%s\\n", step, first, pages);
    free(pages);
}
""",
    needs=("probe_pipe", "fault_kind", "die"),
)

helper(
    "check_populate",
    """
/* The tool refuses to populate more than half of MemAvailable (fill, MAP_LOCKED, mlock)
 * unless given --force; so does this program. */
static void check_populate(unsigned long size, const char *why)
{
    unsigned long available = meminfo("MemAvailable");

    if (size > (@FLOOR_MIB@UL << 20) && (double)size > available * @SHARE@)
        die(2, "refusing to populate %lu bytes (%s): more than half of MemAvailable (%lu bytes); "
               "the tool insists only with --force", size, why, available);
}
""".replace("@FLOOR_MIB@", str(POPULATE_FLOOR >> 20)).replace("@SHARE@", str(POPULATE_SHARE)),
    needs=("meminfo", "die"),
)

helper(
    "meminfo",
    """
/* A /proc/meminfo value: bytes for "kB" lines, a count for HugePages_*. */
static unsigned long meminfo(const char *key)
{
    FILE *info = fopen("/proc/meminfo", "r");
    char line[256], unit[16];
    size_t len = strlen(key);
    unsigned long value = 0;

    while (info && fgets(line, sizeof line, info))
        if (strncmp(line, key, len) == 0 && line[len] == ':') {
            unit[0] = '\\0';
            sscanf(line + len + 1, "%lu %15s", &value, unit);
            if (strcmp(unit, "kB") == 0)
                value *= 1024;
            break;
        }
    if (info)
        fclose(info);
    return value;
}
""",
)
