/* softmax.h: softmax, log-softmax and entropy over one row of n logits, with the derivatives the
 * agent's losses and the meta-objective need. All are numerically stable (the row's maximum is
 * subtracted before exponentiating) and allocate nothing; outputs may not alias inputs unless a
 * function says so. */
#ifndef LPG_SOFTMAX_H
#define LPG_SOFTMAX_H

#include "real.h"

/* p = softmax(x) over x[0..n). p may equal x (in place). */
void softmax_row(const real *x, int n, real *p);

/* As softmax_row, and returns log Σ_j exp(x_j) (one exp per entry for both). p may equal x. */
real softmax_row_lse(const real *x, int n, real *p);

/* log_p = log softmax(x) over x[0..n). log_p may equal x (in place). */
void log_softmax_row(const real *x, int n, real *log_p);

/* log Σ_j exp(x_j), computed stably. */
real log_sum_exp_row(const real *x, int n);

/* H(softmax(x)) = -Σ_j p_j log p_j. */
real entropy_row(const real *x, int n);

/* Adds scale * ∂H(softmax(x))/∂x = -scale * p ⊙ (log p + H) to dx[0..n). */
void entropy_row_backward(const real *x, int n, real scale, real *dx);

/* As entropy_row and entropy_row_backward (given h = H) for a row whose softmax p and
 * log-sum-exp lse are known: no exponentials. */
real entropy_of(const real *x, const real *p, real lse, int n);
void entropy_backward_of(const real *x, const real *p, real lse, real h, int n, real scale,
                         real *dx);

/* The tangent of p = softmax(x) along dx: dp = p ⊙ (dx - p·dx). Writes dp[0..n). */
void softmax_row_tangent(const real *x, const real *dx, int n, real *dp);

#endif
