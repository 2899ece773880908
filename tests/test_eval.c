/* test_eval.c: `lpg eval` (eval.h): the "better" decision and the final return on constructed
 * numbers, a tiny evaluation in process with a freshly initialised rule, the same through the
 * binary (tables and curves on disk), and the command's help and error messages. */
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "meta_config.h"
#include "quiet_stderr.h"
#include "rule_file.h"
#include "test.h"
#include "util.h"

#define TINY "tests/configs/eval_tiny.json"

TEST(eval_better_needs_two_standard_errors_of_the_difference)
{
    /* Margin 2 * sqrt(1 + 1) = 2.83. */
    CHECK_INT(eval_better(10, 1, 5, 1), EVAL_LPG);
    CHECK_INT(eval_better(5, 1, 10, 1), EVAL_A2C);
    CHECK_INT(eval_better(10, 1, 8, 1), EVAL_TIE);
    CHECK_INT(eval_better(8, 1, 10, 1), EVAL_TIE);
    CHECK_INT(eval_better(10, 1, 7.1, 1), EVAL_LPG);
    /* Margin 2 * sqrt(0.6^2 + 0.8^2) = 2: exactly two standard errors is still a tie. */
    CHECK_INT(eval_better(2, 0.6, 0, 0.8), EVAL_TIE);
    CHECK_INT(eval_better(2.001, 0.6, 0, 0.8), EVAL_LPG);
    CHECK_INT(eval_better(-3, 0.6, -0.999, 0.8), EVAL_A2C);
    /* One seed each: standard errors 0, any difference counts. */
    CHECK_INT(eval_better(1, 0, 1, 0), EVAL_TIE);
    CHECK_INT(eval_better(1, 0, 0.5, 0), EVAL_LPG);
    /* No value: undecided. */
    CHECK_INT(eval_better(NAN, 0, 1, 0), EVAL_UNKNOWN);
    CHECK_INT(eval_better(1, NAN, 1, 0), EVAL_UNKNOWN);
    CHECK_INT(eval_better(1, 0, 1, NAN), EVAL_UNKNOWN);
    CHECK(strcmp(eval_winner_name(EVAL_LPG), "LPG") == 0);
    CHECK(strcmp(eval_winner_name(EVAL_A2C), "A2C") == 0);
    CHECK(strcmp(eval_winner_name(EVAL_TIE), "tie") == 0);
    CHECK(strcmp(eval_winner_name(EVAL_UNKNOWN), "-") == 0);
}

TEST(eval_final_return_averages_the_last_tenth_of_each_seed)
{
    /* 3 seeds x 11 points: the last 2 points (10% rounded up) count. */
    double curve[33];
    int64_t steps[11];
    for (int i = 0; i < 33; i++)
        curve[i] = 100; /* early points must not count */
    for (int k = 0; k < 11; k++)
        steps[k] = 10 * (k + 1);
    curve[9] = 1, curve[10] = 3;          /* seed 0: 2 */
    curve[20] = NAN, curve[21] = 6;       /* seed 1: 6 (NaN points are skipped) */
    curve[31] = NAN, curve[32] = NAN;     /* seed 2: no value, left out */
    TrainResult r = {3, 11, steps, curve, 0, NULL};
    EvalScore score;
    int final_points;
    eval_final_return(&r, &score, &final_points);
    CHECK_INT(final_points, 2);
    CHECK_INT(score.count, 2);
    CHECK_NEAR(score.mean, 4, 1e-12);
    CHECK_NEAR(score.se, 2, 1e-12); /* sample std 2 sqrt(2), over sqrt(2) seeds */
    /* 5 points (curve[6..10]): the last one only; one seed: standard error 0. */
    TrainResult one = {1, 5, steps, curve + 6, 0, NULL};
    eval_final_return(&one, &score, &final_points);
    CHECK_INT(final_points, 1);
    CHECK_INT(score.count, 1);
    CHECK_NEAR(score.mean, 3, 1e-12);
    CHECK_NEAR(score.se, 0, 0);
    /* No value anywhere: NaN. */
    TrainResult none = {1, 2, steps, curve + 31, 0, NULL};
    eval_final_return(&none, &score, &final_points);
    CHECK_INT(score.count, 0);
    CHECK(isnan(score.mean) && isnan(score.se));
}

