/* linalg.h: the dense building blocks of the agent's MLP and the rule: row-major products
 * through real_gemm (OpenBLAS), bias broadcast, bias gradients, a finiteness check. Nothing
 * here allocates. */
#ifndef LPG_LINALG_H
#define LPG_LINALG_H

#include "real.h"

/* c [m x n] = op(a) op(b) + beta c, where op(a) is [m x k] and op(b) is [k x n]; a is stored as
 * [k x m] when trans_a, b as [n x k] when trans_b. */
void matmul(real *c, const real *a, const real *b, int m, int n, int k, int trans_a, int trans_b,
            real beta);

/* out [rows x n_out] = in [rows x n_in] w [n_in x n_out] + bias [n_out] (on every row). */
void linear_forward(real *out, const real *in, const real *w, const real *bias, int rows,
                    int n_in, int n_out);

/* dbias [cols] += the column sums of dout [rows x cols]. */
void add_column_sums(real *dbias, const real *dout, int rows, int cols);

/* True when every x[0..n) is finite. */
int all_finite(const real *x, size_t n);

#endif
