/* test_lifetime_inputs.c: the lifetime-aware rule (rule.h, docs/method.md §10.4). The rule reads
 * n/N and log N in two more LSTM input slots; its files record that and older files stay plain
 * rules; training gives it the evaluation's budget as N; meta-training learns one end to end.
 * The meta-gradient's finite-difference checks are in test_metagrad.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "env.h"
#include "rule_file.h"
#include "test.h"
#include "train.h"
#include "train_stats.h"

/* Worked values: 250 of 1000 updates is 0.25 of the way, and log 1000 / log 1e5 = 3/5. Past the
 * end the progress stays 1; a life of one update has log N = 0. */
TEST(lifetime_inputs_are_progress_and_scaled_log_length)
{
    RuleInput in;
    memset(&in, 0, sizeof in);
    rule_input_set_lifetime(&in, 250, 1000);
    CHECK_NEAR(in.lifetime[0], 0.25, 0);
    CHECK_NEAR(in.lifetime[1], 0.6, TOL_ROUND);
    rule_input_set_lifetime(&in, 0, 100000);
    CHECK_NEAR(in.lifetime[0], 0, 0);
    CHECK_NEAR(in.lifetime[1], 1, TOL_ROUND);
    rule_input_set_lifetime(&in, 30, 20);
    CHECK_NEAR(in.lifetime[0], 1, 0);
    rule_input_set_lifetime(&in, 0, 1);
    CHECK_NEAR(in.lifetime[1], 0, 0);
}

/* The layout: two more rows of LSTM input weights (4H reals each) and nothing else moves but the
 * offsets after them. */
TEST(lifetime_layout_adds_two_input_rows)
{
    RuleLayout plain, life;
    rule_layout(&plain, 8);
    rule_layout_lifetime(&life, 8, 1);
    CHECK_INT(plain.x_dim, 6);
    CHECK_INT(life.x_dim, 8);
    CHECK_INT(plain.lifetime_inputs, 0);
    CHECK_INT(life.lifetime_inputs, 1);
    CHECK_INT((long long)(life.count - plain.count), 2 * 4 * 8);
    CHECK_INT((long long)life.lstm_wx, (long long)plain.lstm_wx);
    CHECK_INT((long long)(life.lstm_wh - plain.lstm_wh), 2 * 4 * 8);
}

/* A lifetime-aware rule whose two new weight rows are zero computes what the same rule without
 * them computes; with them non-zero the inputs reach π̂. */
TEST(lifetime_rule_with_zero_rows_is_the_plain_rule)
{
    RuleLayout plain, life;
    rule_layout(&plain, 8);
    rule_layout_lifetime(&life, 8, 1);
    real *eta_plain = calloc(plain.count, sizeof(real)), *eta_life = calloc(life.count, sizeof(real));
    REQUIRE(eta_plain && eta_life);
    Rng rng;
    rng_seed(&rng, 9, 0);
    rule_init(eta_plain, &plain, &rng);
    /* Copy group by group: everything before the new rows, the first 6 rows, the rest. */
    size_t gates = 4 * 8;
    memcpy(eta_life, eta_plain, (plain.lstm_wx + 6 * gates) * sizeof(real));
    memcpy(eta_life + life.lstm_wh, eta_plain + plain.lstm_wh,
           (plain.count - plain.lstm_wh) * sizeof(real));
    enum { N = 3, T = 4, ROWS = N * T };
    real reward[ROWS], pi_taken[ROWS], gamma[N] = {0.9, 0.95, 0.99};
    real y[(ROWS + N) * RULE_Y_DIM];
    uint8_t done[ROWS] = {0};
    done[5] = 1;
    for (int r = 0; r < ROWS; r++) {
        reward[r] = (real)(r % 3) - 1;
        pi_taken[r] = (real)(0.1 + 0.05 * r);
    }
    for (int i = 0; i < (ROWS + N) * RULE_Y_DIM; i++)
        y[i] = (real)(1.0 / RULE_Y_DIM);
    RuleInput in = {reward, done, gamma, pi_taken, y, y + N * RULE_Y_DIM, NULL, NULL, {0, 0}};
    rule_input_set_lifetime(&in, 300, 1000);
    RuleWork *wp = rule_work_create(&plain, N, T), *wl = rule_work_create(&life, N, T);
    REQUIRE(wp && wl);
    rule_forward(wp, eta_plain, &plain, &in, N, T);
    rule_forward(wl, eta_life, &life, &in, N, T);
    double diff = 0;
    for (int r = 0; r < ROWS; r++)
        diff = fmax(diff, fabs(wp->pi_hat[r] - wl->pi_hat[r]));
    for (int i = 0; i < ROWS * RULE_Y_DIM; i++)
        diff = fmax(diff, fabs(wp->y_hat[i] - wl->y_hat[i]));
    CHECK(diff < TOL_LONG);
    for (size_t j = 0; j < 2 * gates; j++) /* now let n/N and log N in */
        eta_life[life.lstm_wx + 6 * gates + j] = (real)0.5;
    rule_forward(wl, eta_life, &life, &in, N, T);
    diff = 0;
    for (int r = 0; r < ROWS; r++)
        diff = fmax(diff, fabs(wp->pi_hat[r] - wl->pi_hat[r]));
    CHECK(diff > 1e-3);
    rule_work_free(wp);
    rule_work_free(wl);
    free(eta_plain);
    free(eta_life);
}

