/* real.h: the floating-point type of the learning code. All matrices are row-major.
 * The product binary is built with real = float (OpenBLAS sgemm in the hot loops); build/lpg-double
 * and the double unit-test builds compile the same sources with -DLPG_DOUBLE so that finite
 * differences are meaningful. The unit suite also runs in float (build/float-test/test_lpg). */
#ifndef LPG_REAL_H
#define LPG_REAL_H

#include <math.h>
#include <cblas.h>

#ifdef LPG_DOUBLE
typedef double real;
#define REAL_NAME "double"
#define real_gemm cblas_dgemm
#define real_gemv cblas_dgemv
#define real_exp exp
#define real_log log
#define real_sqrt sqrt
#define real_tanh tanh
#define real_fabs fabs
#else
typedef float real;
#define REAL_NAME "float"
#define real_gemm cblas_sgemm
#define real_gemv cblas_sgemv
#define real_exp expf
#define real_log logf
#define real_sqrt sqrtf
#define real_tanh tanhf
#define real_fabs fabsf
#endif

#endif
