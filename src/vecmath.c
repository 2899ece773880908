/* vecmath.c: elementwise exp, tanh and sigmoid over arrays (see vecmath.h). */
#include "vecmath.h"

VEC_KERNEL void vec_exp(real *out, const real *x, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        out[i] = real_exp(x[i]);
}

VEC_KERNEL void vec_tanh(real *out, const real *x, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        out[i] = real_tanh(x[i]);
}

VEC_KERNEL void vec_sigmoid(real *out, const real *x, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        out[i] = vec_sigmoid1(x[i]);
}