/* Rule files: the flag is kept (and shown by `lpg info`); a file without the section (every
 * rule before lifetime inputs) is a plain rule; a bad value is refused. */
TEST(lifetime_rule_files_keep_the_flag_and_refuse_bad_ones)
{
    const char *path = "build/test_lifetime_rule.lpg";
    RuleLayout life, back;
    rule_layout_lifetime(&life, 8, 1);
    real *eta = calloc(life.count, sizeof(real));
    REQUIRE(eta != NULL);
    CheckpointWriter w;
    checkpoint_writer_init(&w);
    CHECK_INT(rule_file_add(&w, &life, eta), 0);
    CHECK_INT(checkpoint_write(&w, path), 0);
    checkpoint_writer_free(&w);
    real *loaded = rule_file_load(path, &back);
    REQUIRE(loaded != NULL);
    CHECK_INT(back.lifetime_inputs, 1);
    CHECK_INT((long long)back.count, (long long)life.count);
    free(loaded);
    char out[8192];
    CHECK_INT(run_lpg("info build/test_lifetime_rule.lpg", out, sizeof out), 0);
    CHECK(strstr(out, "reads lifetime inputs (n/N, log N)") != NULL);

    /* The flag 2, and a flag with the eta of a plain rule (the wrong count). */
    int64_t hidden = 8, two = 2, one = 1;
    RuleLayout plain;
    rule_layout(&plain, 8);
    for (int k = 0; k < 2; k++) {
        checkpoint_writer_init(&w);
        CHECK_INT(checkpoint_add_int64(&w, "rule_hidden", &hidden, 1), 0);
        CHECK_INT(checkpoint_add_int64(&w, "rule_lifetime_inputs", k == 0 ? &two : &one, 1), 0);
        CHECK_INT(checkpoint_add_real(&w, "eta", eta, k == 0 ? life.count : plain.count), 0);
        CHECK_INT(checkpoint_write(&w, path), 0);
        checkpoint_writer_free(&w);
        CHECK_INT(run_lpg("info build/test_lifetime_rule.lpg", out, sizeof out), 1);
        CHECK(strstr(out, k == 0 ? "section 'rule_lifetime_inputs': 2 is neither 0 nor 1"
                                 : "eta") != NULL);
    }
    free(eta);
}

/* Trains 2 seeds on a tabular grid with eta for `updates` updates (a curve point every 2) and
 * returns seed 0's mean π̂ and policy change (step KL) over updates 3-4 (curve point 1). */
