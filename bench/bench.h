/* bench.h: `make bench` figures. A benchmark is `BENCH(name) { ... }` at the start of a line in
 * any bench file; the Makefile collects the names. Each prints its own table rows with
 * bench_row(). Pass a substring as argv[1] to run only matching benchmarks. */
#ifndef LPG_BENCH_H
#define LPG_BENCH_H

#define BENCH(name) void bench_##name(void); void bench_##name(void)

/* Prints one aligned row: what was measured, the figure, its unit. */
void bench_row(const char *what, double value, const char *unit);

#endif
