/* test_bandit.c: the hyperparameter bandit's scores, ring buffer, untried-first rule, sampling
 * distribution, and save/load giving the same subsequent draws. */
#include <stdlib.h>
#include <string.h>

#include "bandit.h"
#include "checkpoint.h"
#include "quiet_stderr.h"
#include "test.h"

static const double grid_lrs[3] = {20, 40, 80};
static const double grid_ys[3] = {0.1, 0.5, 1.0};

TEST(bandit_grid_is_the_cartesian_product)
{
    Bandit b;
    REQUIRE(bandit_init(&b, grid_lrs, 3, grid_ys, 3) == 0);
    CHECK_INT(b.num_arms, 9);
    CHECK_NEAR(b.arms[5].alpha_lr, 40, 0); /* arm = i_lr * 3 + i_y */
    CHECK_NEAR(b.arms[5].alpha_y, 1.0, 0);
    CHECK_NEAR(b.arms[6].alpha_lr, 80, 0);
    CHECK_NEAR(b.arms[6].alpha_y, 0.1, 0);
    double many[65] = {0};
    mute_stderr();
    int too_many = bandit_init(&b, many, 13, many, 5); /* 65 arms */
    int empty = bandit_init(&b, many, 0, many, 5);
    unmute_stderr();
    CHECK_INT(too_many, -1);
    CHECK_INT(empty, -1);
}

TEST(bandit_scores_match_hand_computation)
{
    Bandit b;
    bandit_init(&b, grid_lrs, 3, grid_ys, 1);
    bandit_update(&b, 0, 1.0);
    bandit_update(&b, 0, 2.0);
    bandit_update(&b, 0, 6.0);
    bandit_update(&b, 2, -1.0);
    CHECK_NEAR(bandit_score(&b, 0), 3.0 + 0.2 / sqrt(3.0), 1e-12);
    CHECK(isinf(bandit_score(&b, 1)) && bandit_score(&b, 1) > 0); /* never tried */
    CHECK_NEAR(bandit_score(&b, 2), -1.0 + 0.2, 1e-12);
    mute_stderr();
    int out_of_range = bandit_update(&b, 3, 0.0);
    int not_finite = bandit_update(&b, 0, NAN);
    unmute_stderr();
    CHECK_INT(out_of_range, -1);
    CHECK_INT(not_finite, -1);
    CHECK_INT(b.arms[0].tries, 3);
}

TEST(bandit_ring_buffer_keeps_the_last_ten)
{
    Bandit b;
    bandit_init(&b, grid_lrs, 1, grid_ys, 1);
    for (int k = 1; k <= 13; k++)
        bandit_update(&b, 0, (double)k);
    CHECK_INT(b.arms[0].tries, 13);
    /* returns 4..13 remain: mean 8.5 */
    CHECK_NEAR(bandit_score(&b, 0), 8.5 + 0.2 / sqrt(13.0), 1e-12);
    CHECK_NEAR(b.arms[0].returns[0], 11.0, 0); /* slots 0-2 were overwritten by 11, 12, 13 */
    CHECK_NEAR(b.arms[0].returns[3], 4.0, 0);
}

TEST(bandit_tries_every_arm_before_repeating)
{
    Bandit b;
    bandit_init(&b, grid_lrs, 3, grid_ys, 3);
    Rng rng;
    rng_seed(&rng, 11, 0);
    int seen[9] = {0};
    for (int k = 0; k < 9; k++) {
        double probs[BANDIT_MAX_ARMS];
        bandit_probabilities(&b, probs);
        for (int a = 0; a < 9; a++)
            CHECK_NEAR(probs[a], seen[a] ? 0.0 : 1.0 / (9 - k), 1e-15);
        int arm = bandit_sample(&b, &rng);
        CHECK(arm >= 0 && arm < 9 && !seen[arm]);
        seen[arm < 0 || arm >= 9 ? 0 : arm] = 1;
        bandit_update(&b, arm, -100.0); /* even a terrible first return */
    }
}

