/* bench_main.c: runs every BENCH (or those whose names contain argv[1]) and prints their rows (or
 * those whose names contain argv[2]). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cblas.h>

#include "bench.h"
#include "blas_cpu.h"

#define X(name) void bench_##name(void);
#include "bench_list.h"
#undef X

typedef struct {
    const char *name;
    void (*fn)(void);
} BenchCase;

static const BenchCase all_benches[] = {
#define X(name) {#name, bench_##name},
#include "bench_list.h"
#undef X
    {NULL, NULL},
};

static const char *row_filter;

int bench_row_wanted(const char *what)
{
    return !row_filter || strstr(what, row_filter) != NULL;
}

double bench_cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void bench_row(const char *what, double value, const char *unit)
{
    printf("  %-58s %14.4g  %s\n", what, value, unit);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    blas_cpu_fix(argv);
    openblas_set_num_threads(1);
    const char *filter = argc > 1 ? argv[1] : NULL;
    row_filter = argc > 2 ? argv[2] : NULL;
    printf("lpg benchmarks (one thread unless a row says otherwise)\n");
    for (const BenchCase *b = all_benches; b->name; b++) {
        if (filter && !strstr(b->name, filter))
            continue;
        printf("%s\n", b->name);
        b->fn();
    }
    return 0;
}
