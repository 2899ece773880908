/* vecmath.h: exp, log, tanh and the logistic sigmoid vectorised through glibc's libmvec.
 *
 * A loop marked `#pragma omp simd` (the build passes -fopenmp-simd, so no OpenMP runtime is
 * involved) that calls real_exp, real_log or real_tanh is compiled into calls of libmvec's
 * vector variants (_ZGVeN16v_expf and kin), because this header declares those functions with
 * GCC's simd attribute; glibc itself only does so under -ffast-math, which the project does not
 * use (it would give up IEEE semantics elsewhere). A kernel (VEC_KERNEL name_body) is compiled
 * three times by VEC_VERSIONS, for AVX-512, AVX2 and plain x86-64, and VEC_CALL runs the version
 * of vec_level: by default the widest the CPU runs (what GCC's target_clones would pick), or the
 * one LPG_VEC names (avx512f, avx2 or default; LPG_CPU sets it, see cpu_pin.h), so that a run
 * can be repeated on a CPU with other vector units.
 *
 * Numbers: libmvec's results are within a few ulp of libm's but not always equal to them, so a
 * vectorised loop may differ from the scalar one in the last bits, and the AVX-512 and AVX2
 * versions differ from each other (libmvec's 16-lane and 8-lane variants). They are a pure
 * function of the input and the version, so results stay the same for any thread count and
 * across resumes. Elsewhere (other compilers, other architectures) there is one version, the
 * plain scalar loops. */
#ifndef LPG_VECMATH_H
#define LPG_VECMATH_H

#include <stddef.h>

#include "real.h"

/* The versions of a kernel; vec_level says which one VEC_CALL runs. */
typedef enum { VEC_DEFAULT, VEC_AVX2, VEC_AVX512F } VecLevel;

/* Set before main (from the CPU and LPG_VEC) and never changed after. */
extern VecLevel vec_level;

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VEC_MULTIVERSION 1
#define VEC_SIMD_DECL __attribute__((simd("notinbranch")))
float expf(float) VEC_SIMD_DECL;
float logf(float) VEC_SIMD_DECL;
float tanhf(float) VEC_SIMD_DECL;
double exp(double) VEC_SIMD_DECL;
double log(double) VEC_SIMD_DECL;
double tanh(double) VEC_SIMD_DECL;
#define VEC_TARGET_avx512f __attribute__((target("avx512f")))
#define VEC_TARGET_avx2 __attribute__((target("avx2")))
#else
#define VEC_MULTIVERSION 0
#define VEC_TARGET_avx512f
#define VEC_TARGET_avx2
#endif

/* A kernel's body, inlined into each of its versions. */
#define VEC_KERNEL static inline __attribute__((always_inline))

/* Defines name_avx512f, name_avx2 and name_default (static, taking params) from the kernel
 * name_body, which each calls with args; VEC_VERSIONS_VOID for a kernel without a result. */
#define VEC_VERSIONS(type, name, params, args)                                                   \
    VEC_TARGET_avx512f static type name##_avx512f params { return name##_body args; }           \
    VEC_TARGET_avx2 static type name##_avx2 params { return name##_body args; }                 \
    static type name##_default params { return name##_body args; }
#define VEC_VERSIONS_VOID(name, params, args)                                                    \
    VEC_TARGET_avx512f static void name##_avx512f params { name##_body args; }                  \
    VEC_TARGET_avx2 static void name##_avx2 params { name##_body args; }                        \
    static void name##_default params { name##_body args; }

/* Calls the version of name that vec_level selects. */
#define VEC_CALL(name, args)                                                                     \
    (vec_level == VEC_AVX512F ? name##_avx512f args                                              \
     : vec_level == VEC_AVX2  ? name##_avx2 args                                                 \
                              : name##_default args)

/* The name of a level ("avx512f", "avx2", "default"). */
const char *vec_level_name(VecLevel level);

/* Checks LPG_VEC: unset, or a level this CPU runs. Returns 0, or -1 after reporting (then
 * vec_level is the CPU's widest, as without LPG_VEC). */
int vec_level_check(void);

/* 1 / (1 + e^-x); for x below about -88 (float) e^-x is +inf and the result is exactly 0. */
static inline real vec_sigmoid1(real x)
{
    return (real)1 / ((real)1 + real_exp(-x));
}

/* out[i] = e^x[i] for i < n. out may equal x. */
void vec_exp(real *out, const real *x, size_t n);

/* out[i] = tanh(x[i]) for i < n. out may equal x. */
void vec_tanh(real *out, const real *x, size_t n);

#endif
