/* test_train.c: the training loop of `lpg train` (train.h) and the command: the LPG path with a
 * freshly initialised rule, independence from the thread count, the curve CSV, and the CLI's
 * help and error messages. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "quiet_stderr.h"
#include "rule.h"
#include "test.h"
#include "train.h"
#include "train_stats.h"
#include "util.h"

/* A config for env_path with the test's small sizes (method a2c unless changed). */
static TrainConfig small_config(const char *env_path, int seeds, int steps)
{
    TrainConfig c;
    train_config_defaults(&c);
    snprintf(c.env, sizeof c.env, "%s", env_path);
    c.seed = 3, c.seeds = seeds, c.steps = steps;
    c.copies = 8, c.unroll = 20, c.log_points = 3, c.threads = 2, c.a2c.lr = 0.03;
    return c;
}

/* A freshly initialised rule of width 8 from seed: sets layout, returns eta (free it), NULL when
 * out of memory. */
static real *fresh_rule(RuleLayout *layout, uint64_t seed)
{
    rule_layout(layout, 8);
    real *eta = calloc(layout->count, sizeof(real));
    if (!eta)
        return NULL;
    Rng rng;
    rng_seed(&rng, seed, 0);
    rule_init(eta, layout, &rng);
    return eta;
}

/* Runs method lpg with eta on env_path for 6 updates per seed at alpha_lr, measuring the rule's
 * statistics when stats is 1; returns train_run's code. */
static int train_lpg(const char *env_path, double alpha_lr, int stats, const RuleLayout *layout,
                     const real *eta, TrainResult *r)
{
    TrainConfig c = small_config(env_path, 2, 6 * 8 * 20);
    c.method = TRAIN_METHOD_LPG;
    strcpy(c.rule, "(in memory)");
    if (stats)
        strcpy(c.stats_output, "(in memory)");
    c.alpha_lr = alpha_lr;
    EnvSpec spec;
    if (train_config_finish(&c, "test") || env_load(env_path, &spec))
        return -1;
    return train_run(&c, &spec, layout, eta, 0, r);
}

/* Chain returns are +1 or -1 per episode, so every point is NaN (no episode ended) or in
 * [-1, 1]; counts the finite ones. */
static int check_chain_curve(const TrainResult *r)
{
    int finite = 0;
    for (int i = 0; i < r->num_seeds * r->num_points; i++) {
        if (isnan(r->curve[i]))
            continue;
        finite++;
        CHECK(r->curve[i] >= -1 && r->curve[i] <= 1);
    }
    return finite;
}

TEST(train_lpg_runs_a_fresh_rule_without_nan)
{
    RuleLayout layout;
    real *eta = fresh_rule(&layout, 3);
    REQUIRE(eta != NULL);
    const struct { const char *env; double alpha_lr; } cases[] = {
        {"configs/envs/chain_short.json", 20},       /* tabular agent */
        {"configs/envs/chain_distraction.json", 0.5}, /* MLP agent */
    };
    for (int k = 0; k < 2; k++) {
        TrainResult r, moved, still;
        CHECK_INT(train_lpg(cases[k].env, cases[k].alpha_lr, 0, &layout, eta, &r), 0);
        CHECK_INT(r.num_points, 3);
        CHECK_INT(r.point_steps[2], 6 * 8 * 20);
        CHECK_INT(check_chain_curve(&r), 6);
        /* With α_lr = 0 θ never moves; a (large) step of the rule's update changes the
         * first actions, so the episodes. */
        CHECK_INT(train_lpg(cases[k].env, 0, 0, &layout, eta, &still), 0);
        CHECK_INT(train_lpg(cases[k].env, 100 * cases[k].alpha_lr, 0, &layout, eta, &moved), 0);
        CHECK_INT(check_chain_curve(&moved), 6);
        CHECK(memcmp(moved.curve, still.curve, 6 * sizeof(double)) != 0);
        train_result_free(&r);
        train_result_free(&moved);
        train_result_free(&still);
    }
    /* A 1936-state grid with 30 y outputs per state. */
    TrainResult grid;
    CHECK_INT(train_lpg("configs/envs/tabular_dense.json", 20, 0, &layout, eta, &grid), 0);
    train_result_free(&grid);
    free(eta);
}

/* The statistics are means of things with known ranges; with α_lr = 0 the policy never changes
 * (step_kl 0 up to rounding); measuring them changes nothing in the run. */
