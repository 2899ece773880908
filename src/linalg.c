/* linalg.c: row-major products, bias broadcast and bias gradients (see linalg.h). */
#include "linalg.h"

#include <math.h>
#include <string.h>

void matmul(real *c, const real *a, const real *b, int m, int n, int k, int trans_a, int trans_b,
            real beta)
{
    real_gemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, m, n, k, (real)1, a, trans_a ? m : k, b,
              trans_b ? k : n, beta, c, n);
}

/* Adds bias [cols] to every row of out [rows x cols]. */
static void add_rows(real *out, const real *bias, int rows, int cols)
{
    for (int r = 0; r < rows; r++) {
        real *row = out + (size_t)r * cols;
        for (int j = 0; j < cols; j++)
            row[j] += bias[j];
    }
}

/* The product first, then the bias: the same sum as gemm onto rows preset to the bias (a + b
 * is b + a), without a copy per row. */
void linear_forward(real *out, const real *in, const real *w, const real *bias, int rows,
                    int n_in, int n_out)
{
    matmul(out, in, w, rows, n_out, n_in, 0, 0, 0);
    add_rows(out, bias, rows, n_out);
}

void add_column_sums(real *dbias, const real *dout, int rows, int cols)
{
    for (int r = 0; r < rows; r++) {
        const real *row = dout + (size_t)r * cols;
        for (int j = 0; j < cols; j++)
            dbias[j] += row[j];
    }
}

int all_finite(const real *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}
