/* exact_sum.h: sums of floating-point numbers that do not depend on the order of the terms.
 *
 * Floating-point addition rounds at every step, so a sum depends on the order of its terms and
 * on how they are grouped: the meta-gradient summed over lifetimes split across threads or MPI
 * ranks would differ in its last bits from one split to another. Here each term is added
 * exactly into a fixed-point accumulator wide enough for the whole range of the type (every
 * finite value is an integer multiple of the smallest subnormal), and the total is rounded
 * once, to the nearest value with ties to even. Integer addition is associative, so the
 * accumulators of several groups (threads, or ranks through MPI_Allreduce with MPI_SUM on
 * int64) add to the same limbs in any order, and the rounded sum is the correctly rounded
 * exact sum, the same bits for any split.
 *
 * An accumulator is an array of int64 limbs, limb k weighing 2^(32k) smallest subnormals. A term
 * adds less than 2^32 to each of two limbs (three for a double), so 2^31 terms can be added,
 * or accumulators merged, before a limb could overflow. A float needs 10 limbs (80 bytes), a
 * double 67. NaN and infinities are not representable: the add functions refuse them. */
#ifndef LPG_EXACT_SUM_H
#define LPG_EXACT_SUM_H

#include <stddef.h>
#include <stdint.h>

#include "real.h"

#define EXACT_SUM_FLOAT_LIMBS 10  /* 2^-149 .. 2^128, and 31 bits of carries: 308 bits */
#define EXACT_SUM_DOUBLE_LIMBS 67 /* 2^-1074 .. 2^1024, and 31 bits of carries: 2129 bits */

/* Adds x exactly into acc. Return 0, or -1 (acc unchanged) when x is NaN or infinite. */
int exact_sum_add_float(int64_t *acc, float x);
int exact_sum_add_double(int64_t *acc, double x);

/* Adds x[j] into the accumulator accs + j * limbs, for j < n. Return how many x[j] were
 * refused (NaN or infinite). */
int64_t exact_sum_add_floats(int64_t *accs, const float *x, size_t n);
int64_t exact_sum_add_doubles(int64_t *accs, const double *x, size_t n);

/* The sum held in acc, rounded once to the nearest value (ties to even); +-infinity beyond
 * the type's range; +0 for an exact zero. */
float exact_sum_round_float(const int64_t *acc);
double exact_sum_round_double(const int64_t *acc);

/* Adds the accumulator b into a, limb by limb (what MPI_SUM on the limbs does). */
void exact_sum_merge(int64_t *a, const int64_t *b, int limbs);

/* The same for real, this build's type. */
#ifdef LPG_DOUBLE
#define EXACT_SUM_LIMBS EXACT_SUM_DOUBLE_LIMBS
#define exact_sum_add exact_sum_add_double
#define exact_sum_add_reals exact_sum_add_doubles
#define exact_sum_round exact_sum_round_double
#else
#define EXACT_SUM_LIMBS EXACT_SUM_FLOAT_LIMBS
#define exact_sum_add exact_sum_add_float
#define exact_sum_add_reals exact_sum_add_floats
#define exact_sum_round exact_sum_round_float
#endif

#endif