/* Writes a freshly initialised rule of width 8 to path, in this build's precision. */
static int write_fresh_rule(const char *path)
{
    RuleLayout layout;
    rule_layout(&layout, 8);
    real *eta = calloc(layout.count, sizeof(real));
    Rng rng;
    rng_seed(&rng, 11, 0);
    rule_init(eta, &layout, &rng);
    CheckpointWriter w;
    checkpoint_writer_init(&w);
    int rc = rule_file_add(&w, &layout, eta) || checkpoint_write(&w, path);
    checkpoint_writer_free(&w);
    free(eta);
    return rc ? -1 : 0;
}

/* Counts the lines of a file; -1 when it cannot be read. */
static int count_lines(const char *path)
{
    char *text = read_whole_file(path, NULL);
    if (!text)
        return -1;
    int lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    free(text);
    return lines;
}

TEST(eval_runs_in_process_with_a_fresh_rule)
{
    CHECK_INT(write_fresh_rule("build/test_eval_fresh.lpg"), 0);
    char *over[] = {"rule=build/test_eval_fresh.lpg", "output_dir=build/test_eval_inprocess"};
    EvalConfig c;
    CHECK_INT(eval_config_load(&c, TINY, 2, over), 0);
    CHECK_INT(c.envs.count, 2);
    CHECK(strcmp(c.a2c_chain, "tests/configs/../../configs/a2c/chain.json") == 0);
    EvalRow rows[2];
    mute_stderr(); /* the progress lines */
    int rc = eval_run(&c, rows);
    unmute_stderr();
    CHECK_INT(rc, 0);
    CHECK(strcmp(rows[0].name, "chain_short") == 0 && rows[0].kind == ENV_CHAIN);
    CHECK(strcmp(rows[1].name, "tabular_sparse") == 0 && rows[1].kind == ENV_TABULAR_GRID);
    for (int i = 0; i < 2; i++) {
        CHECK_INT(rows[i].points, 5);
        CHECK_INT(rows[i].final_points, 1);
        const EvalScore *s[2] = {&rows[i].lpg, &rows[i].a2c};
        for (int m = 0; m < 2; m++) {
            CHECK(!s[m]->failed && s[m]->count == 2);
            CHECK(isfinite(s[m]->mean) && isfinite(s[m]->se) && s[m]->se >= 0);
        }
    }
    /* Chain returns are +1 or -1 per episode. */
    CHECK(fabs(rows[0].lpg.mean) <= 1 && fabs(rows[0].a2c.mean) <= 1);
    CHECK_INT(count_lines("build/test_eval_inprocess/chain_short.lpg.csv"), 6);
    CHECK_INT(count_lines("build/test_eval_inprocess/tabular_sparse.a2c.csv"), 6);
    CHECK_INT(eval_write_tables(&c, rows, 2), 0);
    CHECK_INT(count_lines("build/test_eval_inprocess/results.csv"), 3);
}

/* Finds the line of the table starting with prefix in text; copies it to line. */
static int find_line(const char *text, const char *prefix, char *line, size_t size)
{
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, prefix, strlen(prefix)) != 0)
            continue;
        size_t n = strcspn(p, "\n");
        snprintf(line, size, "%.*s", (int)n, p);
        return 1;
    }
    return 0;
}

/* A results.csv row: name,kind,2,1600,1,lpg mean,se,2,a2c mean,se,2,better; checks the
 * numbers are finite and the better column agrees with them. */