TEST(train_stats_measure_the_rule_and_the_policy_change)
{
    RuleLayout layout;
    real *eta = fresh_rule(&layout, 5);
    REQUIRE(eta != NULL);
    const char *envs[] = {"configs/envs/chain_short.json", "configs/envs/chain_distraction.json"};
    const double lrs[] = {20, 50};
    const int actions = 2; /* both chains */
    for (int k = 0; k < 2; k++) {
        TrainResult plain, r, still;
        CHECK_INT(train_lpg(envs[k], lrs[k], 0, &layout, eta, &plain), 0);
        CHECK_INT(train_lpg(envs[k], lrs[k], 1, &layout, eta, &r), 0);
        CHECK_INT(train_lpg(envs[k], 0, 1, &layout, eta, &still), 0);
        CHECK(plain.stats == NULL && r.stats != NULL && still.stats != NULL);
        if (!r.stats || !still.stats)
            continue;
        for (int i = 0; i < 6; i++) /* NaN points compare unequal: compare bit patterns */
            CHECK(memcmp(&plain.curve[i], &r.curve[i], sizeof(double)) == 0);
        int cols = train_stats_num_columns;
        for (int i = 0; i < 6; i++) {
            const double *p = r.stats + i * cols, *q = still.stats + i * cols;
            CHECK(p[1] >= 0 && p[2] >= fabs(p[0]) - 1e-12);           /* std, |π̂| */
            CHECK(p[3] > 0 && p[3] <= 1);                             /* π(a|s) */
            CHECK(p[4] >= 0 && p[4] <= log(actions) + 1e-9);          /* entropy */
            CHECK(p[5] > 0);                                          /* the policy moved */
            /* it did not: exactly 0 where both passes round alike; in float the MLP's
             * products may take another kernel path per batch size (OpenBLAS picks by CPU) */
            CHECK(fabs(q[5]) <= TOL_LONG);
            CHECK_NEAR(q[3], 1.0 / actions, 0.02);                    /* near-uniform start */
            CHECK(p[7] >= 0 && isfinite(p[6]));                       /* φ(y) */
        }
        char *csv = train_stats_csv(&r);
        const char *head = "steps,pi_hat_mean,pi_hat_std,pi_hat_abs,pi_taken,entropy,step_kl,"
                           "phi_y_mean,phi_y_std\n320,";
        CHECK(csv && strncmp(csv, head, strlen(head)) == 0);
        free(csv);
        train_result_free(&plain);
        train_result_free(&r);
        train_result_free(&still);
    }
    free(eta);
}

TEST(train_results_do_not_depend_on_the_thread_count)
{
    TrainConfig c = small_config("configs/envs/chain_distraction.json", 3, 8000);
    c.log_points = 5;
    EnvSpec spec;
    CHECK_INT(train_config_finish(&c, "test"), 0);
    REQUIRE(env_load(c.env, &spec) == 0);
    TrainResult one, three;
    c.threads = 1;
    CHECK_INT(train_run(&c, &spec, NULL, NULL, 0, &one), 0);
    c.threads = 3;
    CHECK_INT(train_run(&c, &spec, NULL, NULL, 0, &three), 0);
    CHECK_INT(one.num_points, 5);
    CHECK(memcmp(one.curve, three.curve, 15 * sizeof(double)) == 0);
    CHECK(memcmp(one.point_steps, three.point_steps, 5 * sizeof(int64_t)) == 0);
    /* Seeds differ from each other (own RNG, own chain). */
    CHECK(memcmp(one.curve, one.curve + 5, 5 * sizeof(double)) != 0);
    /* 8000 steps at 160 per update: 50 updates, points after updates 10, 20, .., 50. */
    CHECK_INT(one.point_steps[0], 1600);
    CHECK_INT(one.point_steps[4], 8000);
    train_result_free(&one);
    train_result_free(&three);
}

/* Method lpg with a fresh rule of width 8 for 12 updates of 3 seeds on env_path, with the inner
 * optimizer and α_lr given, on threads threads. */
static int train_lpg_inner(const char *env_path, const char *optimizer, double alpha_lr,
                           int threads, TrainResult *r)
{
    RuleLayout layout;
    real *eta = fresh_rule(&layout, 3);
    if (!eta)
        return -1;
    TrainConfig c = small_config(env_path, 3, 12 * 8 * 20);
    c.method = TRAIN_METHOD_LPG;
    strcpy(c.rule, "(in memory)");
    c.inner_kind = strcmp(optimizer, "adam") == 0 ? INNER_ADAM : INNER_SGD;
    c.alpha_lr = alpha_lr;
    c.threads = threads;
    EnvSpec spec;
    int rc = train_config_finish(&c, "test") || env_load(env_path, &spec) ||
             train_run(&c, &spec, &layout, eta, 0, r);
    free(eta);
    return rc ? -1 : 0;
}

