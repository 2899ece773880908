/* bench_env.c: environment steps per second, one thread, 64 copies, uniformly random actions
 * taken from a precomputed buffer so that the figure is the environment's own cost. Timed in CPU
 * time of the process (one thread), so that other jobs on the machine do not lower the figure. */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "env.h"
#include "util.h"

#define BENCH_COPIES 64
#define BENCH_ACTION_ROWS 1024 /* distinct action vectors cycled through */

static const char *const bench_envs[] = {
    "tabular_dense",   "tabular_sparse",      "tabular_long_horizon", "tabular_longer",
    "tabular_long_dense", "random_dense",     "random_long_horizon",  "random_small",
    "random_sparse",   "random_very_dense",   "chain_short",          "chain_short_noisy",
    "chain_long",      "chain_long_noisy",    "chain_distraction",
    "minatar/breakout", "minatar/asterix",    "minatar/freeway",      "minatar/seaquest",
    "minatar/space_invaders",
};

static void fill_actions(int32_t *actions, int count, int num_actions)
{
    Rng rng;
    rng_seed(&rng, 1, 2);
    for (int k = 0; k < count; k++)
        actions[k] = (int32_t)rng_below(&rng, (uint32_t)num_actions);
}

static double run_steps(EnvBatch *batch, const int32_t *actions, long steps)
{
    double start = bench_cpu_seconds();
    for (long t = 0; t < steps; t++)
        env_batch_step(batch, actions + (t % BENCH_ACTION_ROWS) * BENCH_COPIES);
    return bench_cpu_seconds() - start;
}

/* Copy-steps per second on one environment file, timed over about half a second. */
static double steps_per_second(const char *name)
{
    char path[LPG_PATH_MAX];
    snprintf(path, sizeof path, "configs/envs/%s.json", name);
    EnvSpec spec;
    EnvBatch batch;
    if (env_load(path, &spec) || env_batch_init(&batch, &spec, BENCH_COPIES, 7))
        return 0;
    int32_t *actions = malloc(sizeof *actions * BENCH_COPIES * BENCH_ACTION_ROWS);
    if (!actions) {
        env_batch_free(&batch);
        return 0;
    }
    fill_actions(actions, BENCH_COPIES * BENCH_ACTION_ROWS, spec.num_actions);
    long steps = 1000;
    double seconds = run_steps(&batch, actions, steps);
    while (seconds < 0.05) {
        steps *= 4;
        seconds = run_steps(&batch, actions, steps);
    }
    steps = (long)((double)steps * 0.5 / seconds) + 1;
    seconds = run_steps(&batch, actions, steps);
    free(actions);
    env_batch_free(&batch);
    return (double)steps * BENCH_COPIES / seconds;
}

BENCH(env_step)
{
    for (size_t k = 0; k < sizeof bench_envs / sizeof bench_envs[0]; k++) {
        char what[128];
        snprintf(what, sizeof what, "%s, %d copies, random actions", bench_envs[k], BENCH_COPIES);
        if (bench_row_wanted(what))
            bench_row(what, steps_per_second(bench_envs[k]), "steps/s (CPU time)");
    }
}
