/* bench_blas.c: what OpenBLAS sgemm reaches on this machine at the sizes lpg uses, as the
 * yardstick for the FLOP counts of the learning code. */
#include <stdio.h>
#include <stdlib.h>
#include <cblas.h>

#include "bench.h"
#include "util.h"

/* C [m x n] = op(A) op(B) + beta C, row-major, as linalg.c's matmul calls it. */
static double sgemm_op_gflops(int m, int n, int k, int trans_a, int trans_b, float beta)
{
    float *a = calloc((size_t)m * k, sizeof(float));
    float *b = calloc((size_t)k * n, sizeof(float));
    float *c = calloc((size_t)m * n, sizeof(float));
    for (int i = 0; i < m * k; i++)
        a[i] = 0.001f * (float)(i % 97);
    for (int i = 0; i < k * n; i++)
        b[i] = 0.002f * (float)(i % 89);
    double flops_per = 2.0 * m * n * k;
    long reps = (long)(2e8 / flops_per) + 1;
    double t0 = now_seconds();
    for (long r = 0; r < reps; r++)
        cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                    trans_b ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a, trans_a ? m : k, b,
                    trans_b ? k : n, beta, c, n);
    double dt = now_seconds() - t0;
    free(a);
    free(b);
    free(c);
    return flops_per * (double)reps / dt * 1e-9;
}

static double sgemm_gflops(int m, int n, int k) { return sgemm_op_gflops(m, n, k, 0, 0, 0.0f); }

BENCH(blas_sgemm)
{
    bench_row("sgemm 64x256x64 (batch x 4*hidden x hidden)", sgemm_gflops(64, 256, 64), "GFLOP/s");
    bench_row("sgemm 64x32x484 (batch x hidden x random-grid obs)", sgemm_gflops(64, 32, 484), "GFLOP/s");
    bench_row("sgemm 1280x256x64 (20 steps x 64 copies)", sgemm_gflops(1280, 256, 64), "GFLOP/s");
    bench_row("sgemm 512x512x512 (peak)", sgemm_gflops(512, 512, 512), "GFLOP/s");
}

/* The rule's products in configs/general_adam.json (32 copies: 32 rows per LSTM step; 640 = 20
 * steps x 32 copies summed in the weight gradients), one lifetime's against 30 lifetimes' stacked
 * into one product (rows for the forward products, the summed dimension for the weight
 * gradients): what running the lifetimes of a thread in lockstep would give each product. */
BENCH(blas_lockstep)
{
    static const struct {
        const char *what;
        int m, n, k, trans_a, trans_b, beta, stack_k;
    } shapes[] = {
        {"LSTM h W_h 32x128x32", 32, 128, 32, 0, 0, 1, 0},
        {"LSTM dG W_h^T 32x32x128", 32, 32, 128, 0, 1, 0, 0},
        {"LSTM dW_h 32x128x640 (T)", 32, 128, 640, 1, 0, 1, 1},
        {"LSTM x W_x 640x128x6", 640, 128, 6, 0, 0, 0, 0},
        {"phi 640x16x30", 640, 16, 30, 0, 0, 0, 0},
    };
    const int lifetimes = 30;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        int m = shapes[i].m, n = shapes[i].n, k = shapes[i].k;
        int ta = shapes[i].trans_a, tb = shapes[i].trans_b;
        float beta = (float)shapes[i].beta;
        char what[160];
        snprintf(what, sizeof what, "%s, 1 lifetime", shapes[i].what);
        bench_row(what, sgemm_op_gflops(m, n, k, ta, tb, beta), "GFLOP/s");
        snprintf(what, sizeof what, "%s, %d stacked", shapes[i].what, lifetimes);
        bench_row(what, shapes[i].stack_k ? sgemm_op_gflops(m, n, k * lifetimes, ta, tb, beta)
                                          : sgemm_op_gflops(m * lifetimes, n, k, ta, tb, beta),
                  "GFLOP/s");
    }
}
