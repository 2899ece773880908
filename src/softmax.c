/* softmax.c: stable softmax, log-softmax and entropy of one row of logits, and their derivatives.
 * Every function subtracts the row maximum first, so no logit range overflows exp(). */
#include "softmax.h"

static real row_max(const real *x, int n)
{
    real m = x[0];
    for (int j = 1; j < n; j++)
        if (x[j] > m)
            m = x[j];
    return m;
}

real log_sum_exp_row(const real *x, int n)
{
    real m = row_max(x, n);
    real sum = 0;
    for (int j = 0; j < n; j++)
        sum += real_exp(x[j] - m);
    return m + real_log(sum);
}

real softmax_row_lse(const real *x, int n, real *p)
{
    real m = row_max(x, n);
    real sum = 0;
    for (int j = 0; j < n; j++) {
        p[j] = real_exp(x[j] - m);
        sum += p[j];
    }
    real inv = 1 / sum;
    for (int j = 0; j < n; j++)
        p[j] *= inv;
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

real entropy_row(const real *x, int n)
{
    real lse = log_sum_exp_row(x, n);
    real h = 0;
    for (int j = 0; j < n; j++) {
        real log_p = x[j] - lse;
        h -= real_exp(log_p) * log_p;
    }
    return h;
}

void entropy_row_backward(const real *x, int n, real scale, real *dx)
{
    real lse = log_sum_exp_row(x, n);
    real h = entropy_row(x, n);
    for (int j = 0; j < n; j++) {
        real log_p = x[j] - lse;
        dx[j] -= scale * real_exp(log_p) * (log_p + h);
    }
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
