/* test_rng.c: the generator is deterministic, streams differ, and draws have the right range. */
#include "rng.h"
#include "test.h"

TEST(rng_is_deterministic_per_seed_and_stream)
{
    Rng a, b, c;
    rng_seed(&a, 42, 1);
    rng_seed(&b, 42, 1);
    rng_seed(&c, 42, 2);
    int same = 0, differ = 0;
    for (int i = 0; i < 100; i++) {
        uint32_t x = rng_u32(&a), y = rng_u32(&b), z = rng_u32(&c);
        same += x == y;
        differ += x != z;
    }
    CHECK_INT(same, 100);
    CHECK(differ > 95);
}

TEST(rng_draws_lie_in_range_with_right_mean)
{
    Rng r;
    rng_seed(&r, 7, 0);
    double sum = 0, sum_normal = 0, sum_sq = 0;
    int counts[5] = {0};
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        float u = rng_uniform(&r);
        CHECK(u >= 0.0f && u < 1.0f);
        sum += u;
        uint32_t k = rng_below(&r, 5);
        CHECK(k < 5);
        counts[k < 5 ? k : 0]++;
        double z = rng_normal(&r);
        sum_normal += z;
        sum_sq += z * z;
    }
    CHECK_NEAR(sum / n, 0.5, 0.005);
    for (int k = 0; k < 5; k++)
        CHECK_NEAR(counts[k] / (double)n, 0.2, 0.005);
    CHECK_NEAR(sum_normal / n, 0.0, 0.01);
    CHECK_NEAR(sum_sq / n, 1.0, 0.02);
}
