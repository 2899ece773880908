/* bench_rule.c: forward + backward of the update rule η on a meta-training batch (32 or 64
 * trajectories of 20 steps) at widths 32 (the configs'), 64 and 256 (the paper's): the rate of
 * its matrix products' FLOPs against what sgemm alone reaches on the same shapes, in the same
 * run. The rule's figure includes all its pointwise work (gates, softmax, φ), so the ratio says
 * how close the whole pass comes to its products run bare. */
#include <stdio.h>
#include <stdlib.h>
#include <cblas.h>

#include "bench.h"
#include "rule.h"
#include "util.h"

/* The matrix products of one rule forward + backward pass on n trajectories of t_len steps, as
 * sgemm shapes m x n x k with a repeat count, mirroring rule.c (the π head's products are
 * [rows x H] times a vector, counted as k = H, n = 1). */
typedef struct {
    int m, n, k, repeat;
} GemmShape;

static int rule_gemm_shapes(GemmShape *s, int n, int t_len, int hidden)
{
    int rows = n * t_len, g = 4 * hidden, y = RULE_Y_DIM, ph = RULE_PHI_HIDDEN, x = RULE_X_DIM;
    GemmShape list[] = {
        {rows, ph, y, 2},      {rows, g, x, 1},     {n, g, hidden, t_len - 1}, /* φ, x, recurrence */
        {rows, y, hidden, 1},  {rows, 1, hidden, 1},                          /* heads */
        {hidden, y, rows, 1},  {rows, hidden, y, 1}, {hidden, 1, rows, 1},     /* heads backward */
        {x, g, rows, 1},       {hidden, g, rows, 1}, {rows, x, g, 1},          /* dWx, dWh, dx */
        {n, hidden, g, t_len - 1},                                             /* dh carried */
        {y, ph, rows, 2},                                                      /* dW1 of φ */
    };
    int count = (int)(sizeof list / sizeof list[0]);
    for (int i = 0; i < count; i++)
        s[i] = list[i];
    return count;
}

static double shapes_flops(const GemmShape *s, int count)
{
    double flops = 0;
    for (int i = 0; i < count; i++)
        flops += 2.0 * s[i].m * s[i].n * s[i].k * s[i].repeat;
    return flops;
}

/* What sgemm alone reaches on the shapes of one pass, run back to back (GFLOP/s). */
static double sgemm_on_shapes(const GemmShape *s, int count)
{
    size_t most = 1;
    for (int i = 0; i < count; i++) {
        size_t a = (size_t)s[i].m * s[i].k, b = (size_t)s[i].k * s[i].n, c = (size_t)s[i].m * s[i].n;
        most = a > most ? a : most;
        most = b > most ? b : most;
        most = c > most ? c : most;
    }
    float *a = calloc(most, sizeof(float)), *b = calloc(most, sizeof(float));
    float *c = calloc(most, sizeof(float));
    for (size_t i = 0; i < most; i++)
        a[i] = 0.001f * (float)(i % 97), b[i] = 0.002f * (float)(i % 89);
    long reps = 0;
    double t0 = now_seconds(), elapsed = 0;
    while (elapsed < 1.0 || reps < 10) {
        for (int i = 0; i < count; i++)
            for (int r = 0; r < s[i].repeat; r++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s[i].m, s[i].n, s[i].k, 1.0f,
                            a, s[i].k, b, s[i].n, 1.0f, c, s[i].n);
        reps++;
        elapsed = now_seconds() - t0;
    }
    free(a);
    free(b);
    free(c);
    return shapes_flops(s, count) * reps / elapsed * 1e-9;
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
    RuleInput in = {.reward = reward, .done = done, .gamma = gamma, .pi_taken = pi, .y = y, .y_next = y};
    RuleWork *work = rule_work_create(&layout, n, t_len);

    long reps = 0;
    double t0 = now_seconds(), elapsed = 0;
    while (elapsed < 1.0 || reps < 10) {
        rule_forward(work, eta, &layout, &in, n, t_len);
        rule_backward(work, d_eta, eta, &layout, dpi, dy, NULL);
        reps++;
        elapsed = now_seconds() - t0;
    }
    GemmShape shapes[16];
    int count = rule_gemm_shapes(shapes, n, t_len, hidden);
    double rule_rate = shapes_flops(shapes, count) * reps / elapsed * 1e-9;
    double sgemm_rate = sgemm_on_shapes(shapes, count);
    char what[128];
    snprintf(what, sizeof what, "rule fwd+bwd N=%d T=%d H=%d: trajectories", n, t_len, hidden);
    bench_row(what, reps * (double)n / elapsed, "traj/s");
    snprintf(what, sizeof what, "rule fwd+bwd N=%d T=%d H=%d: one batch", n, t_len, hidden);
    bench_row(what, elapsed / reps * 1e6, "us");
    snprintf(what, sizeof what, "rule fwd+bwd N=%d T=%d H=%d: its matrix products' FLOPs", n, t_len,
             hidden);
    bench_row(what, rule_rate, "GFLOP/s");
    snprintf(what, sizeof what, "  sgemm alone on the same shapes, same run");
    bench_row(what, sgemm_rate, "GFLOP/s");
    snprintf(what, sizeof what, "  rule / sgemm");
    bench_row(what, 100 * rule_rate / sgemm_rate, "%");

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
    bench_width(32, 20, 32); /* one lifetime of configs/grid.json and all.json */
    bench_width(64, 20, 64);
    bench_width(64, 20, 256);
}
