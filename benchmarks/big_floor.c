/*
 * big_floor: the least a program can do for `try --anon --maymove --grow --size SIZE`, the C floor
 * that benchmarks/big_regions.py sets mremapctl's time against: map SIZE of private anonymous memory,
 * fill it (unless "nofill"), grow it to twice SIZE with MREMAP_MAYMOVE, and read the first byte of
 * every page of the new range, counting runs of equal bytes as the tool reports them.
 *
 *   big_floor SIZE_BYTES fill|nofill      prints: runs=N pages=M
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: big_floor SIZE_BYTES fill|nofill\n");
        return 2;
    }
    size_t size = strtoull(argv[1], NULL, 0);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *old = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (old == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    if (strcmp(argv[2], "fill") == 0)
        memset(old, 'A', size);
    volatile char *new = mremap(old, size, 2 * size, MREMAP_MAYMOVE);
    if (new == MAP_FAILED) {
        perror("mremap");
        return 1;
    }
    size_t runs = 0;
    int last = -1;
    for (size_t at = 0; at < 2 * size; at += page) {
        int byte = new[at];
        runs += byte != last;
        last = byte;
    }
    printf("runs=%zu pages=%zu\n", runs, 2 * size / page);
    return 0;
}
