/* vecmath.h: exp, log, tanh and the logistic sigmoid vectorised through glibc's libmvec.
 *
 * A loop marked `#pragma omp simd` (the build passes -fopenmp-simd, so no OpenMP runtime is
 * involved) that calls real_exp, real_log or real_tanh is compiled into calls of libmvec's
 * vector variants (_ZGVeN16v_expf and kin), because this header declares those functions with
 * GCC's simd attribute; glibc itself only does so under -ffast-math, which the project does not
 * use (it would give up IEEE semantics elsewhere). A function marked VEC_KERNEL is compiled three
 * times, for AVX-512, AVX2 and plain x86-64, and the loader picks the widest the CPU runs.
 *
 * Numbers: libmvec's results are within a few ulp of libm's but not always equal to them, so a
 * vectorised loop may differ from the scalar one in the last bits. They are a pure function of
 * the input on a given CPU, so results stay the same for any thread count and across resumes.
 * Elsewhere (other compilers, other architectures) the attributes vanish and the loops are the
 * plain scalar ones. */
#ifndef LPG_VECMATH_H
#define LPG_VECMATH_H

#include <stddef.h>

#include "real.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VEC_KERNEL __attribute__((target_clones("avx512f", "avx2", "default")))
#define VEC_SIMD_DECL __attribute__((simd("notinbranch")))
float expf(float) VEC_SIMD_DECL;
float logf(float) VEC_SIMD_DECL;
float tanhf(float) VEC_SIMD_DECL;
double exp(double) VEC_SIMD_DECL;
double log(double) VEC_SIMD_DECL;
double tanh(double) VEC_SIMD_DECL;
#else
#define VEC_KERNEL
#endif

/* 1 / (1 + e^-x); for x below about -88 (float) e^-x is +inf and the result is exactly 0. */
static inline real vec_sigmoid1(real x)
{
    return (real)1 / ((real)1 + real_exp(-x));
}

/* out[i] = e^x[i] for i < n. out may equal x. */
void vec_exp(real *out, const real *x, size_t n);

/* out[i] = tanh(x[i]) for i < n. out may equal x. */
void vec_tanh(real *out, const real *x, size_t n);

/* out[i] = 1 / (1 + e^-x[i]) for i < n. out may equal x. */
void vec_sigmoid(real *out, const real *x, size_t n);

#endif
