/* exact_sum.c: order-independent exact sums in fixed-point limbs (see exact_sum.h). */
#include "exact_sum.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define LIMB_BITS 32
#define LIMB_MASK 0xffffffffULL

/* A floating-point format: significand bits (with the hidden one), the exponent of the smallest
 * subnormal (the accumulator's unit), the exponent that overflows, and the accumulator's
 * limbs. */
typedef struct {
    int digits, lowest, max_exp, limbs;
} Format;

static const Format float_format = {FLT_MANT_DIG, FLT_MIN_EXP - FLT_MANT_DIG, FLT_MAX_EXP,
                                    EXACT_SUM_FLOAT_LIMBS};
static const Format double_format = {DBL_MANT_DIG, DBL_MIN_EXP - DBL_MANT_DIG, DBL_MAX_EXP,
                                     EXACT_SUM_DOUBLE_LIMBS};

/* Adds sign * mag * 2^at smallest subnormals: less than 2^32 into each limb it touches. */
static void add_at(int64_t *acc, int negative, uint64_t mag, int at)
{
    int k = at / LIMB_BITS, shift = at % LIMB_BITS;
    int64_t sign = negative ? -1 : 1;
    acc[k] += sign * (int64_t)((mag << shift) & LIMB_MASK);
    for (mag >>= LIMB_BITS - shift, k++; mag; mag >>= LIMB_BITS, k++)
        acc[k] += sign * (int64_t)(mag & LIMB_MASK);
}

/* IEEE 754 binary32 and binary64 (what C's float and double are on every machine we build
 * for): sign, biased exponent, fraction. A normal number with biased exponent e is
 * (2^fraction_bits + fraction) * 2^(e - 1) smallest subnormals, a subnormal (e = 0) is
 * fraction of them, so both sit at e - 1 with e = 0 read as 1. */
int exact_sum_add_float(int64_t *acc, float x)
{
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    int e = (int)(bits >> 23 & 0xff);
    if (e == 0xff)
        return -1;
    uint64_t mag = (bits & 0x7fffff) | (e > 0 ? 0x800000 : 0);
    int at = e > 0 ? e - 1 : 0, k = at / LIMB_BITS;
    /* Without branches: 24 bits shifted by less than 32 fit two limbs (the top one is free). */
    uint64_t v = mag << (at % LIMB_BITS);
    int64_t negative = -(int64_t)(bits >> 31); /* 0 or -1 */
    acc[k] += ((int64_t)(v & LIMB_MASK) ^ negative) - negative;
    acc[k + 1] += ((int64_t)(v >> LIMB_BITS) ^ negative) - negative;
    return 0;
}

int exact_sum_add_double(int64_t *acc, double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int e = (int)(bits >> 52 & 0x7ff);
    uint64_t mag = bits & 0xfffffffffffffULL;
    if (e == 0x7ff)
        return -1;
    if (e > 0)
        mag |= 0x10000000000000ULL;
    if (mag)
        add_at(acc, (int)(bits >> 63), mag, e > 0 ? e - 1 : 0);
    return 0;
}

int64_t exact_sum_add_floats(int64_t *accs, const float *x, size_t n)
{
    int64_t refused = 0;
    for (size_t j = 0; j < n; j++)
        refused += exact_sum_add_float(accs + j * EXACT_SUM_FLOAT_LIMBS, x[j]) != 0;
    return refused;
}

int64_t exact_sum_add_doubles(int64_t *accs, const double *x, size_t n)
{
    int64_t refused = 0;
    for (size_t j = 0; j < n; j++)
        refused += exact_sum_add_double(accs + j * EXACT_SUM_DOUBLE_LIMBS, x[j]) != 0;
    return refused;
}

void exact_sum_merge(int64_t *a, const int64_t *b, int limbs)
{
    for (int k = 0; k < limbs; k++)
        a[k] += b[k];
}

/* Carries every limb but the top one into [0, 2^32); the top one keeps the sign. */
static void normalize(int64_t *v, int limbs)
{
    for (int k = 0; k + 1 < limbs; k++) {
        int64_t low = (int64_t)((uint64_t)v[k] & LIMB_MASK);
        v[k + 1] += (v[k] - low) / ((int64_t)1 << LIMB_BITS); /* an exact multiple */
        v[k] = low;
    }
}

static int bit(const int64_t *v, int i)
{
    return (int)(((uint64_t)v[i / LIMB_BITS] >> (i % LIMB_BITS)) & 1);
}

/* True when any bit below bit `below` is set. */
static int any_below(const int64_t *v, int below)
{
    for (int k = 0; k < below / LIMB_BITS; k++)
        if (v[k])
            return 1;
    uint64_t part = (uint64_t)v[below / LIMB_BITS] & ((1ULL << (below % LIMB_BITS)) - 1);
    return part != 0;
}

/* The magnitude v (normalized, non-negative), rounded to the format's digits, as a double. */
static double round_magnitude(const int64_t *v, const Format *f)
{
    int top = f->limbs - 1;
    while (top >= 0 && v[top] == 0)
        top--;
    if (top < 0)
        return 0;
    int high = top * LIMB_BITS + 63 - __builtin_clzll((uint64_t)v[top]); /* highest set bit */
    if (high < f->digits) { /* fits: exact */
        uint64_t mag = (uint64_t)v[0] | (top > 0 ? (uint64_t)v[1] << LIMB_BITS : 0);
        return ldexp((double)mag, f->lowest);
    }
    int shift = high - (f->digits - 1); /* the lowest bit kept */
    uint64_t q = 0;
    for (int i = f->digits - 1; i >= 0; i--)
        q = q << 1 | (uint64_t)bit(v, shift + i);
    if (bit(v, shift - 1) && ((q & 1) || any_below(v, shift - 1))) {
        q++;
        if (q >> f->digits) /* rounded up to the next power of two */
            q >>= 1, shift++;
    }
    if (shift + f->lowest + f->digits > f->max_exp) /* 2^max_exp or more */
        return INFINITY;
    return ldexp((double)q, shift + f->lowest);
}

/* The signed sum in acc, correctly rounded to the format, as a double (exact for float). */
static double round_sum(const int64_t *acc, const Format *f)
{
    int64_t v[EXACT_SUM_DOUBLE_LIMBS];
    memcpy(v, acc, (size_t)f->limbs * sizeof *v);
    normalize(v, f->limbs);
    int negative = v[f->limbs - 1] < 0; /* the limbs below are non-negative and smaller */
    if (negative) {
        for (int k = 0; k < f->limbs; k++)
            v[k] = -v[k];
        normalize(v, f->limbs);
    }
    double mag = round_magnitude(v, f);
    return negative ? -mag : mag;
}

float exact_sum_round_float(const int64_t *acc)
{
    double sum = round_sum(acc, &float_format);
    if (isinf(sum)) /* converting a double beyond float's range is undefined */
        return sum > 0 ? INFINITY : -INFINITY;
    return (float)sum; /* exact: already rounded to float's digits and range */
}

double exact_sum_round_double(const int64_t *acc) { return round_sum(acc, &double_format); }
