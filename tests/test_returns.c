/* test_returns.c: returns and GAE against hand-computed cases, with episode ends in the unroll. */
#include "returns.h"
#include "test.h"

TEST(returns_discounted_by_hand_with_episode_end)
{
    /* One copy, T = 4, γ = 0.5: rewards 1, 2, 3, 4, episode ends after step 1, bootstrap 10.
     * G3 = 4 + 0.5*10 = 9; G2 = 3 + 0.5*9 = 7.5; G1 = 2 (ends); G0 = 1 + 0.5*2 = 2. */
    real reward[4] = {1, 2, 3, 4}, boot[1] = {10}, out[4];
    uint8_t done[4] = {0, 1, 0, 0};
    returns_discounted(reward, done, boot, 4, 1, 0.5, out);
    CHECK_NEAR(out[0], 2.0, 1e-12);
    CHECK_NEAR(out[1], 2.0, 1e-12);
    CHECK_NEAR(out[2], 7.5, 1e-12);
    CHECK_NEAR(out[3], 9.0, 1e-12);
}

TEST(returns_discounted_time_major_two_copies)
{
    /* Two copies interleaved [t * n + i]; copy 1 ends at the last step, so its bootstrap is unused. */
    real reward[4] = {1, 5, 1, 7}, boot[2] = {2, 100}, out[4];
    uint8_t done[4] = {0, 0, 0, 1};
    returns_discounted(reward, done, boot, 2, 2, 0.9, out);
    /* 0.9 is not exact in either precision (float holds 0.89999998): a few roundings' error. */
    CHECK_CLOSE(out[2], 1 + 0.9 * 2, TOL_ROUND);
    CHECK_CLOSE(out[0], 1 + 0.9 * (1 + 0.9 * 2), TOL_ROUND);
    CHECK_NEAR(out[3], 7, 1e-12);
    CHECK_CLOSE(out[1], 5 + 0.9 * 7, TOL_ROUND);
}

TEST(returns_gae_by_hand)
{
    /* T = 3, γ = 0.9, λ = 0.5, values 1, 2, 3, bootstrap 4, end after step 0.
     * δ2 = 1 + 0.9*4 - 3 = 1.6, A2 = 1.6; δ1 = 0 + 0.9*3 - 2 = 0.7, A1 = 0.7 + 0.45*1.6 = 1.42;
     * δ0 = 2 - 1 = 1 (ends), A0 = 1. */
    real reward[3] = {2, 0, 1}, value[3] = {1, 2, 3}, boot[1] = {4}, adv[3], target[3];
    uint8_t done[3] = {1, 0, 0};
    returns_gae(reward, done, value, boot, 3, 1, 0.9, 0.5, adv, target);
    CHECK_CLOSE(adv[2], 1.6, TOL_ROUND);
    CHECK_CLOSE(adv[1], 1.42, TOL_ROUND);
    CHECK_NEAR(adv[0], 1.0, 1e-12);
    CHECK_CLOSE(target[1], 3.42, TOL_ROUND);
    CHECK_NEAR(target[0], 2.0, 1e-12);
}

TEST(returns_gae_with_lambda_one_equals_discounted_minus_value)
{
    real reward[5] = {1, -1, 0.5, 2, 0}, value[5] = {0.3, -0.2, 1, 0.1, 0.7}, boot[1] = {1.5};
    uint8_t done[5] = {0, 0, 1, 0, 0};
    real adv[5], ret[5];
    returns_gae(reward, done, value, boot, 5, 1, 0.95, 1.0, adv, NULL);
    returns_discounted(reward, done, boot, 5, 1, 0.95, ret);
    for (int t = 0; t < 5; t++)
        CHECK_NEAR(adv[t], ret[t] - value[t], 1e-12);
}
