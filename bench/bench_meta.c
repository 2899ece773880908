/* bench_meta.c: meta-training speed on configs/grid.json (the five tabular grids, input_grad on
 * and off) and configs/all.json (tabular and MLP agents): meta-steps per second, environment
 * steps per second, and the rule's arithmetic in a meta-step counted from the sizes. */
#include <stdio.h>

#include "bench.h"
#include "meta_train.h"
#include "util.h"

/* FLOPs of one rule forward pass over rows = T * n steps (matrix products only). */
static double rule_forward_flops(double rows, double H)
{
    double lstm = 2.0 * rows * (RULE_X_DIM + H) * 4.0 * H;
    double phi = 2.0 * 2.0 * rows * (RULE_Y_DIM * RULE_PHI_HIDDEN + RULE_PHI_HIDDEN);
    double heads = 2.0 * rows * H * (1 + RULE_Y_DIM);
    return lstm + phi + heads;
}

static void bench_config(const char *config, const char *label, char *threads, char *input_grad)
{
    MetaRun run;
    char *over[] = {threads, "run_dir=build/bench_runs", input_grad};
    if (meta_run_init(&run, config, input_grad ? 3 : 2, over)) {
        meta_run_free(&run);
        return;
    }
    MetaStepStats st;
    meta_run_step(&run, &st); /* warm-up */
    int steps = 0;
    double env_steps = 0, t0 = now_seconds(), dt = 0;
    while (dt < 3.0) {
        if (meta_run_step(&run, &st))
            break;
        env_steps += (double)st.env_steps;
        steps++;
        dt = now_seconds() - t0;
    }
    const MetaConfig *c = &run.config;
    double rows = (double)c->unroll * c->copies;
    /* Per lifetime and window: K forwards while collecting, K forwards + backwards (about two
     * forwards' worth of products) in the meta-gradient. */
    double flops = (double)c->lifetimes * c->K * 4.0 * rule_forward_flops(rows, c->rule_hidden);
    char what[128];
    snprintf(what, sizeof what, "%s: meta-steps/s (%d lifetimes x %d copies)", label, c->lifetimes, c->copies);
    bench_row(what, steps / dt, "steps/s");
    snprintf(what, sizeof what, "%s: agent environment steps/s", label);
    bench_row(what, env_steps / dt, "steps/s");
    snprintf(what, sizeof what, "%s: rule FLOPs per meta-step (counted)", label);
    bench_row(what, flops, "FLOP");
    snprintf(what, sizeof what, "%s: rule arithmetic rate reached", label);
    bench_row(what, flops * steps / dt * 1e-9, "GFLOP/s");
    meta_run_free(&run);
}

BENCH(meta_train_grid)
{
    /* grid.json meta-trains through the rule's inputs; the stop-gradient row shows its cost. */
    const char *grid = "configs/grid.json";
    bench_config(grid, "grid.json, 1 thread, input_grad off", "threads=1", "input_grad=false");
    bench_config(grid, "grid.json, 1 thread", "threads=1", "input_grad=true");
    bench_config(grid, "grid.json, 2 threads", "threads=2", "input_grad=true");
}

BENCH(meta_train_all)
{
    /* all.json: 30 lifetimes over the fifteen toy variants, tabular and MLP agents. */
    bench_config("configs/all.json", "all.json, 1 thread", "threads=1", NULL);
    bench_config("configs/all.json", "all.json, 2 threads", "threads=2", NULL);
}