static void check_csv_row(const char *csv, const char *name, const char *kind)
{
    char line[512], prefix[128], env[64], kinds[64], better[16];
    snprintf(prefix, sizeof prefix, "%s,", name);
    CHECK(find_line(csv, prefix, line, sizeof line));
    int seeds, steps, final_points, lpg_n, a2c_n;
    double lpg, lpg_se, a2c, a2c_se;
    int got = sscanf(line, "%63[^,],%63[^,],%d,%d,%d,%lf,%lf,%d,%lf,%lf,%d,%15s", env, kinds,
                     &seeds, &steps, &final_points, &lpg, &lpg_se, &lpg_n, &a2c, &a2c_se, &a2c_n,
                     better);
    CHECK_INT(got, 12);
    if (got != 12)
        return;
    CHECK(strcmp(kinds, kind) == 0);
    CHECK(seeds == 2 && steps == 1600 && final_points == 1 && lpg_n == 2 && a2c_n == 2);
    CHECK(isfinite(lpg) && isfinite(lpg_se) && isfinite(a2c) && isfinite(a2c_se));
    CHECK(strcmp(better, eval_winner_name(eval_better(lpg, lpg_se, a2c, a2c_se))) == 0);
}

TEST(eval_command_writes_the_tables_and_curves)
{
    char out[16384], line[512];
    /* The binary writes its own rule (one meta-step of a tiny run), so that its precision
     * (float in build/lpg, double under the sanitizers) is the binary's. */
    CHECK_INT(run_lpg("meta-train tests/configs/meta_tiny.json meta_steps=1 --overwrite "
                      "run_dir=build/test_eval_rule", out, sizeof out), 0);
    remove("build/test_eval_tiny/results.md");
    remove("build/test_eval_tiny/results.csv");
    CHECK_INT(run_lpg("eval " TINY, out, sizeof out), 0);
    CHECK(strstr(out, "eval: chain_short lpg: final return ") != NULL);
    CHECK(strstr(out, "eval: tabular_sparse a2c: final return ") != NULL);
    CHECK(strstr(out, "| environment | kind | LPG | A2C | better |") != NULL);
    CHECK(strstr(out, "results: tests/configs/../../build/test_eval_tiny/results.md") != NULL);
    char *md = read_whole_file("build/test_eval_tiny/results.md", NULL);
    CHECK(md != NULL);
    if (md) {
        CHECK(strstr(md, "last 10% of its learning curve (the last 1 of 5 points)") != NULL);
        CHECK(strstr(md, "2 seeds (5 to 6)") != NULL);
        CHECK(find_line(md, "| chain_short | chain | ", line, sizeof line));
        CHECK(strstr(line, " ± ") != NULL);
        CHECK(find_line(md, "| tabular_sparse | tabular_grid | ", line, sizeof line));
        CHECK(strstr(md, "of 2 environments.") != NULL);
    }
    free(md);
    char *csv = read_whole_file("build/test_eval_tiny/results.csv", NULL);
    CHECK(csv != NULL);
    if (csv) {
        CHECK(strncmp(csv, "environment,kind,seeds,steps,final_points,lpg_mean,lpg_se,lpg_seeds,"
                           "a2c_mean,a2c_se,a2c_seeds,better\n", 90) == 0);
        check_csv_row(csv, "chain_short", "chain");
        check_csv_row(csv, "tabular_sparse", "tabular_grid");
    }
    free(csv);
    CHECK_INT(count_lines("build/test_eval_tiny/results.csv"), 3);
    CHECK_INT(count_lines("build/test_eval_tiny/chain_short.a2c.csv"), 6);
    CHECK_INT(count_lines("build/test_eval_tiny/tabular_sparse.lpg.csv"), 6);
}

