/* test_env_chain.c: the delayed chain MDP: L and the good action drawn per batch within range,
 * +1 and -1 at the end for the good and bad first action, the state index, noisy intermediate
 * rewards, the distraction bits, and determinism under a seed. */
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "test.h"

static int load(const char *name, EnvSpec *spec)
{
    char path[256];
    snprintf(path, sizeof path, "configs/envs/%s.json", name);
    return env_load(path, spec);
}

TEST(env_chain_length_and_good_action_drawn_in_range)
{
    EnvSpec spec;
    REQUIRE(load("chain_long", &spec) == 0);
    CHECK_INT(spec.length_min, 5);
    CHECK_INT(spec.length_max, 50);
    CHECK_INT(spec.num_actions, 2);
    CHECK_INT(spec.num_states, 2 * 50 - 1);
    int shortest = 1000, longest = 0, good[2] = {0, 0}, out_of_range = 0;
    for (uint64_t seed = 0; seed < 300; seed++) {
        EnvBatch b;
        if (env_batch_init(&b, &spec, 2, seed) != 0) {
            CHECK(0);
            return;
        }
        int length = b.chain_length;
        out_of_range += length < 5 || length > 50;
        shortest = length < shortest ? length : shortest;
        longest = length > longest ? length : longest;
        good[b.chain_good_action == 1]++;
        out_of_range += b.chain_good_action < 0 || b.chain_good_action > 1;
        env_batch_free(&b);
    }
    CHECK_INT(out_of_range, 0);
    CHECK(shortest <= 7);  /* 300 draws from 46 values */
    CHECK(longest >= 48);
    CHECK(good[0] > 100 && good[1] > 100);
}

/* Copy 0 takes the good first action, copy 1 the bad one; then both take arbitrary actions
 * (which change nothing). Checks every reward, done flag and state index of one episode. */
static void check_one_episode(uint64_t seed)
{
    EnvSpec spec;
    EnvBatch b;
    REQUIRE(load("chain_short", &spec) == 0);
    if (env_batch_init(&b, &spec, 2, seed) != 0) {
        CHECK(0);
        return;
    }
    int length = b.chain_length, good = b.chain_good_action;
    CHECK(length >= 5 && length <= 30);
    CHECK_INT(b.obs_index[0], 0);
    CHECK_INT(b.obs_index[1], 0);
    int32_t actions[2] = {good, 1 - good};
    int errors = 0;
    for (int t = 1; t <= length; t++) {
        env_batch_step(&b, actions);
        if (t < length) {
            errors += b.reward[0] != 0 || b.reward[1] != 0 || b.done[0] || b.done[1];
            errors += b.obs_index[0] != 1 + 2 * (t - 1) + good;
            errors += b.obs_index[1] != 1 + 2 * (t - 1) + (1 - good);
            errors += b.obs_index[0] >= spec.num_states || b.obs_index[1] >= spec.num_states;
        }
        actions[0] = actions[1] = t % 2; /* later actions do not matter */
    }
    CHECK_INT(errors, 0);
    CHECK_NEAR(b.reward[0], 1, 0);
    CHECK_NEAR(b.reward[1], -1, 0);
    CHECK_INT(b.done[0], 1);
    CHECK_INT(b.done[1], 1);
    CHECK_INT(b.obs_index[0], 0); /* the next episode's start */
    CHECK_INT(b.episodes_done, 2);
    CHECK_NEAR(b.returns_done_sum, 0, 0);
    env_batch_free(&b);
}

TEST(env_chain_pays_plus_one_for_good_minus_one_for_bad)
{
    for (uint64_t seed = 0; seed < 8; seed++)
        check_one_episode(seed);
}

TEST(env_chain_keeps_length_across_episodes)
{
    EnvSpec spec;
    EnvBatch b;
    REQUIRE(load("chain_long", &spec) == 0);
    if (env_batch_init(&b, &spec, 4, 17) != 0) {
        CHECK(0);
        return;
    }
    int32_t actions[4] = {0, 1, 0, 1};
    int since_start = 0, episode_lengths_wrong = 0, ends = 0;
    for (int t = 0; t < 10 * b.chain_length; t++) {
        env_batch_step(&b, actions);
        since_start++;
        if (b.done[0]) {
            episode_lengths_wrong += since_start != b.chain_length;
            since_start = 0;
            ends++;
        }
    }
    CHECK_INT(ends, 10);
    CHECK_INT(episode_lengths_wrong, 0);
    CHECK_INT(b.episodes_done, 40);
    CHECK_NEAR(b.returns_done_sum, 0, 0); /* two good copies, two bad */
    env_batch_free(&b);
}

