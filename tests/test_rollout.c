/* test_rollout.c: the rollout's time-major layout (row t*n + i, row T the observation after the
 * last step, out and π(a|s) at every row) against a twin environment stepped by hand with the
 * recorded actions; sample_softmax's distribution, its extremes and its one draw per call. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "env.h"
#include "rollout.h"
#include "softmax.h"
#include "test.h"

TEST(rollout_rows_are_time_major_with_row_t_after_the_last_step)
{
    const int T = 6, n = 3;
    EnvSpec spec;
    REQUIRE(env_load("configs/envs/tabular_sparse.json", &spec) == 0);
    AgentSpec as;
    REQUIRE(agent_spec_for_env(&as, &spec, 0, NULL, 0, 0, 0) == 0);
    as.tabular_init_std = 1; /* a policy that prefers some actions, so actions vary */
    Agent agent;
    AgentWork work;
    EnvBatch env, twin;
    Rollout r;
    REQUIRE(agent_setup(&agent, &as) == 0);
    REQUIRE(agent_work_init(&work, &agent, (T + 1) * n) == 0);
    REQUIRE(env_batch_init(&env, &spec, n, 17) == 0);
    REQUIRE(env_batch_init(&twin, &spec, n, 17) == 0);
    REQUIRE(rollout_init(&r, &spec, &agent, T, n) == 0);
    real *theta = calloc(agent.num_params, sizeof(real));
    real *out = calloc((size_t)(T + 1) * n * agent.num_outputs, sizeof(real));
    REQUIRE(theta && out);
    Rng rng;
    rng_seed(&rng, 4, 0);
    agent_init_params(&agent, theta, &rng);
    rollout_collect(&r, &env, &agent, &work, theta, &rng);

    /* Step t of copy i is row t*n + i: the observation before the step, the action taken, its
     * reward and done. The twin, given the same actions, must see exactly that. */
    int distinct_actions = 0;
    for (int t = 0; t < T; t++) {
        for (int i = 0; i < n; i++) {
            int b = t * n + i;
            CHECK_INT(r.obs_index[b], twin.obs_index[i]);
            distinct_actions |= 1 << r.action[b];
        }
        env_batch_step(&twin, r.action + (size_t)t * n);
        for (int i = 0; i < n; i++) {
            CHECK(r.reward[t * n + i] == twin.reward[i]);
            CHECK_INT(r.done[t * n + i], twin.done[i]);
        }
    }
    CHECK(distinct_actions != (distinct_actions & -distinct_actions)); /* not one action only */
    /* Row T holds the observation after the last step, where the environment now is. */
    for (int i = 0; i < n; i++) {
        CHECK_INT(r.obs_index[T * n + i], twin.obs_index[i]);
        CHECK_INT(r.obs_index[T * n + i], env.obs_index[i]);
    }
    /* out holds the agent's outputs at all (T+1)*n rows, row T included; π(a|s) is the softmax
     * of the action logits at the action taken. */
    agent_forward(&agent, &work, theta, rollout_obs(&r, 0), (T + 1) * n, out);
    size_t outs = (size_t)agent.num_outputs;
    CHECK(memcmp(out, r.out, (size_t)(T + 1) * n * outs * sizeof(real)) == 0);
    for (int b = 0; b < T * n; b++) {
        const real *row = r.out + b * outs;
        double total = 0;
        for (int a = 0; a < agent.num_actions; a++)
            total += exp(row[a]);
        CHECK_CLOSE(r.pi_taken[b], exp(row[r.action[b]]) / total, TOL_ROUND);
    }
    free(out);
    free(theta);
    rollout_free(&r);
    env_batch_free(&twin);
    env_batch_free(&env);
    agent_work_free(&work);
}

TEST(sample_softmax_draws_the_softmax_with_one_uniform)
{
    /* p = (1, 2, 3) / 6: each count within 5 standard deviations of its mean. */
    const real logits[3] = {0, (real)log(2.0), (real)log(3.0)};
    const int draws = 60000;
    int count[3] = {0, 0, 0};
    Rng rng;
    rng_seed(&rng, 9, 0);
    for (int k = 0; k < draws; k++) {
        int a = sample_softmax(logits, 3, &rng, NULL);
        REQUIRE(a >= 0 && a < 3);
        count[a]++;
    }
    for (int a = 0; a < 3; a++) {
        double p = (a + 1) / 6.0, mean = draws * p, sd = sqrt(draws * p * (1 - p));
        CHECK(fabs(count[a] - mean) < 5 * sd);
    }
    /* Extreme logits neither overflow nor pick the negligible action. */
    const real one_sided[3] = {1000, 0, -1000}, other_side[2] = {-1000, 1000};
    for (int k = 0; k < 100; k++) {
        CHECK_INT(sample_softmax(one_sided, 3, &rng, NULL), 0);
        CHECK_INT(sample_softmax(other_side, 2, &rng, NULL), 1);
    }
    /* A single action is always drawn; every call advances the generator by one uniform. */
    Rng copy = rng;
    CHECK_INT(sample_softmax(logits, 1, &rng, NULL), 0);
    rng_uniform_double(&copy);
    CHECK(memcmp(&copy, &rng, sizeof rng) == 0);
}