TEST(eval_command_marks_a_failed_run_and_goes_on)
{
    char out[16384], line[512];
    CHECK_INT(run_lpg("meta-train tests/configs/meta_tiny.json meta_steps=1 --overwrite "
                      "run_dir=build/test_eval_rule", out, sizeof out), 0);
    /* A2C with SGD at lr 1e6 diverges on the chain (in float and double within 8000 steps);
     * the grid still runs. */
    CHECK(run_lpg("eval " TINY " output_dir=build/test_eval_failed steps=8000 "
                  "a2c_chain=tests/configs/eval_a2c_diverging.json", out, sizeof out) != 0);
    CHECK(strstr(out, ": parameters became NaN or infinite") != NULL); /* which seed first: timing */
    CHECK(strstr(out, "eval: chain_short a2c: failed after ") != NULL);
    CHECK(strstr(out, "eval: tabular_sparse a2c: final return ") != NULL);
    CHECK(strstr(out, "lpg: eval: some runs failed") != NULL);
    char *md = read_whole_file("build/test_eval_failed/results.md", NULL);
    CHECK(md && find_line(md, "| chain_short | chain | ", line, sizeof line));
    CHECK(md && strstr(line, " | failed | - |") != NULL);
    CHECK(md && strstr(md, "undecided on 1 of 2 environments.") != NULL);
    free(md);
    char *csv = read_whole_file("build/test_eval_failed/results.csv", NULL);
    CHECK(csv && find_line(csv, "chain_short,", line, sizeof line));
    CHECK(csv && strstr(line, ",nan,nan,0,-") != NULL);
    free(csv);
}

TEST(eval_command_help_lists_every_key)
{
    char out[16384];
    CHECK_INT(run_lpg("eval --help", out, sizeof out), 0);
    CHECK(strstr(out, "usage: lpg eval <config.json> [key=value ...]") != NULL);
    for (int i = 0; i < eval_config_num_fields; i++) {
        char line[64];
        snprintf(line, sizeof line, "  %s ", eval_config_fields[i].key);
        CHECK(strstr(out, line) != NULL);
    }
    CHECK(strstr(out, "[default: \"../checkpoints/grid.lpg\"]") != NULL);
    CHECK(strstr(out, "[default: 16]") != NULL);
    CHECK_INT(run_lpg("help", out, sizeof out), 0);
    CHECK(strstr(out, "  eval ") != NULL);
}

/* Runs `lpg eval args`, expects a non-zero exit and message in the output. */
static void check_eval_error(const char *args, const char *message)
{
    char cmd[1024], out[8192];
    snprintf(cmd, sizeof cmd, "eval %s", args);
    int status = run_lpg(cmd, out, sizeof out);
    if (status == 0 || !strstr(out, message)) {
        fprintf(stderr, "  lpg %s: exit %d, output: %s  expected: %s\n", cmd, status, out,
                message);
        CHECK(0);
    }
}

TEST(eval_command_rejects_bad_configs_and_rules)
{
    const char *cfg = TINY " output_dir=build/test_eval_err";
    char args[512];
    check_eval_error("", "lpg: eval: no config given");
    check_eval_error("tests/configs/no_such_eval.json",
                     "lpg: tests/configs/no_such_eval.json: cannot open");
    check_eval_error("tests/configs/eval_bad_key.json",
                     "lpg: tests/configs/eval_bad_key.json: unknown key 'lr'");
    snprintf(args, sizeof args, "%s bogus=1", cfg);
    check_eval_error(args, "unknown key 'bogus'");
    snprintf(args, sizeof args, "%s seeds=0", cfg);
    check_eval_error(args, "key 'seeds': value 0 is out of range");
    snprintf(args, sizeof args, "%s rule=build/no_such_rule.lpg", cfg);
    check_eval_error(args, "lpg: build/no_such_rule.lpg: cannot open");
    snprintf(args, sizeof args, "%s rule=tests/configs/bad_rule.lpg", cfg);
    check_eval_error(args, "lpg: tests/configs/bad_rule.lpg: not a checkpoint");
    /* The default rule is relative to the config file (there is no tests/checkpoints/). */
    check_eval_error("tests/configs/eval_defaults.json",
                     "lpg: tests/configs/../checkpoints/grid.lpg: cannot open");
    snprintf(args, sizeof args, "%s envs=configs/envs/no_such_env.json", cfg);
    check_eval_error(args, "lpg: configs/envs/no_such_env.json: cannot open");
    snprintf(args, sizeof args, "%s envs=%s,%s", cfg, "configs/envs/chain_short.json",
             "configs/envs/chain_short.json");
    check_eval_error(args, "key 'envs': configs/envs/chain_short.json and "
                           "configs/envs/chain_short.json are both named \"chain_short\"");
    snprintf(args, sizeof args, "%s a2c_chain=tests/configs/bad_train_steps.json", cfg);
    check_eval_error(args, "key 'a2c_chain': cannot use the A2C config "
                           "tests/configs/bad_train_steps.json");
    snprintf(args, sizeof args, "%s a2c_tabular_grid=tests/configs/no_such_a2c.json", cfg);
    check_eval_error(args, "lpg: tests/configs/no_such_a2c.json: cannot open");
    /* Chains with distraction bits (MLP agents) have their own A2C config. */
    snprintf(args, sizeof args, "%s envs=configs/envs/chain_distraction.json "
             "a2c_chain_distraction=tests/configs/no_such_a2c.json", cfg);
    check_eval_error(args, "key 'a2c_chain_distraction': cannot use the A2C config");
    snprintf(args, sizeof args, "%s mlp_hidden=8.5", cfg);
    check_eval_error(args, "key 'mlp_hidden': widths must be integers");
}

