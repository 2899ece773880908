/* bench_rule.c: forward + backward of the update rule η on a meta-training batch (64 trajectories
 * of 20 steps), at the CPU width (H = 64) and the full-size width (H = 256). */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "rule.h"
#include "util.h"

/* FLOPs of the matrix products of one forward + backward pass (2mnk each); the pointwise work
 * (gates, softmax) is left out, so the figure is comparable with the sgemm yardstick. */
static double rule_matmul_flops(int n, int t_len, int hidden)
{
    double rows = (double)n * t_len, h = hidden, gates = 4.0 * hidden;
    double steps_with_state = (double)n * (t_len - 1);
    double phi = 2 * (2 * rows * RULE_Y_DIM * RULE_PHI_HIDDEN + 2 * rows * RULE_PHI_HIDDEN);
    double lstm = 2 * rows * RULE_X_DIM * gates + 2 * steps_with_state * h * gates;
    double heads = 2 * rows * h * (1 + RULE_Y_DIM);
    double forward = phi + lstm + heads;
    double backward = 2 * phi                               /* dW1, dw2 (and dhidden) */
                      + 2 * (2 * rows * RULE_X_DIM * gates) /* dWx, dx */
                      + 2 * rows * h * gates                /* dWh */
                      + 2 * steps_with_state * gates * h    /* dh into the entering state */
                      + 2 * heads;                          /* head weights and dh */
    return forward + backward;
}

static void bench_width(int n, int t_len, int hidden)
{
    RuleLayout layout;
    rule_layout(&layout, hidden);
    size_t rows = (size_t)n * t_len;
    Rng rng;
    rng_seed(&rng, 1, 0);
    real *eta = malloc(layout.count * sizeof(real));
    real *d_eta = calloc(layout.count, sizeof(real));
    real *reward = malloc(rows * sizeof(real)), *pi = malloc(rows * sizeof(real));
    real *gamma = malloc((size_t)n * sizeof(real));
    real *y = malloc(rows * RULE_Y_DIM * sizeof(real));
    real *dpi = malloc(rows * sizeof(real)), *dy = malloc(rows * RULE_Y_DIM * sizeof(real));
    uint8_t *done = malloc(rows);
    rule_init(eta, &layout, &rng);
    for (size_t r = 0; r < rows; r++) {
        reward[r] = rng_uniform(&rng) < 0.1f ? 1.0f : 0.0f;
        pi[r] = 0.1f + 0.8f * rng_uniform(&rng);
        done[r] = rng_uniform(&rng) < 0.05f;
        dpi[r] = rng_uniform(&rng) - 0.5f;
        for (int j = 0; j < RULE_Y_DIM; j++) {
            y[r * RULE_Y_DIM + j] = 1.0f / RULE_Y_DIM;
            dy[r * RULE_Y_DIM + j] = rng_uniform(&rng) - 0.5f;
        }
    }
    for (int i = 0; i < n; i++)
        gamma[i] = 0.99f;
    /* y' of a step is y of the next one; the last step reuses its own. */
    RuleInput in = {reward, done, gamma, pi, y, y};
    RuleWork *work = rule_work_create(&layout, n, t_len);

    long reps = 0;
    double t0 = now_seconds(), elapsed = 0;
    while (elapsed < 1.0 || reps < 10) {
        rule_forward(work, eta, &layout, &in, n, t_len);
        rule_backward(work, d_eta, eta, &layout, dpi, dy, NULL);
        reps++;
        elapsed = now_seconds() - t0;
    }
    char what[128];
    snprintf(what, sizeof what, "rule fwd+bwd N=%d T=%d H=%d: trajectories", n, t_len, hidden);
    bench_row(what, reps * (double)n / elapsed, "traj/s");
    snprintf(what, sizeof what, "rule fwd+bwd N=%d T=%d H=%d: one batch", n, t_len, hidden);
    bench_row(what, elapsed / reps * 1e6, "us");
    snprintf(what, sizeof what, "rule fwd+bwd N=%d T=%d H=%d: matrix products", n, t_len, hidden);
    bench_row(what, rule_matmul_flops(n, t_len, hidden) * reps / elapsed * 1e-9, "GFLOP/s");

    rule_work_free(work);
    free(eta);
    free(d_eta);
    free(reward);
    free(pi);
    free(gamma);
    free(y);
    free(dpi);
    free(dy);
    free(done);
}

BENCH(rule_forward_backward)
{
    bench_width(64, 20, 64);
    bench_width(64, 20, 256);
}
