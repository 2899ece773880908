/* softmax.c: stable softmax, log-softmax and entropy of one row of logits, and their derivatives.
 * Every function subtracts the row maximum first, so no logit range overflows exp().
 *
 * Rows are short (a few actions, 30 prediction categories), too short for a vectorised loop of
 * unknown length: its scalar remainder would do most of the work. So the exponentials of a row
 * go through exp_block, which works in blocks of a fixed EXP_BLOCK lanes, the last block padded
 * with -inf (whose exponential, 0, adds nothing to the sum); see vecmath.h. */
#include "softmax.h"

#include <math.h>
#include <string.h>

#include "vecmath.h"

#define EXP_BLOCK 16

static real row_max(const real *x, int n)
{
    real m = x[0];
    for (int j = 1; j < n; j++)
        if (x[j] > m)
            m = x[j];
    return m;
}

/* Fills block [EXP_BLOCK] with e^(x[c + l] - shift) for the lanes l < len = min(n - c,
 * EXP_BLOCK) and 0 beyond (-inf goes in), and returns len. The exponentials run as whole
 * vectors, so an entry's value does not depend on where it sits in the row. */
static inline int exp_block(const real *x, int n, int c, real shift, real *block)
{
    int len = n - c < EXP_BLOCK ? n - c : EXP_BLOCK;
    for (int l = 0; l < EXP_BLOCK; l++)
        block[l] = l < len ? x[c + l] : -(real)INFINITY;
#pragma omp simd
    for (int l = 0; l < EXP_BLOCK; l++)
        block[l] = real_exp(block[l] - shift);
    return len;
}

/* Sums a block's EXP_BLOCK lanes as one vector reduction. */
static inline real block_sum(const real *block)
{
    real sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int l = 0; l < EXP_BLOCK; l++)
        sum += block[l];
    return sum;
}

/* Writes e[j] = e^(x[j] - shift) for j < n (e may be NULL) and returns their sum. */
VEC_KERNEL real exp_shifted_body(const real *x, int n, real shift, real *e)
{
    real sum = 0, block[EXP_BLOCK];
    for (int c = 0; c < n; c += EXP_BLOCK) {
        int len = exp_block(x, n, c, shift, block);
        sum += block_sum(block);
        if (e)
            memcpy(e + c, block, (size_t)len * sizeof(real));
    }
    return sum;
}
VEC_VERSIONS(real, exp_shifted, (const real *x, int n, real shift, real *e), (x, n, shift, e))

real log_sum_exp_row(const real *x, int n)
{
    real m = row_max(x, n);
    return m + real_log(VEC_CALL(exp_shifted, (x, n, m, NULL)));
}

/* Rows up to this long keep their exponentials in whole blocks on the stack. */
#define PADDED_ROW (4 * EXP_BLOCK)

/* As exp_shifted into e [n rounded up to whole blocks], block by block without copies. */
VEC_KERNEL real exp_shifted_padded_body(const real *x, int n, real shift, real *e)
{
    real sum = 0;
    for (int c = 0; c < n; c += EXP_BLOCK) {
        exp_block(x, n, c, shift, e + c);
        sum += block_sum(e + c);
    }
    return sum;
}
VEC_VERSIONS(real, exp_shifted_padded, (const real *x, int n, real shift, real *e),
             (x, n, shift, e))

real softmax_row_lse(const real *x, int n, real *p)
{
    real m = row_max(x, n), e[PADDED_ROW];
    real sum = n <= PADDED_ROW ? VEC_CALL(exp_shifted_padded, (x, n, m, e))
                               : VEC_CALL(exp_shifted, (x, n, m, p));
    real inv = 1 / sum;
    const real *from = n <= PADDED_ROW ? e : p;
    for (int j = 0; j < n; j++)
        p[j] = from[j] * inv;
    return m + real_log(sum);
}

void softmax_row(const real *x, int n, real *p)
{
    (void)softmax_row_lse(x, n, p);
}

void log_softmax_row(const real *x, int n, real *log_p)
{
    real lse = log_sum_exp_row(x, n);
    for (int j = 0; j < n; j++)
        log_p[j] = x[j] - lse;
}

real entropy_of(const real *x, const real *p, real lse, int n)
{
    real h = 0;
    for (int j = 0; j < n; j++)
        h -= p[j] * (x[j] - lse);
    return h;
}

void entropy_backward_of(const real *x, const real *p, real lse, real h, int n, real scale,
                         real *dx)
{
    for (int j = 0; j < n; j++)
        dx[j] -= scale * p[j] * (x[j] - lse + h);
}

/* H = -Σ p log p with p = e / sum, e = e^(x - max): one pass of exponentials. */
static real entropy_from(const real *x, int n, real *p, real *lse)
{
    *lse = softmax_row_lse(x, n, p);
    return entropy_of(x, p, *lse, n);
}

real entropy_row(const real *x, int n)
{
    real block[4 * EXP_BLOCK], lse;
    if (n > 4 * EXP_BLOCK) { /* a row longer than the stack buffer: the plain loop */
        real h = 0;
        lse = log_sum_exp_row(x, n);
        for (int j = 0; j < n; j++)
            h -= real_exp(x[j] - lse) * (x[j] - lse);
        return h;
    }
    return entropy_from(x, n, block, &lse);
}

void entropy_row_backward(const real *x, int n, real scale, real *dx)
{
    real p[4 * EXP_BLOCK], lse;
    if (n > 4 * EXP_BLOCK) {
        real h = entropy_row(x, n);
        lse = log_sum_exp_row(x, n);
        for (int j = 0; j < n; j++)
            dx[j] -= scale * real_exp(x[j] - lse) * (x[j] - lse + h);
        return;
    }
    real h = entropy_from(x, n, p, &lse);
    entropy_backward_of(x, p, lse, h, n, scale, dx);
}

void softmax_row_tangent(const real *x, const real *dx, int n, real *dp)
{
    softmax_row(x, n, dp);
    real dot = 0;
    for (int j = 0; j < n; j++)
        dot += dp[j] * dx[j];
    for (int j = 0; j < n; j++)
        dp[j] *= dx[j] - dot;
}
