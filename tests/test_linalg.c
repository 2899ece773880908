/* test_linalg.c: the matrix product helpers against plain loops, with the OpenBLAS kernels the
 * product selects (test_main.c calls blas_cpu_fix as main.c does), at odd sizes and with every
 * transpose, so that a kernel that computes wrong results on this CPU fails the suite. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#include "linalg.h"
#include "rng.h"
#include "test.h"

/* c [m x n] = op(a) op(b) + beta c by loops, op(a) [m x k] (stored [k x m] when trans_a). */
static void naive_matmul(double *c, const real *a, const real *b, int m, int n, int k,
                         int trans_a, int trans_b, double beta)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double sum = 0;
            for (int l = 0; l < k; l++) {
                double x = trans_a ? a[(size_t)l * m + i] : a[(size_t)i * k + l];
                double y = trans_b ? b[(size_t)j * k + l] : b[(size_t)l * n + j];
                sum += x * y;
            }
            c[(size_t)i * n + j] = sum + beta * c[(size_t)i * n + j];
        }
}

static void fill_random(real *x, size_t count, Rng *rng)
{
    for (size_t i = 0; i < count; i++)
        x[i] = (real)(2 * rng_uniform(rng) - 1);
}

TEST(matmul_matches_loops_at_odd_sizes_and_transposes)
{
    const int sizes[][3] = {{1, 1, 1}, {3, 5, 7}, {17, 33, 9}, {64, 128, 38}, {130, 31, 67}};
    Rng rng;
    rng_seed(&rng, 7, 0);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int t = 0; t < 4; t++) {
            int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
            int trans_a = t & 1, trans_b = (t >> 1) & 1;
            real *a = malloc((size_t)m * k * sizeof(real)), *b = malloc((size_t)k * n * sizeof(real));
            real *c = malloc((size_t)m * n * sizeof(real));
            double *expect = malloc((size_t)m * n * sizeof(double));
            REQUIRE(a && b && c && expect);
            fill_random(a, (size_t)m * k, &rng);
            fill_random(b, (size_t)k * n, &rng);
            fill_random(c, (size_t)m * n, &rng);
            for (size_t i = 0; i < (size_t)m * n; i++)
                expect[i] = c[i];
            naive_matmul(expect, a, b, m, n, k, trans_a, trans_b, 0.5);
            matmul(c, a, b, m, n, k, trans_a, trans_b, (real)0.5);
            double worst = 0;
            for (size_t i = 0; i < (size_t)m * n; i++)
                worst = fmax(worst, fabs(c[i] - expect[i]));
            /* k products of numbers in [-1, 1]: round-off grows with k */
            CHECK(worst <= TOL_ROUND * k);
            free(a), free(b), free(c), free(expect);
        }
}
