/* test_exact_sum.c: exact, order-independent sums (exact_sum.h): cancellation a rounded sum
 * loses, ties to even, subnormals, overflow, refusal of NaN, agreement with a sum that is exact
 * in a wider type, and the same bits for any order and any grouping into merged accumulators,
 * for float and for double. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "exact_sum.h"
#include "rng.h"
#include "test.h"

static float sum_floats(const float *x, int n)
{
    int64_t acc[EXACT_SUM_FLOAT_LIMBS] = {0};
    for (int i = 0; i < n; i++)
        exact_sum_add_float(acc, x[i]);
    return exact_sum_round_float(acc);
}

static double sum_doubles(const double *x, int n)
{
    int64_t acc[EXACT_SUM_DOUBLE_LIMBS] = {0};
    for (int i = 0; i < n; i++)
        exact_sum_add_double(acc, x[i]);
    return exact_sum_round_double(acc);
}

static int same_float(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }
static int same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

TEST(exact_sum_keeps_what_rounding_loses)
{
    const float cancel[3] = {1e30f, 1, -1e30f}; /* in float, 1e30 + 1 is 1e30 */
    CHECK(same_float(sum_floats(cancel, 3), 1));
    const double dcancel[4] = {1e300, 3, -1e300, 0.5};
    CHECK(same_double(sum_doubles(dcancel, 4), 3.5));
    /* Ties go to the even neighbour; anything beyond the tie rounds up. */
    const float tie[2] = {1, 0x1p-24f}; /* halfway between 1 and 1 + 2^-23 */
    CHECK(same_float(sum_floats(tie, 2), 1));
    const float odd_tie[2] = {1 + 0x1p-23f, 0x1p-24f}; /* halfway, the lower one is odd */
    CHECK(same_float(sum_floats(odd_tie, 2), 1 + 0x1p-22f));
    const float past_tie[3] = {1, 0x1p-24f, 0x1p-100f};
    CHECK(same_float(sum_floats(past_tie, 3), 1 + 0x1p-23f));
    const double dtie[3] = {1, 0x1p-53, 0x1p-1000};
    CHECK(same_double(sum_doubles(dtie, 3), 1 + 0x1p-52));
    /* Negative sums, and a sum of opposite terms is +0. */
    const float neg[3] = {-2.5f, 0.25f, -1e-3f};
    CHECK(same_float(sum_floats(neg, 3), (float)(-2.5 + 0.25 + (double)-1e-3f)));
    const float zero[4] = {-0.0f, 3, -3, -0.0f};
    CHECK(same_float(sum_floats(zero, 4), 0.0f));
}

TEST(exact_sum_covers_subnormals_and_overflows_to_infinity)
{
    const float tiny[3] = {0x1p-149f, 0x1p-149f, 0x1p-140f};
    CHECK(same_float(sum_floats(tiny, 3), 0x1p-148f + 0x1p-140f));
    const double dtiny[2] = {0x1p-1074, -0x1p-1074 * 3};
    CHECK(same_double(sum_doubles(dtiny, 2), -0x1p-1073));
    const float big[2] = {FLT_MAX, FLT_MAX};
    CHECK(isinf(sum_floats(big, 2)) && sum_floats(big, 2) > 0);
    const float nbig[2] = {-FLT_MAX, -FLT_MAX};
    CHECK(isinf(sum_floats(nbig, 2)) && sum_floats(nbig, 2) < 0);
    /* FLT_MAX plus half its last place ties; FLT_MAX is odd, so it rounds up: infinity. */
    const float edge[2] = {FLT_MAX, 0x1p103f};
    CHECK(isinf(sum_floats(edge, 2)));
    const float back[3] = {FLT_MAX, FLT_MAX, -FLT_MAX}; /* beyond the range on the way */
    CHECK(same_float(sum_floats(back, 3), FLT_MAX));
    const double dbig[3] = {DBL_MAX, DBL_MAX, -DBL_MAX};
    CHECK(same_double(sum_doubles(dbig, 3), DBL_MAX));
    int64_t acc[EXACT_SUM_FLOAT_LIMBS] = {0};
    CHECK_INT(exact_sum_add_float(acc, NAN), -1);
    CHECK_INT(exact_sum_add_float(acc, -INFINITY), -1);
    CHECK_INT(exact_sum_add_float(acc, 2), 0);
    CHECK(same_float(exact_sum_round_float(acc), 2));
}

/* Floats with exponents in [-8, 8]: their sum in double is exact (49 bits), so rounding it
 * once to float is the correctly rounded sum. */
TEST(exact_sum_matches_a_sum_exact_in_double)
{
    Rng rng;
    rng_seed(&rng, 3, 0);
    float x[256];
    for (int trial = 0; trial < 20; trial++) {
        double exact = 0;
        for (int i = 0; i < 256; i++) {
            double u = rng_uniform(&rng) * 2 - 1;
            x[i] = (float)ldexp(u, (int)(rng_u32(&rng) % 17) - 8);
            exact += x[i];
        }
        CHECK(same_float(sum_floats(x, 256), (float)exact));
    }
}

/* Terms over the whole range, summed forwards, backwards and in three merged groups. */
TEST(exact_sum_is_the_same_in_any_order_and_grouping)
{
    Rng rng;
    rng_seed(&rng, 4, 0);
    enum { N = 300 };
    float x[N];
    double d[N];
    for (int i = 0; i < N; i++) {
        x[i] = (float)ldexp(rng_uniform(&rng) * 2 - 1, (int)(rng_u32(&rng) % 240) - 140);
        d[i] = ldexp(rng_uniform_double(&rng) * 2 - 1, (int)(rng_u32(&rng) % 2000) - 1000);
    }
    int64_t forward[EXACT_SUM_FLOAT_LIMBS] = {0}, backward[EXACT_SUM_FLOAT_LIMBS] = {0};
    int64_t group[3][EXACT_SUM_FLOAT_LIMBS] = {{0}};
    int64_t dforward[EXACT_SUM_DOUBLE_LIMBS] = {0}, dgroup[3][EXACT_SUM_DOUBLE_LIMBS] = {{0}};
    float rounded_forward = 0, rounded_backward = 0;
    for (int i = 0; i < N; i++) {
        exact_sum_add_float(forward, x[i]);
        exact_sum_add_float(backward, x[N - 1 - i]);
        exact_sum_add_float(group[i % 3], x[i]);
        exact_sum_add_double(dforward, d[i]);
        exact_sum_add_double(dgroup[(i * 7) % 3], d[i]);
        rounded_forward += x[i];
        rounded_backward += x[N - 1 - i];
    }
    exact_sum_merge(group[2], group[0], EXACT_SUM_FLOAT_LIMBS);
    exact_sum_merge(group[2], group[1], EXACT_SUM_FLOAT_LIMBS);
    exact_sum_merge(dgroup[1], dgroup[2], EXACT_SUM_DOUBLE_LIMBS);
    exact_sum_merge(dgroup[1], dgroup[0], EXACT_SUM_DOUBLE_LIMBS);
    CHECK(memcmp(forward, group[2], sizeof forward) == 0);
    CHECK(same_float(exact_sum_round_float(forward), exact_sum_round_float(backward)));
    CHECK(same_double(exact_sum_round_double(dforward), exact_sum_round_double(dgroup[1])));
    /* The rounded running sums do depend on the order here (the point of all this). */
    CHECK(!same_float(rounded_forward, rounded_backward));
}