TEST(env_chain_noisy_pays_plus_minus_one_in_between)
{
    EnvSpec spec;
    EnvBatch b;
    REQUIRE(load("chain_short_noisy", &spec) == 0);
    CHECK_INT(spec.noisy, 1);
    const int copies = 64;
    if (env_batch_init(&b, &spec, copies, 5) != 0) {
        CHECK(0);
        return;
    }
    int length = b.chain_length, good = b.chain_good_action;
    int32_t actions[64];
    for (int i = 0; i < copies; i++)
        actions[i] = i % 2;
    int bad = 0, plus = 0, minus = 0;
    for (int t = 1; t <= length; t++) {
        env_batch_step(&b, actions);
        for (int i = 0; i < copies; i++) {
            real r = b.reward[i];
            if (t == 1)
                bad += r != 0; /* the first step decides, it pays nothing */
            else if (t < length)
                bad += r != 1 && r != -1;
            else
                bad += r != (i % 2 == good ? 1 : -1) || !b.done[i];
            if (t > 1 && t < length) {
                plus += r == 1;
                minus += r == -1;
            }
        }
    }
    CHECK_INT(bad, 0);
    CHECK_INT(plus + minus, copies * (length - 2));
    CHECK(plus > copies * (length - 2) / 4);
    CHECK(minus > copies * (length - 2) / 4);
    env_batch_free(&b);
}

TEST(env_chain_distraction_bits)
{
    EnvSpec spec;
    EnvBatch b;
    REQUIRE(load("chain_distraction", &spec) == 0);
    CHECK_INT(spec.obs_dim, 22);
    CHECK_INT(spec.num_states, 0);
    CHECK_INT(spec.distraction_bits, 20);
    if (env_batch_init(&b, &spec, 2, 8) != 0) {
        CHECK(0);
        return;
    }
    CHECK(b.obs_index == NULL);
    int good = b.chain_good_action, length = b.chain_length;
    for (int i = 0; i < 2; i++) {
        CHECK_NEAR(b.obs[i * 22 + 0], 0, 0);
        CHECK_NEAR(b.obs[i * 22 + 1], 0, 0);
    }
    int32_t actions[2] = {0, 1};
    real previous[22];
    memcpy(previous, b.obs, sizeof previous);
    int not_binary = 0, changed = 0, ones = 0, wrong_branch = 0;
    for (int t = 1; t < length; t++) {
        env_batch_step(&b, actions);
        for (int i = 0; i < 2; i++) {
            const real *obs = b.obs + i * 22;
            wrong_branch += obs[i] != 1 || obs[1 - i] != 0; /* copy i took action i */
            for (int k = 0; k < 22; k++)
                not_binary += obs[k] != 0 && obs[k] != 1;
            for (int k = 2; k < 22; k++)
                ones += obs[k] == 1;
        }
        for (int k = 2; k < 22; k++)
            changed += b.obs[k] != previous[k];
        memcpy(previous, b.obs, sizeof previous);
        actions[0] = actions[1] = t % 2;
    }
    CHECK_INT(not_binary, 0);
    CHECK_INT(wrong_branch, 0);
    int draws = 2 * 20 * (length - 1);
    CHECK(ones > draws / 4 && ones < 3 * draws / 4);
    CHECK(changed > 10 * (length - 1) / 2); /* about 10 of 20 bits flip per step */
    env_batch_step(&b, actions);
    CHECK_NEAR(b.reward[0], good == 0 ? 1 : -1, 0);
    CHECK_NEAR(b.reward[1], good == 1 ? 1 : -1, 0);
    CHECK_INT(b.done[0], 1);
    CHECK_NEAR(b.obs[0], 0, 0); /* back at the start: no branch */
    CHECK_NEAR(b.obs[1], 0, 0);
    env_batch_free(&b);
}

/* Same seed, same actions: identical outputs; another seed: some difference. */
static long chain_differences(const char *name, uint64_t seed_a, uint64_t seed_b)
{
    EnvSpec spec;
    EnvBatch a, b;
    if (load(name, &spec) || env_batch_init(&a, &spec, 4, seed_a))
        return -1;
    if (env_batch_init(&b, &spec, 4, seed_b)) {
        env_batch_free(&a);
        return -1;
    }
    long differences = a.chain_length != b.chain_length;
    int32_t actions[4];
    for (int t = 0; t < 500; t++) {
        for (int i = 0; i < 4; i++)
            actions[i] = (t * 7 + i * 3) % 5 < 2;
        env_batch_step(&a, actions);
        env_batch_step(&b, actions);
        differences += memcmp(a.reward, b.reward, sizeof *a.reward * 4) != 0;
        differences += memcmp(a.done, b.done, 4) != 0;
        if (spec.obs_dim > 0)
            differences += memcmp(a.obs, b.obs, sizeof *a.obs * 4 * (size_t)spec.obs_dim) != 0;
        else
            differences += memcmp(a.obs_index, b.obs_index, sizeof *a.obs_index * 4) != 0;
    }
    env_batch_free(&a);
    env_batch_free(&b);
    return differences;
}

TEST(env_chain_same_seed_same_trajectory)
{
    CHECK_INT(chain_differences("chain_short_noisy", 3, 3), 0);
    CHECK_INT(chain_differences("chain_distraction", 3, 3), 0);
    CHECK(chain_differences("chain_short_noisy", 3, 4) > 0);
    CHECK(chain_differences("chain_distraction", 3, 4) > 0);
}