static int curve_at_4_updates(const RuleLayout *layout, const real *eta, int updates,
                              double out[2])
{
    TrainConfig c;
    train_config_defaults(&c);
    snprintf(c.env, sizeof c.env, "configs/envs/tabular_dense.json");
    c.seed = 3, c.seeds = 2, c.steps = updates * 8 * 20;
    c.copies = 8, c.unroll = 20, c.log_points = updates / 2, c.threads = 2, c.alpha_lr = 20;
    c.method = TRAIN_METHOD_LPG;
    strcpy(c.rule, "(in memory)");
    strcpy(c.stats_output, "(in memory)");
    EnvSpec spec;
    TrainResult r;
    if (train_config_finish(&c, "test") || env_load("configs/envs/tabular_dense.json", &spec) ||
        train_run(&c, &spec, layout, eta, 0, &r))
        return -1;
    int k = 1;
    CHECK_INT(r.point_steps[k], 4 * 8 * 20);
    const double *stats = r.stats + (size_t)k * train_stats_num_columns;
    out[0] = stats[0]; /* the columns pi_hat_mean and step_kl (train_stats_columns) */
    out[1] = stats[5];
    CHECK(strcmp(train_stats_columns[0], "pi_hat_mean") == 0);
    CHECK(strcmp(train_stats_columns[5], "step_kl") == 0);
    train_result_free(&r);
    return 0;
}

/* Training gives the rule N = the run's updates: a lifetime-aware rule learns differently in a
 * run twice as long from its first updates on, and the same rule with its lifetime rows zeroed
 * does not (the budget reaches the rule through those inputs only). */
TEST(train_gives_a_lifetime_rule_the_budget)
{
    RuleLayout life;
    rule_layout_lifetime(&life, 8, 1);
    real *eta = calloc(life.count, sizeof(real));
    REQUIRE(eta != NULL);
    Rng rng;
    rng_seed(&rng, 3, 0);
    rule_init(eta, &life, &rng);
    size_t rows = 2 * 4 * 8, first = life.lstm_wx + 6 * 4 * 8;
    for (size_t j = 0; j < rows; j++)
        eta[first + j] = (real)(j % 2 ? 3 : -3);
    double short_run[2], long_run[2];
    REQUIRE(curve_at_4_updates(&life, eta, 6, short_run) == 0);
    REQUIRE(curve_at_4_updates(&life, eta, 12, long_run) == 0);
    CHECK(short_run[0] != long_run[0] || short_run[1] != long_run[1]);
    memset(eta + first, 0, rows * sizeof(real));
    REQUIRE(curve_at_4_updates(&life, eta, 6, short_run) == 0);
    REQUIRE(curve_at_4_updates(&life, eta, 12, long_run) == 0);
    CHECK(short_run[0] == long_run[0] && short_run[1] == long_run[1]);
    free(eta);
}

/* End to end: `lpg meta-train` with lifetime_inputs and a lifetime range writes a rule that
 * reads them, and `lpg train` runs it. */
TEST(lifetime_rule_meta_trains_and_trains_from_the_command_line)
{
    char out[16384];
    CHECK_INT(run_lpg("meta-train tests/configs/meta_tiny.json lifetime_inputs=true "
                      "lifetime_range=4,20 meta_steps=4 run_dir=build/test_runs/lifetime "
                      "--overwrite", out, sizeof out), 0);
    CHECK_INT(run_lpg("info build/test_runs/lifetime/rule.lpg", out, sizeof out), 0);
    CHECK(strstr(out, "reads lifetime inputs") != NULL);
    CHECK(strstr(out, "\"lifetime_range\"") != NULL);
    CHECK_INT(run_lpg("train tests/configs/train_chain.json method=lpg alpha_lr=20 steps=3200 "
                      "rule=build/test_runs/lifetime/rule.lpg "
                      "output=build/test_lifetime_train.csv", out, sizeof out), 0);
}
