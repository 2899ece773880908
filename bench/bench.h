/* bench.h: `make bench` figures. A benchmark is `BENCH(name) { ... }` at the start of a line in
 * any bench file; the Makefile collects the names. Each prints its own table rows with
 * bench_row(). Pass a substring as argv[1] to run only matching benchmarks, and one as argv[2]
 * to run only their matching rows (benchmarks that check bench_row_wanted). */
#ifndef LPG_BENCH_H
#define LPG_BENCH_H

#define BENCH(name) void bench_##name(void); void bench_##name(void)

/* Prints one aligned row: what was measured, the figure, its unit. */
void bench_row(const char *what, double value, const char *unit);

/* Whether a row named what is to be measured: argv[2], if given, must be part of its name
 * (`build/bench_lpg env_step minatar/seaquest` runs that one row). */
int bench_row_wanted(const char *what);

/* The process's CPU seconds (user + system): on one thread, the time the work takes on a core of
 * its own, however many other jobs share the machine. */
double bench_cpu_seconds(void);

#endif