/* inner_optimizer "adam": an MLP agent's run is the same for any thread count and differs from
 * SGD's; a tabular agent keeps its per-state mean SGD step (the same numbers as "sgd"). */
TEST(train_lpg_adam_inner_step_for_mlp_agents_only)
{
    const char *mlp = "configs/envs/chain_distraction.json", *tab = "configs/envs/chain_short.json";
    TrainResult one, three, sgd, tab_adam, tab_sgd;
    CHECK_INT(train_lpg_inner(mlp, "adam", 0.01, 1, &one), 0);
    CHECK_INT(train_lpg_inner(mlp, "adam", 0.01, 3, &three), 0);
    CHECK_INT(train_lpg_inner(mlp, "sgd", 0.01, 2, &sgd), 0);
    CHECK_INT(train_lpg_inner(tab, "adam", 4, 2, &tab_adam), 0);
    CHECK_INT(train_lpg_inner(tab, "sgd", 4, 2, &tab_sgd), 0);
    size_t bytes = (size_t)one.num_seeds * one.num_points * sizeof(double);
    CHECK(memcmp(one.reward_curve, three.reward_curve, bytes) == 0);
    CHECK(memcmp(one.reward_curve, sgd.reward_curve, bytes) != 0);
    CHECK(memcmp(tab_adam.reward_curve, tab_sgd.reward_curve, bytes) == 0);
    train_result_free(&one);
    train_result_free(&three);
    train_result_free(&sgd);
    train_result_free(&tab_adam);
    train_result_free(&tab_sgd);
}

/* lpg eval across ranks: seeds 0-1 and 2-4 run apart, packed and unpacked into a result sized
 * for all five, give the bytes of one run over the five (curve CSV and final scores). */
TEST(train_result_put_together_from_packed_seeds_matches_one_run)
{
    TrainConfig c = small_config("configs/envs/chain_distraction.json", 5, 4800);
    c.log_points = 4;
    EnvSpec spec;
    CHECK_INT(train_config_finish(&c, "test"), 0);
    REQUIRE(env_load(c.env, &spec) == 0);
    TrainResult whole, joined, part;
    REQUIRE(train_run(&c, &spec, NULL, NULL, 0, &whole) == 0);
    REQUIRE(train_result_init(&joined, &c) == 0);
    CHECK_INT(joined.num_points, 4);
    CHECK_INT(joined.final_steps, whole.final_steps);
    CHECK(memcmp(joined.point_steps, whole.point_steps, 4 * sizeof(int64_t)) == 0);
    CHECK(isnan(joined.curve[0]) && isnan(joined.final_reward[4]));
    size_t bytes = train_seed_bytes(&joined);
    CHECK_INT(bytes, (2 * 4 + 2) * 8 + 8);
    unsigned char *buf = malloc(5 * bytes);
    REQUIRE(buf != NULL);
    const int first[2] = {0, 2}, count[2] = {2, 3};
    for (int k = 0; k < 2; k++) {
        TrainConfig pc = c;
        pc.seed = c.seed + first[k], pc.seeds = count[k];
        REQUIRE(train_run(&pc, &spec, NULL, NULL, 0, &part) == 0);
        for (int s = 0; s < count[k]; s++)
            train_seed_pack(&part, s, buf + (size_t)(first[k] + s) * bytes);
        train_result_free(&part);
    }
    for (int s = 0; s < 5; s++)
        train_seed_unpack(&joined, s, buf + (size_t)s * bytes);
    char *a = train_curve_csv(&whole, &c), *b = train_curve_csv(&joined, &c);
    REQUIRE(a && b);
    CHECK(strcmp(a, b) == 0);
    CHECK(memcmp(whole.final_reward, joined.final_reward, 5 * sizeof(double)) == 0);
    CHECK(memcmp(whole.final_episodes, joined.final_episodes, 5 * sizeof(int64_t)) == 0);
    /* The seeds differ, so a part put in the wrong place would show. */
    CHECK(memcmp(whole.curve, whole.curve + 4, 4 * sizeof(double)) != 0);
    free(a);
    free(b);
    free(buf);
    train_result_free(&whole);
    train_result_free(&joined);
}