TEST(bandit_sampling_follows_the_softmax)
{
    Bandit b;
    bandit_init(&b, grid_lrs, 1, grid_ys, 3);
    /* arm 0: one try, 0.1 -> 0.1 + 0.2; arm 1: four tries, mean 0.1 -> 0.1 + 0.1;
     * arm 2: one try, -0.05 -> -0.05 + 0.2 */
    bandit_update(&b, 0, 0.1);
    for (int k = 0; k < 4; k++)
        bandit_update(&b, 1, k % 2 ? 0.0 : 0.2);
    bandit_update(&b, 2, -0.05);
    double score[3] = {0.3, 0.2, 0.15}, expect[3], total = 0;
    for (int a = 0; a < 3; a++) {
        CHECK_NEAR(bandit_score(&b, a), score[a], 1e-12);
        expect[a] = exp(score[a] / 0.1);
        total += expect[a];
    }
    double probs[BANDIT_MAX_ARMS];
    bandit_probabilities(&b, probs);
    for (int a = 0; a < 3; a++)
        CHECK_NEAR(probs[a], expect[a] / total, 1e-12);

    Rng rng;
    rng_seed(&rng, 2024, 3);
    const int draws = 200000;
    int counts[3] = {0};
    for (int k = 0; k < draws; k++) {
        int arm = bandit_sample(&b, &rng);
        counts[arm >= 0 && arm < 3 ? arm : 0]++;
    }
    /* binomial standard error is at most 0.0011 at 200000 draws; 0.005 is > 4 of them */
    for (int a = 0; a < 3; a++)
        CHECK_NEAR(counts[a] / (double)draws, expect[a] / total, 0.005);
}

/* Samples and updates n lifetimes over two bandits, writing the arms drawn into arms[]. */
static void run_lifetimes(Bandit *bandits, Rng *rng, int n, int *arms)
{
    for (int k = 0; k < n; k++) {
        Bandit *b = &bandits[k % 2];
        int arm = bandit_sample(b, rng);
        arms[k] = arm;
        double final_return = 0.1 * arm + 0.5 * rng_uniform_double(rng);
        bandit_update(b, arm, final_return);
    }
}

TEST(bandit_resumes_with_identical_samples)
{
    Bandit bandits[2], resumed[2];
    for (int e = 0; e < 2; e++) {
        bandit_init(&bandits[e], grid_lrs, 3, grid_ys, e + 1);
        bandit_init(&resumed[e], grid_lrs, 3, grid_ys, e + 1);
    }
    Rng rng;
    rng_seed(&rng, 99, 1);
    int arms[200], arms_resumed[200];
    run_lifetimes(bandits, &rng, 57, arms);

    const char *path = "build/test_bandit.ckpt";
    CheckpointWriter w;
    checkpoint_writer_init(&w);
    CHECK_INT(bandit_save(bandits, 2, &w, "bandit"), 0);
    CHECK_INT(checkpoint_add_bytes(&w, "rng", &rng, sizeof rng), 0);
    CHECK_INT(checkpoint_write(&w, path), 0);
    checkpoint_writer_free(&w);

    run_lifetimes(bandits, &rng, 200, arms);

    Checkpoint ck;
    Rng resumed_rng;
    REQUIRE(checkpoint_open(&ck, path) == 0);
    CHECK_INT(bandit_load(resumed, 2, &ck, "bandit"), 0);
    CHECK_INT(checkpoint_get_bytes(&ck, "rng", &resumed_rng, sizeof resumed_rng), 0);
    run_lifetimes(resumed, &resumed_rng, 200, arms_resumed);
    CHECK(memcmp(arms, arms_resumed, sizeof arms) == 0);
    CHECK(memcmp(bandits, resumed, sizeof bandits) == 0);

    /* A config with another grid, or damaged bytes, is refused and leaves the bandits alone. */
    Bandit other[2], before[2];
    bandit_init(&other[0], grid_lrs, 3, grid_ys, 1);
    bandit_init(&other[1], grid_lrs, 2, grid_ys, 2);
    memcpy(before, other, sizeof other);
    mute_stderr();
    int other_grid = bandit_load(other, 2, &ck, "bandit");
    unmute_stderr();
    CHECK_INT(other_grid, -1);
    CHECK(memcmp(before, other, sizeof other) == 0);
    checkpoint_close(&ck);

    Bandit damaged[2];
    memcpy(damaged, resumed, sizeof damaged);
    damaged[1].arms[0].tries = -3;
    checkpoint_writer_init(&w);
    bandit_save(damaged, 2, &w, "bandit");
    CHECK_INT(checkpoint_write(&w, path), 0);
    checkpoint_writer_free(&w);
    REQUIRE(checkpoint_open(&ck, path) == 0);
    mute_stderr();
    int negative_tries = bandit_load(resumed, 2, &ck, "bandit");
    int wrong_number = bandit_load(resumed, 1, &ck, "bandit");
    unmute_stderr();
    CHECK_INT(negative_tries, -1);
    CHECK_INT(wrong_number, -1);
    CHECK(memcmp(bandits, resumed, sizeof bandits) == 0); /* untouched by the failed loads */
    checkpoint_close(&ck);
    remove(path);
}