TEST(eval_config_defaults_are_relative_to_the_config)
{
    EvalConfig c;
    char *over[] = {"envs=configs/envs/chain_short.json"};
    CHECK_INT(eval_config_load(&c, "tests/configs/eval_defaults.json", 1, over), 0);
    CHECK(strcmp(c.rule, "tests/configs/../checkpoints/grid.lpg") == 0);
    CHECK(strcmp(c.a2c_random_grid, "tests/configs/a2c/random_grid.json") == 0);
    CHECK(strcmp(c.output_dir, "tests/configs/../results/eval") == 0);
    CHECK(strcmp(c.envs.item[0], "configs/envs/chain_short.json") == 0);
    CHECK_INT(c.seeds, 2);
    CHECK_INT(c.log_points, 50);
}

TEST(eval_default_config_matches_the_meta_training_lifetime)
{
    /* configs/eval.json: the five training grids and the nine held-out environments, each seed
     * one lifetime of configs/grid.json (same copies and unroll). */
    EvalConfig c;
    MetaConfig grid;
    CHECK_INT(eval_config_load(&c, "configs/eval.json", 0, NULL), 0);
    CHECK_INT(meta_config_load(&grid, "configs/grid.json", 0, NULL), 0);
    CHECK_INT(c.envs.count, 14);
    CHECK_INT(c.seeds, 16);
    CHECK_INT(c.steps, (long long)grid.lifetime_updates * grid.copies * grid.unroll);
    CHECK_INT(c.copies, grid.copies);
    CHECK_INT(c.unroll, grid.unroll);
    CHECK(strcmp(c.rule, "configs/../checkpoints/grid.lpg") == 0);
    /* LPG's tabular step is one the rule was meta-trained with. */
    int trained_with = 0;
    for (int i = 0; i < grid.tabular_lrs.count; i++)
        trained_with |= grid.tabular_lrs.item[i] == c.tabular_alpha_lr;
    CHECK(trained_with);
    /* A2C on the grids is tuned at the evaluation's own budget: same steps and copies. */
    TrainConfig a2c;
    CHECK_INT(train_config_load(&a2c, c.a2c_tabular_grid, 0, NULL), 0);
    CHECK_INT(a2c.steps, c.steps);
    CHECK_INT(a2c.copies, c.copies);
    CHECK_INT(a2c.unroll, c.unroll);
    EvalConfig quick;
    CHECK_INT(eval_config_load(&quick, "configs/eval_quick.json", 0, NULL), 0);
    CHECK_INT(quick.envs.count, 14);
    CHECK_INT(quick.seeds, 4);
    CHECK(quick.steps < c.steps);
}