TEST(train_curve_csv_has_mean_se_and_seed_columns)
{
    int64_t steps[2] = {100, 200};
    double curve[4] = {1, 3, NAN, 5}; /* seed 7: 1, 3; seed 8: none, 5 */
    double rate[4] = {0.5, 0.25, -0.5, 0.75};
    TrainResult r = {.num_seeds = 2, .num_points = 2, .point_steps = steps, .curve = curve,
                     .reward_curve = rate};
    TrainConfig c;
    train_config_defaults(&c);
    c.seed = 7;
    double mean, se;
    int count;
    train_point_stats(&r, 1, &mean, &se, &count);
    CHECK_INT(count, 2);
    CHECK_NEAR(mean, 4, 1e-12);
    CHECK_NEAR(se, 1, 1e-12); /* sample std sqrt(2), over sqrt(2) seeds */
    curve[2] = -NAN; /* printf may write "-nan"; the CSV never does */
    char *csv = train_curve_csv(&r, &c);
    REQUIRE(csv != NULL);
    if (csv)
        CHECK(strcmp(csv, "steps,mean_return,se_return,mean_reward_per_step,se_reward_per_step,"
                          "seed_7,seed_8,reward_per_step_seed_7,reward_per_step_seed_8\n"
                          "100,1,0,0,0.5,1,nan,0.5,-0.5\n"
                          "200,4,1,0.5,0.25,3,5,0.25,0.75\n") == 0);
    free(csv);
}

TEST(train_final_score_is_reward_per_step_over_seeds)
{
    double reward[3] = {0.25, 0.75, NAN}, ret[3] = {NAN, 4, 2};
    int64_t episodes[3] = {0, 7, 5};
    TrainResult r = {.num_seeds = 3, .final_reward = reward, .final_return = ret,
                     .final_episodes = episodes, .final_steps = 640};
    TrainScore score;
    train_final_score(&r, &score);
    CHECK_INT(score.seeds, 2);
    CHECK_NEAR(score.mean, 0.5, 1e-12);
    CHECK_NEAR(score.se, 0.25, 1e-12); /* sample std 0.25 sqrt(2), over sqrt(2) seeds */
    CHECK_INT(score.return_seeds, 2);
    CHECK_NEAR(score.return_mean, 3, 1e-12);
    CHECK_NEAR(score.return_se, 1, 1e-12);
    CHECK_INT(score.episodes, 12);
    CHECK_INT(score.steps, 640);
    /* One seed: standard error 0; none with a value: NaN. */
    r.num_seeds = 1;
    train_final_score(&r, &score);
    CHECK(score.mean == 0.25 && score.se == 0 && score.seeds == 1 && score.return_seeds == 0);
    CHECK(isnan(score.return_mean) && isnan(score.return_se));
}

TEST(train_final_score_counts_every_step_of_the_last_tenth)
{
    /* chain_short (tests/configs/train_chain.json) pays +1 or -1 at an episode's last step
     * only, so the reward of the final window is the sum of the returns of the episodes that
     * ended in it; and the window covers the last ceil(10% of updates) updates. */
    TrainConfig c;
    CHECK_INT(train_config_load(&c, "tests/configs/train_chain.json", 0, NULL), 0);
    EnvSpec spec;
    CHECK_INT(env_load(c.env, &spec), 0);
    TrainResult r;
    mute_stderr();
    int rc = train_run(&c, &spec, NULL, NULL, 0, &r);
    unmute_stderr();
    CHECK_INT(rc, 0);
    if (rc)
        return;
    int64_t per_update = (int64_t)c.copies * c.unroll;
    int64_t updates = (c.steps + per_update - 1) / per_update;
    CHECK_INT(r.final_steps, (updates + 9) / 10 * per_update);
    for (int s = 0; s < r.num_seeds; s++) {
        /* An integer total, at most one per episode, equal to the episodes' returns. */
        double total = r.final_reward[s] * (double)r.final_steps;
        CHECK(fabs(total - round(total)) < 1e-6);
        CHECK(fabs(total) <= (double)r.final_episodes[s] + 1e-6);
        CHECK(r.final_episodes[s] > 0);
        CHECK_NEAR(r.final_return[s] * (double)r.final_episodes[s], total, 1e-6);
    }
    /* The reward curve's last point is a mean over steps too: finite for every seed. */
    for (int s = 0; s < r.num_seeds; s++)
        CHECK(isfinite(r.reward_curve[(size_t)s * r.num_points + r.num_points - 1]));
    train_result_free(&r);
}

