/* bench_scaling.c: CPU time per meta-step, one thread, as the sizes of configs/grid.json grow one at a
 * time (lifetimes, copies, rule width, K, and the agent kind: tabular grids or MLP agents on the
 * random grids), each with the peak memory of a process that runs only that config. Each config
 * runs in a child process (fork), so its peak resident memory is its own (wait4's ru_maxrss).
 * The last rows estimate a meta-step of configs/grid_full.json (the paper's size) from a few of
 * its lifetimes: time and memory grow linearly in lifetimes, and threads divide the time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "meta_train.h"

typedef struct {
    double seconds_per_step; /* < 0: the run failed */
    double peak_mib;
} ScalingResult;

/* In the child: CPU seconds per meta-step after one warm-up step, over at least 2 steps and 1 s. */
static double seconds_per_step(const char *config, int noverrides, char **overrides)
{
    MetaRun run;
    if (meta_run_init(&run, config, noverrides, overrides)) {
        meta_run_free(&run);
        return -1;
    }
    MetaStepStats st;
    int steps = 0, failed = meta_run_step(&run, &st);
    double t0 = bench_cpu_seconds(), dt = 0;
    while (!failed && (steps < 2 || dt < 1.0)) {
        failed = meta_run_step(&run, &st);
        steps++;
        dt = bench_cpu_seconds() - t0;
    }
    meta_run_free(&run);
    return failed ? -1 : dt / steps;
}

/* Runs seconds_per_step in a child process and collects its figure and peak memory. */
static ScalingResult measure(const char *config, int noverrides, char **overrides)
{
    ScalingResult res = {-1, 0};
    int fd[2];
    if (pipe(fd) != 0)
        return res;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return res;
    }
    if (pid == 0) {
        close(fd[0]);
        double s = seconds_per_step(config, noverrides, overrides);
        ssize_t wrote = write(fd[1], &s, sizeof s);
        _exit(wrote == (ssize_t)sizeof s ? 0 : 1);
    }
    close(fd[1]);
    double s = -1;
    if (read(fd[0], &s, sizeof s) != (ssize_t)sizeof s)
        s = -1;
    close(fd[0]);
    int status;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) == pid) {
        res.seconds_per_step = s;
        res.peak_mib = usage.ru_maxrss / 1024.0;
    }
    return res;
}

/* One row: configs/grid.json (one thread) with the override `what` (NULL: as it is). */
static ScalingResult row(const char *label, char *what)
{
    char *over[4] = {"threads=1", "run_dir=build/bench_runs", what};
    ScalingResult r = measure("configs/grid.json", what ? 3 : 2, over);
    char text[128];
    snprintf(text, sizeof text, "%s: CPU time per meta-step", label);
    bench_row(text, r.seconds_per_step * 1e3, "ms");
    snprintf(text, sizeof text, "%s: peak memory", label);
    bench_row(text, r.peak_mib, "MiB");
    return r;
}

BENCH(meta_scaling)
{
    row("grid.json as is (16 lifetimes, 32 copies, H 32, K 5, tabular)", NULL);
    row("lifetimes 8", "lifetimes=8");
    row("lifetimes 32", "lifetimes=32");
    row("copies 16", "copies=16");
    row("copies 64", "copies=64");
    row("rule width H 64", "rule_hidden=64");
    row("rule width H 256", "rule_hidden=256");
    row("K 1", "K=1");
    row("K 10", "K=10");
    row("MLP agents (5 random grids, mlp_hidden 32)",
        "envs=configs/envs/random_dense.json,configs/envs/random_long_horizon.json,"
        "configs/envs/random_small.json,configs/envs/random_sparse.json,"
        "configs/envs/random_very_dense.json");

    /* configs/grid_full.json measured on 4 of its 512 lifetimes, one thread, then scaled. */
    char *full[] = {"threads=1", "lifetimes=4", "run_dir=build/bench_runs"};
    ScalingResult r = measure("configs/grid_full.json", 3, full);
    ScalingResult base = measure("configs/grid_full.json", 3,
                                 (char *[]){"threads=1", "lifetimes=1", "run_dir=build/bench_runs"});
    double per_life = r.seconds_per_step / 4;
    double mib_per_life = (r.peak_mib - base.peak_mib) / 3;
    bench_row("grid_full.json: CPU time per lifetime window (H 256, 64 copies)", per_life * 1e3,
              "ms");
    bench_row("grid_full.json: estimated meta-step, 512 lifetimes, 1 thread", per_life * 512, "s");
    bench_row("grid_full.json: estimated meta-step on its 16 threads (16 free cores)",
              per_life * 512 / 16, "s");
    bench_row("grid_full.json: estimated peak memory (512 lifetimes)",
              base.peak_mib + mib_per_life * 511, "MiB");
}
