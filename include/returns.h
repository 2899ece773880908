/* returns.h: targets for value learning and advantages over an unrolled batch.
 * Layout: time-major arrays [T x n] (index t * n + i: step t of copy i). done[t*n+i] = 1 when the
 * step t ended copy i's episode; then nothing after t is added into step t's target. bootstrap[i]
 * is the value estimate of the observation after the last step (ignored where done at T-1). */
#ifndef LPG_RETURNS_H
#define LPG_RETURNS_H

#include <stdint.h>
#include "real.h"

/* n-step (here: the whole unroll) discounted returns: G_t = r_t + γ (1 - d_t) G_{t+1}, with
 * G_T = bootstrap. Writes returns [T x n]. */
void returns_discounted(const real *reward, const uint8_t *done, const real *bootstrap, int T,
                        int n, real gamma, real *returns);

/* Generalised advantage estimation: δ_t = r_t + γ (1 - d_t) V_{t+1} - V_t, A_t = δ_t + γ λ
 * (1 - d_t) A_{t+1}. value [T x n] are V(s_t); writes advantage [T x n] and, when targets is not
 * NULL, the λ-returns A_t + V_t [T x n]. */
void returns_gae(const real *reward, const uint8_t *done, const real *value, const real *bootstrap,
                 int T, int n, real gamma, real lambda, real *advantage, real *targets);

#endif