TEST(train_command_help_lists_every_key)
{
    char out[16384];
    CHECK_INT(run_lpg("train --help", out, sizeof out), 0);
    CHECK(strstr(out, "usage: lpg train <config.json> [key=value ...]") != NULL);
    for (int i = 0; i < train_config_num_fields; i++) {
        char line[64];
        snprintf(line, sizeof line, "  %s ", train_config_fields[i].key);
        CHECK(strstr(out, line) != NULL);
    }
    CHECK(strstr(out, "[default: \"a2c\"]") != NULL);
    CHECK(strstr(out, "[default: 1000000]") != NULL);
}

TEST(train_command_writes_the_curve)
{
    char out[16384];
    remove("build/test_train_chain.csv");
    CHECK_INT(run_lpg("train tests/configs/train_chain.json", out, sizeof out), 0);
    CHECK(strstr(out, "a2c on chain_short: final score ") != NULL);
    CHECK(strstr(out, " reward per step over the last 10% of steps (2 seeds, 20160 steps each")
          != NULL);
    CHECK(strstr(out, "a2c on chain_short: final return ") != NULL);
    size_t len = 0;
    char *csv = read_whole_file("build/test_train_chain.csv", &len);
    REQUIRE(csv != NULL);
    if (csv) {
        const char *header = "steps,mean_return,se_return,mean_reward_per_step,"
                             "se_reward_per_step,seed_0,seed_1,reward_per_step_seed_0,"
                             "reward_per_step_seed_1\n";
        CHECK(strncmp(csv, header, strlen(header)) == 0);
        int lines = 0;
        for (size_t i = 0; i < len; i++)
            lines += csv[i] == '\n';
        CHECK_INT(lines, 6);
        CHECK(strstr(csv, "\n20160,") != NULL);
    }
    free(csv);
}

/* Runs `lpg train args`, expects a non-zero exit and message in the output. */
static void check_train_error(const char *args, const char *message)
{
    char cmd[512], out[8192];
    snprintf(cmd, sizeof cmd, "train %s", args);
    int status = run_lpg(cmd, out, sizeof out);
    if (status == 0 || !strstr(out, message)) {
        fprintf(stderr, "  lpg %s: exit %d, output: %s  expected: %s\n", cmd, status, out,
                message);
        CHECK(0);
    }
}

TEST(train_command_rejects_bad_configs_and_rules)
{
    const char *cfg = "tests/configs/train_chain.json output=build/test_train_err.csv";
    char args[512];
    check_train_error("", "lpg: train: no config given");
    check_train_error("tests/configs/no_such_config.json",
                      "lpg: tests/configs/no_such_config.json: cannot open");
    check_train_error("tests/configs/bad_train_steps.json",
                      "lpg: tests/configs/bad_train_steps.json: key 'steps': expected an integer");
    snprintf(args, sizeof args, "%s bogus=1", cfg);
    check_train_error(args, "unknown key 'bogus'");
    snprintf(args, sizeof args, "%s method=ppo", cfg);
    check_train_error(args, "key 'method': expected \"a2c\", \"lpg\" or \"lpg_v\", got \"ppo\"");
    snprintf(args, sizeof args, "%s optimizer=lbfgs", cfg);
    check_train_error(args, "key 'optimizer'");
    snprintf(args, sizeof args, "%s steps=0", cfg);
    check_train_error(args, "key 'steps': value 0 is out of range");
    snprintf(args, sizeof args, "%s env=configs/envs/no_such_env.json", cfg);
    check_train_error(args, "lpg: configs/envs/no_such_env.json: cannot open");
    snprintf(args, sizeof args, "%s method=lpg", cfg);
    check_train_error(args, "key 'rule': method \"lpg\" needs a rule file");
    snprintf(args, sizeof args, "%s stats_output=build/test_stats.csv", cfg);
    check_train_error(args, "key 'stats_output': rule statistics need a rule (method \"lpg\" or \"lpg_v\")");
    snprintf(args, sizeof args, "%s method=lpg rule=tests/configs/no_such_rule.lpg", cfg);
    check_train_error(args, "lpg: tests/configs/no_such_rule.lpg: cannot open");
    snprintf(args, sizeof args, "%s method=lpg rule=tests/configs/bad_rule.lpg", cfg);
    check_train_error(args, "lpg: tests/configs/bad_rule.lpg: not a checkpoint");
}

TEST(train_command_stops_on_non_finite_parameters)
{
    remove("build/test_train_err.csv");
    check_train_error("tests/configs/train_chain.json output=build/test_train_err.csv "
                      "seeds=1 optimizer=sgd lr=1e6",
                      "lpg: train: seed 0: parameters became NaN or infinite at step ");
    /* No curve is written for a failed run. */
    FILE *f = fopen("build/test_train_err.csv", "r");
    CHECK(f == NULL);
    if (f)
        fclose(f);
}
