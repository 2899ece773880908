/* bench_blas.c: what OpenBLAS sgemm reaches on this machine at the sizes lpg uses, as the
 * yardstick for the FLOP counts of the learning code. */
#include <stdlib.h>
#include <cblas.h>

#include "bench.h"
#include "util.h"

static double sgemm_gflops(int m, int n, int k)
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
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
    double dt = now_seconds() - t0;
    free(a);
    free(b);
    free(c);
    return flops_per * (double)reps / dt * 1e-9;
}

BENCH(blas_sgemm)
{
    bench_row("sgemm 64x256x64 (batch x 4*hidden x hidden)", sgemm_gflops(64, 256, 64), "GFLOP/s");
    bench_row("sgemm 64x32x484 (batch x hidden x random-grid obs)", sgemm_gflops(64, 32, 484), "GFLOP/s");
    bench_row("sgemm 1280x256x64 (20 steps x 64 copies)", sgemm_gflops(1280, 256, 64), "GFLOP/s");
    bench_row("sgemm 512x512x512 (peak)", sgemm_gflops(512, 512, 512), "GFLOP/s");
}
