/*
 * mremap_ref: the C reference for `mremapctl bench` (benchmarks/bench_fidelity.py builds and runs it).
 *
 * It performs exactly the moves the Python benchmark performs, at the same addresses, in the
 * same order, with clock_gettime(CLOCK_MONOTONIC) around syscall(SYS_mremap, ...), and subtracts
 * its own per-call overhead (a getppid with the same five arguments through the same path), so
 * the two medians differ only by what the Python timing path adds or hides.
 *
 * stdin, one cell per line:
 *   ID OP MAPPING SIZE SRC DST POPULATED SAMPLES WARMUP THP
 *     OP: move | dontunmap | resize (grow and shrink alternately, as bench does)
 *     MAPPING: anon | memfd; SIZE, SRC, DST: decimal; THP: a madvise advice (14, 15) or 0
 * stdout, one line per result (two for resize):
 *   ID OP MIN_NS MEDIAN_NS P90_NS SAMPLES        or    ID OP error ERRNO
 * The first line of output is "overhead MIN MEDIAN P90".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define OVERHEAD_SAMPLES 4000

struct cell {
	char id[64], op[16], mapping[16];
	unsigned long size, src, dst;
	int populated, samples, warmup, thp;
};

static long overhead_ns;

static long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

/* One timed call; *ns gets the elapsed time. */
static long timed(long nr, unsigned long a, unsigned long b, unsigned long c, unsigned long d,
		  unsigned long e, long *ns)
{
	long start = now_ns();
	long ret = syscall(nr, a, b, c, d, e);
	*ns = now_ns() - start;
	return ret;
}

static void stats(long *v, int n, long *min, long *median, long *p90)
{
	qsort(v, n, sizeof(*v), cmp_long);
	*min = v[0];
	*median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2] + 1) / 2;
	*p90 = v[(int)ceil(0.9 * n) - 1];
}

static void measure_overhead(void)
{
	static long v[OVERHEAD_SAMPLES];
	long min, median, p90;
	for (int i = 0; i < OVERHEAD_SAMPLES; i++)
		timed(SYS_getppid, 0, 0, 0, 0, 0, &v[i]);
	stats(v, OVERHEAD_SAMPLES, &min, &median, &p90);
	overhead_ns = median;
	printf("overhead %ld %ld %ld\n", min, median, p90);
	fflush(stdout);
}

static void report(const struct cell *c, const char *op, long *raw, int n)
{
	long min, median, p90;
	for (int i = 0; i < n; i++)
		raw[i] = raw[i] > overhead_ns ? raw[i] - overhead_ns : 0;
	stats(raw, n, &min, &median, &p90);
	printf("%s %s %ld %ld %ld %d\n", c->id, op, min, median, p90, n);
}

static void populate(unsigned long addr, unsigned long size)
{
	if (madvise((void *)addr, size, MADV_POPULATE_WRITE)) {
		perror("madvise(MADV_POPULATE_WRITE)");
		exit(1);
	}
}

/* Map the cell's region at exactly SRC; a memfd is FILE_SIZE long. Returns the fd or -1. */
static int map_region(const struct cell *c, unsigned long file_size)
{
	int fd = -1, flags = MAP_FIXED_NOREPLACE;
	if (!strcmp(c->mapping, "memfd")) {
		fd = memfd_create("mremap-ref", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, file_size)) {
			perror("memfd");
			exit(1);
		}
		flags |= MAP_SHARED;
	} else {
		flags |= MAP_PRIVATE | MAP_ANONYMOUS;
	}
	void *p = mmap((void *)c->src, c->size, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p != (void *)c->src) {
		perror("mmap");
		exit(1);
	}
	if (c->thp)
		madvise(p, c->size, c->thp);
	if (c->populated)
		populate(c->src, c->size);
	return fd;
}

static void run_move(const struct cell *c)
{
	int dontunmap = !strcmp(c->op, "dontunmap");
	unsigned long flags = MREMAP_MAYMOVE | MREMAP_FIXED | (dontunmap ? MREMAP_DONTUNMAP : 0);
	unsigned long from[2] = {c->src, c->dst}, to[2] = {c->dst, c->src};
	long *raw = calloc(c->samples + 2, sizeof(long)), ns;
	int fd = map_region(c, c->size), n = 0;
	for (int round = 0; n < c->samples; round++) {
		for (int leg = 0; leg < 2; leg++) {
			long ret = timed(SYS_mremap, from[leg], c->size, c->size, flags, to[leg], &ns);
			if (ret != (long)to[leg]) {
				printf("%s %s error %d\n", c->id, c->op, errno);
				goto out;
			}
			if (dontunmap)
				munmap((void *)from[leg], c->size);
			if (round >= c->warmup)
				raw[n++] = ns;
		}
	}
	report(c, c->op, raw, n);
out:
	munmap((void *)c->src, c->size);
	munmap((void *)c->dst, c->size);
	if (fd >= 0)
		close(fd);
	free(raw);
}

static void run_resize(const struct cell *c)
{
	long *grow = calloc(c->samples + 1, sizeof(long)), *shrink = calloc(c->samples + 1, sizeof(long));
	long g, s;
	int fd = map_region(c, 2 * c->size), n = 0;
	for (int round = 0; n < c->samples; round++) {
		if (timed(SYS_mremap, c->src, c->size, 2 * c->size, 0, 0, &g) != (long)c->src)
			goto fail;
		if (c->populated)
			populate(c->src + c->size, c->size);
		if (timed(SYS_mremap, c->src, 2 * c->size, c->size, 0, 0, &s) != (long)c->src)
			goto fail;
		if (round >= c->warmup) {
			grow[n] = g;
			shrink[n++] = s;
		}
	}
	report(c, "grow", grow, n);
	report(c, "shrink", shrink, n);
	goto out;
fail:
	printf("%s grow error %d\n%s shrink error %d\n", c->id, errno, c->id, errno);
out:
	munmap((void *)c->src, 2 * c->size);
	if (fd >= 0)
		close(fd);
	free(grow);
	free(shrink);
}

int main(void)
{
	char line[512];
	struct cell c;
	measure_overhead();
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "%63s %15s %15s %lu %lu %lu %d %d %d %d", c.id, c.op, c.mapping, &c.size, &c.src,
			   &c.dst, &c.populated, &c.samples, &c.warmup, &c.thp) != 10) {
			fprintf(stderr, "bad line: %s", line);
			return 2;
		}
		if (!strcmp(c.op, "resize"))
			run_resize(&c);
		else
			run_move(&c);
		fflush(stdout);
	}
	return 0;
}
