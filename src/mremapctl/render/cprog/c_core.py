"""The core C helpers: raw syscalls, errno names, reporting each step, stopping with a message.

Each helper mirrors a piece of the live backend (named in its C comment) so a generated
program does what the tool does, syscall for syscall.
"""

from __future__ import annotations

from mremapctl.render.cprog.registry import helper

# Python's errno.errorcode names (ENOTSUP, not EOPNOTSUPP; EDEADLOCK, not EDEADLK): the tool's names.
ERRNO_NAMES = (
    "EPERM",
    "ENOENT",
    "ESRCH",
    "EINTR",
    "EIO",
    "ENXIO",
    "E2BIG",
    "ENOEXEC",
    "EBADF",
    "ECHILD",
    "EAGAIN",
    "ENOMEM",
    "EACCES",
    "EFAULT",
    "EBUSY",
    "EEXIST",
    "EXDEV",
    "ENODEV",
    "ENOTDIR",
    "EISDIR",
    "EINVAL",
    "ENFILE",
    "EMFILE",
    "ENOTTY",
    "ETXTBSY",
    "EFBIG",
    "ENOSPC",
    "ESPIPE",
    "EROFS",
    "EMLINK",
    "EPIPE",
    "ERANGE",
    "EDEADLOCK",
    "ENAMETOOLONG",
    "ENOSYS",
    "EIDRM",
    "ENODATA",
    "EOVERFLOW",
    "ENOTSUP",
    "ETIMEDOUT",
)


def _errno_table() -> str:
    names = [f"E({name})" for name in ERRNO_NAMES]
    rows = [" ".join(names[i : i + 8]) for i in range(0, len(names), 8)]
    return "\n".join("        " + row for row in rows)


helper(
    "die",
    """
/* The experiment cannot go on: say why on stderr and exit as the tool does
 * (1: it could not be carried out here, 2: bad input). */
__attribute__((noreturn, format(printf, 2, 3)))
static void die(int status, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\\n', stderr);
    exit(status);
}
""",
)

helper(
    "sys_note",
    """
/* Raw system calls. syscall(2) hands every argument to the kernel untouched — undefined
 * flag bits included — and needs no C library support for calls newer than the library.
 * Every argument is an unsigned long, as the kernel reads it. */
""",
)

helper(
    "sys_mmap",
    """
static long sys_mmap(unsigned long addr, unsigned long len, unsigned long prot, unsigned long flags, long fd)
{
    return syscall(SYS_mmap, addr, len, prot, flags, fd, 0UL);
}
""",
    needs=("sys_note",),
)

helper(
    "sys_munmap",
    """
static long sys_munmap(unsigned long addr, unsigned long len)
{
    return syscall(SYS_munmap, addr, len);
}
""",
    needs=("sys_note",),
)

helper(
    "sys_mprotect",
    """
static long sys_mprotect(unsigned long addr, unsigned long len, unsigned long prot)
{
    return syscall(SYS_mprotect, addr, len, prot);
}
""",
    needs=("sys_note",),
)

helper(
    "sys_mremap",
    """
/* Not glibc's mremap(): that one is variadic and reads new_address only for some flags. */
static long sys_mremap(unsigned long old, unsigned long old_size, unsigned long new_size,
                       unsigned long flags, unsigned long new_address)
{
    return syscall(SYS_mremap, old, old_size, new_size, flags, new_address);
}
""",
    needs=("sys_note",),
    fallbacks=("MREMAP_DONTUNMAP",),
)

helper(
    "sys_mlock",
    """
static long sys_mlock(unsigned long addr, unsigned long len)
{
    return syscall(SYS_mlock, addr, len);
}
""",
    needs=("sys_note",),
)

helper(
    "sys_mlock2",
    """
static long sys_mlock2(unsigned long addr, unsigned long len, unsigned long flags)
{
    return syscall(SYS_mlock2, addr, len, flags);
}
""",
    needs=("sys_note",),
    fallbacks=("MLOCK_ONFAULT", "SYS_mlock2"),
)

helper(
    "sys_munlock",
    """
static long sys_munlock(unsigned long addr, unsigned long len)
{
    return syscall(SYS_munlock, addr, len);
}
""",
    needs=("sys_note",),
)

helper(
    "sys_mseal",
    """
static long sys_mseal(unsigned long addr, unsigned long len, unsigned long flags)
{
    return syscall(SYS_mseal, addr, len, flags);
}
""",
    needs=("sys_note",),
    fallbacks=("SYS_mseal",),
)

helper(
    "sys_madvise",
    """
static long sys_madvise(unsigned long addr, unsigned long len, unsigned long advice)
{
    return syscall(SYS_madvise, addr, len, advice);
}
""",
    needs=("sys_note",),
)

helper(
    "errno_name",
    f"""
/* errno names as the tool prints them (strerrorname_np() needs glibc 2.32). */
static const char *errno_name(int err)
{{
    static const struct {{ int value; const char *name; }} names[] = {{
#define E(name) {{name, #name}},
{_errno_table()}
#undef E
    }};
    static char other[16];
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].value == err)
            return names[i].name;
    snprintf(other, sizeof other, "E%d", err);
    return other;
}}
""",
)

helper(
    "report_note",
    """
/* One line per step on stdout: "step <n> <op> <outcome> [details]" (see the top of the file). */
""",
)

helper(
    "report_address",
    """
static int report_address(int step, const char *op, long ret)
{
    if (ret == -1) {
        printf("step %d %s %s\\n", step, op, errno_name(errno));
        return 0;
    }
    printf("step %d %s ok 0x%lx\\n", step, op, (unsigned long)ret);
    return 1;
}
""",
    needs=("report_note", "errno_name"),
)

helper(
    "report_status",
    """
static void report_status(int step, const char *op, long ret)
{
    if (ret == -1)
        printf("step %d %s %s\\n", step, op, errno_name(errno));
    else
        printf("step %d %s ok\\n", step, op);
}
""",
    needs=("report_note", "errno_name"),
)

helper(
    "skipped",
    """
/* A step that needs a region whose creating step failed is not run. */
static void skipped(int step, const char *op)
{
    printf("step %d %s skipped\\n", step, op);
}
""",
    needs=("report_note",),
)
