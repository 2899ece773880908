/* test_eval.c: `lpg eval` (eval.h): the "better" decision and the final return on constructed
 * numbers, a tiny evaluation in process with a freshly initialised rule, the same through the
 * binary (tables and curves on disk), and the command's help and error messages. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
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

/* Writes a freshly initialised rule of width 8 to path, in this build's precision. */
static int write_fresh_rule(const char *path)
{
    RuleLayout layout;
    rule_layout(&layout, 8);
    real *eta = calloc(layout.count, sizeof(real));
    Rng rng;
    rng_seed(&rng, 11, 0);
    rule_init(eta, &layout, &rng);
    int rc = write_rule_file_width8(path, eta);
    free(eta);
    return rc;
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
    REQUIRE(eval_config_load(&c, TINY, 2, over) == 0);
    CHECK_INT(c.envs.count, 2);
    CHECK_INT(c.num_rules, 1);
    CHECK(strcmp(c.rules[0].name, "lpg") == 0);
    CHECK(strcmp(c.rules[0].path, "build/test_eval_fresh.lpg") == 0);
    CHECK(strcmp(c.a2c[EVAL_CHAIN], "tests/configs/../../configs/a2c/chain.json") == 0);
    EvalRow rows[2];
    mute_stderr(); /* the progress lines */
    int rc = eval_run(&c, rows);
    unmute_stderr();
    CHECK_INT(rc, 0);
    CHECK(strcmp(rows[0].name, "chain_short") == 0 && rows[0].kind == ENV_CHAIN);
    CHECK(strcmp(rows[1].name, "tabular_sparse") == 0 && rows[1].kind == ENV_TABULAR_GRID);
    for (int i = 0; i < 2; i++)
        for (int m = 0; m < 2; m++) {
            const TrainScore *s = &rows[i].method[m].score;
            CHECK(!rows[i].method[m].failed && s->seeds == 2);
            CHECK(isfinite(s->mean) && isfinite(s->se) && s->se >= 0);
            CHECK_INT(s->steps, 160); /* 10 updates of 160 steps: the last one */
        }
    /* Chains pay at most 1 per episode, and an episode takes at least 5 steps (length_min). */
    for (int m = 0; m < 2; m++)
        CHECK(fabs(rows[0].method[m].score.mean) <= 0.2);
    CHECK_INT(count_lines("build/test_eval_inprocess/chain_short.lpg.csv"), 6);
    CHECK_INT(count_lines("build/test_eval_inprocess/tabular_sparse.a2c.csv"), 6);
    CHECK_INT(eval_write_tables(&c, rows, 2), 0);
    CHECK_INT(count_lines("build/test_eval_inprocess/results.csv"), 5);
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

/* A results.csv row of env name and method: checks its fields and returns its mean and se. */
static void check_csv_row(const char *csv, const char *name, const char *kind, const char *method,
                          double *mean, double *se)
{
    char line[512], prefix[128], verdict[16] = "";
    snprintf(prefix, sizeof prefix, "%s,%s,%s,", name, kind, method);
    CHECK(find_line(csv, prefix, line, sizeof line));
    int seeds, steps, final_steps, scored, episodes;
    double ret, ret_se;
    int got = sscanf(line + strlen(prefix), "%d,%d,%d,%lf,%lf,%d,%d,%lf,%lf,%15s", &seeds, &steps,
                     &final_steps, mean, se, &scored, &episodes, &ret, &ret_se, verdict);
    CHECK(got >= 9);
    CHECK(seeds == 2 && steps == 1600 && final_steps == 160 && scored == 2 && episodes > 0);
    CHECK(isfinite(*mean) && isfinite(*se) && isfinite(ret) && isfinite(ret_se));
    CHECK_INT(got, strcmp(method, "a2c") == 0 ? 9 : 10); /* A2C has no verdict */
}

/* The rule's verdict in its results.csv row agrees with the numbers. */
static void check_csv_verdict(const char *csv, const char *name, const char *kind)
{
    double lpg, lpg_se, a2c, a2c_se;
    char line[512], prefix[128];
    check_csv_row(csv, name, kind, "lpg", &lpg, &lpg_se);
    check_csv_row(csv, name, kind, "a2c", &a2c, &a2c_se);
    EvalWinner w = eval_better(lpg, lpg_se, a2c, a2c_se);
    const char *word = w == EVAL_LPG ? ",better\n" : w == EVAL_A2C ? ",worse\n" : ",tie\n";
    snprintf(prefix, sizeof prefix, "%s,%s,lpg,", name, kind);
    CHECK(find_line(csv, prefix, line, sizeof line));
    strcat(line, "\n");
    CHECK(strstr(line, word) != NULL);
}

/* The number after "key": in text, or NaN when the key is missing or null. */
static double json_number_of(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(item) ? item->valuedouble : NAN;
}

/* results.json agrees with results.csv (csv): the methods in order, and for each environment and
 * method the mean, se, seeds, episodes and verdict. */
static void check_results_json(const char *path, const char *csv, const char *const *methods,
                               int num_methods)
{
    char *text = read_whole_file(path, NULL);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    CHECK(root != NULL);
    if (!root)
        return;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "methods");
    CHECK_INT(cJSON_GetArraySize(list), num_methods);
    for (int m = 0; m < num_methods && m < cJSON_GetArraySize(list); m++) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, m), "name");
        CHECK(cJSON_IsString(name) && strcmp(name->valuestring, methods[m]) == 0);
    }
    const cJSON *envs = cJSON_GetObjectItemCaseSensitive(root, "environments");
    CHECK_INT(cJSON_GetArraySize(envs), 2);
    const cJSON *env;
    cJSON_ArrayForEach(env, envs) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(env, "name");
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(env, "kind");
        const cJSON *results = cJSON_GetObjectItemCaseSensitive(env, "results");
        CHECK(cJSON_IsString(name) && cJSON_IsString(kind) && cJSON_IsObject(results));
        CHECK_INT((int)json_number_of(env, "steps"), 1600);
        CHECK_INT((int)json_number_of(env, "final_steps"), 160);
        if (!cJSON_IsString(name) || !cJSON_IsString(kind) || !cJSON_IsObject(results))
            continue;
        for (int m = 0; m < num_methods; m++) {
            const cJSON *r = cJSON_GetObjectItemCaseSensitive(results, methods[m]);
            char prefix[128], line[512], verdict[16] = "";
            snprintf(prefix, sizeof prefix, "%s,%s,%s,", name->valuestring, kind->valuestring,
                     methods[m]);
            CHECK(r != NULL && find_line(csv, prefix, line, sizeof line));
            if (!r)
                continue;
            double mean, se;
            int seeds, episodes;
            int got = sscanf(line + strlen(prefix), "%*d,%*d,%*d,%lf,%lf,%d,%d,%*f,%*f,%15s",
                             &mean, &se, &seeds, &episodes, verdict);
            CHECK(got >= 4);
            CHECK(fabs(json_number_of(r, "mean") - mean) <= 1e-5 * fabs(mean) + 1e-12);
            CHECK(fabs(json_number_of(r, "se") - se) <= 1e-5 * fabs(se) + 1e-12);
            CHECK_INT((int)json_number_of(r, "seeds"), seeds);
            CHECK_INT((int)json_number_of(r, "episodes"), episodes);
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, "verdict");
            if (strcmp(methods[m], "a2c") == 0)
                CHECK(cJSON_IsNull(v));
            else
                CHECK(cJSON_IsString(v) && strcmp(v->valuestring, verdict) == 0);
            /* a rule's comparison: its p-value (under 0.0455 exactly when better or worse), the
             * Holm-adjusted one (never smaller) and the corrected verdict (a tie unless the
             * adjusted p-value is under 0.0455 too) */
            if (strcmp(methods[m], "a2c") == 0)
                continue;
            double p = json_number_of(r, "p_value"), p_holm = json_number_of(r, "p_holm");
            const cJSON *vh = cJSON_GetObjectItemCaseSensitive(r, "verdict_holm");
            CHECK((p < 0.0455) == (strcmp(verdict, "tie") != 0));
            CHECK(p_holm >= p && p_holm <= 1);
            CHECK(cJSON_IsString(vh) && strcmp(vh->valuestring, p_holm <= 0.0455 ? verdict : "tie") == 0);
        }
    }
    /* the verdict counts, with and without the correction, and the program's provenance */
    CHECK_INT((int)json_number_of(root, "comparisons"), 2 * (num_methods - 1));
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "counts"), methods[0]);
    CHECK_INT((int)(json_number_of(counts, "better") + json_number_of(counts, "worse") +
                    json_number_of(counts, "tie")), 2);
    CHECK(json_number_of(counts, "better_holm") <= json_number_of(counts, "better"));
    const cJSON *provenance = cJSON_GetObjectItemCaseSensitive(root, "provenance");
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(provenance, "openblas_core")));
    cJSON_Delete(root);
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
    remove("build/test_eval_tiny/results.json");
    CHECK_INT(run_lpg("eval " TINY, out, sizeof out), 0);
    CHECK(strstr(out, "eval: chain_short lpg: final score ") != NULL);
    CHECK(strstr(out, "eval: tabular_sparse a2c: final score ") != NULL);
    CHECK(strstr(out, "| environment | kind | lpg | A2C | lpg vs A2C |") != NULL);
    CHECK(strstr(out, " after correction for 2 comparisons), A2C better on ") != NULL);
    CHECK(strstr(out, "results: tests/configs/../../build/test_eval_tiny/results.md") != NULL);
    char *md = read_whole_file("build/test_eval_tiny/results.md", NULL);
    REQUIRE(md != NULL);
    if (md) {
        CHECK(strstr(md, "reward per step over its last 10% of steps, then") != NULL);
        CHECK(strstr(md, "1600 environment steps per seed (8 copies, 20 steps per update).") != NULL);
        CHECK(strstr(md, "2 seeds (5 to 6)") != NULL);
        CHECK(find_line(md, "| chain_short | chain | ", line, sizeof line));
        CHECK(strstr(line, " ± ") != NULL);
        CHECK(find_line(md, "| tabular_sparse | tabular_grid | ", line, sizeof line));
        CHECK(strstr(md, "of 2 environments.") != NULL);
    }
    free(md);
    char *csv = read_whole_file("build/test_eval_tiny/results.csv", NULL);
    REQUIRE(csv != NULL);
    if (csv) {
        const char *header = "environment,kind,method,seeds,steps,final_steps,mean,se,"
                             "scored_seeds,episodes,final_return,final_return_se,verdict\n";
        CHECK(strncmp(csv, header, strlen(header)) == 0);
        check_csv_verdict(csv, "chain_short", "chain");
        check_csv_verdict(csv, "tabular_sparse", "tabular_grid");
    }
    CHECK_INT(count_lines("build/test_eval_tiny/results.csv"), 5);
    CHECK_INT(count_lines("build/test_eval_tiny/chain_short.a2c.csv"), 6);
    CHECK_INT(count_lines("build/test_eval_tiny/tabular_sparse.lpg.csv"), 6);
    const char *methods[] = {"lpg", "a2c"};
    if (csv)
        check_results_json("build/test_eval_tiny/results.json", csv, methods, 2);
    free(csv);
}

TEST(eval_command_runs_several_rules_side_by_side)
{
    char out[16384], line[512];
    CHECK_INT(run_lpg("meta-train tests/configs/meta_tiny.json meta_steps=1 --overwrite "
                      "run_dir=build/test_eval_rule", out, sizeof out), 0);
    CHECK_INT(run_lpg("eval tests/configs/eval_rules.json", out, sizeof out), 0);
    CHECK(strstr(out, "| environment | kind | first | second | A2C | first vs A2C | second vs A2C |")
          != NULL);
    CHECK(strstr(out, "first: rule `tests/configs/../../build/test_eval_rule/rule.lpg` (α_lr 2 for "
                      "tabular agents (8 on chains), 0.5 for MLP agents; α_y 0.5).") != NULL);
    CHECK(strstr(out, "second: rule `tests/configs/../../build/test_eval_rule/rule.lpg` (α_lr 4 "
                      "for tabular agents (8 on chains), 0.25 for MLP agents, by Adam; α_y 1).") != NULL);
    CHECK(strstr(out, "first better on ") != NULL && strstr(out, "second better on ") != NULL);
    CHECK(find_line(out, "| chain_short | chain | ", line, sizeof line));
    CHECK_INT(count_lines("build/test_eval_rules/chain_short.first.csv"), 6);
    CHECK_INT(count_lines("build/test_eval_rules/chain_short.second.csv"), 6);
    CHECK_INT(count_lines("build/test_eval_rules/chain_short.a2c.csv"), 6);
    char *csv = read_whole_file("build/test_eval_rules/results.csv", NULL);
    CHECK(csv != NULL);
    const char *methods[] = {"first", "second", "a2c"};
    if (csv)
        check_results_json("build/test_eval_rules/results.json", csv, methods, 3);
    free(csv);
    /* The same seeds give A2C the same numbers as in a one-rule run. That rule, x, takes the
     * config's steps: tabular_alpha_lr 4, and 8 on chains (chain_alpha_lr). Rule "first" has
     * tabular_alpha_lr 2 and the same chain step, so the two agree on the chain and differ on
     * the tabular grid. */
    CHECK_INT(run_lpg("eval tests/configs/eval_rules.json rules=x:build/test_eval_rule/rule.lpg "
                      "output_dir=build/test_eval_rules_one", out, sizeof out), 0);
    const char *same[][2] = {
        {"build/test_eval_rules/chain_short.a2c.csv", "build/test_eval_rules_one/chain_short.a2c.csv"},
        {"build/test_eval_rules/chain_short.first.csv", "build/test_eval_rules_one/chain_short.x.csv"}};
    const char *differ[][2] = {{"build/test_eval_rules/tabular_sparse.first.csv",
                                "build/test_eval_rules_one/tabular_sparse.x.csv"}};
    for (int i = 0; i < 3; i++) {
        const char *const *pair = i < 2 ? same[i] : differ[i - 2];
        char *a = read_whole_file(pair[0], NULL), *b = read_whole_file(pair[1], NULL);
        CHECK(a && b && (strcmp(a, b) == 0) == (i < 2));
        free(a);
        free(b);
    }
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
    CHECK(strstr(out, "eval: tabular_sparse a2c: final score ") != NULL);
    CHECK(strstr(out, "lpg: eval: some runs failed") != NULL);
    char *md = read_whole_file("build/test_eval_failed/results.md", NULL);
    CHECK(md && find_line(md, "| chain_short | chain | ", line, sizeof line));
    CHECK(md && strstr(line, " | failed | - |") != NULL);
    CHECK(md && strstr(md, "lpg better on ") != NULL);
    CHECK(md && strstr(md, "undecided on 1 of 2 environments.") != NULL);
    free(md);
    char *csv = read_whole_file("build/test_eval_failed/results.csv", NULL);
    CHECK(csv && find_line(csv, "chain_short,chain,a2c,", line, sizeof line));
    CHECK(csv && strcmp(line, "chain_short,chain,a2c,2,8000,800,nan,nan,0,0,nan,nan,") == 0);
    CHECK(csv && find_line(csv, "chain_short,chain,lpg,", line, sizeof line));
    CHECK(csv && line[strlen(line) - 1] == ','); /* no verdict against a failed run */
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
    CHECK(strstr(out, "[default: \"../checkpoints/general.lpg\"]") != NULL);
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
                     "lpg: tests/configs/../checkpoints/general.lpg: cannot open");
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
    check_eval_error(args, "key 'mlp_hidden': item 0 is not an integer");
    /* Lists of rules. */
    check_eval_error("tests/configs/eval_rule_and_rules.json",
                     "lpg: tests/configs/eval_rule_and_rules.json: keys 'rule' and 'rules': give "
                     "one or the other");
    check_eval_error("tests/configs/eval_rules_bad.json",
                     "lpg: tests/configs/eval_rules_bad.json: rules[1]: unknown key 'alpha_lr'");
    snprintf(args, sizeof args, "%s rules=a2c:x.lpg", cfg);
    check_eval_error(args, "override 'rules': key 'name': \"a2c\" must be 1 to 31 letters");
    snprintf(args, sizeof args, "%s rules=my/rule:x.lpg", cfg);
    check_eval_error(args, "key 'name': \"my/rule\" must be 1 to 31 letters, digits");
    snprintf(args, sizeof args, "%s rules=a:x.lpg,a:y.lpg", cfg);
    check_eval_error(args, "override 'rules': key 'rules': two rules are named \"a\"");
    snprintf(args, sizeof args, "%s rules=x.lpg", cfg);
    check_eval_error(args, "override 'rules': expected <name>:<file>, got 'x.lpg'");
    snprintf(args, sizeof args, "%s rules=a:tests/configs/bad_rule.lpg", cfg);
    check_eval_error(args, "lpg: tests/configs/bad_rule.lpg: not a checkpoint");
    snprintf(args, sizeof args, "%s rules=a:x.lpg,b:x.lpg,c:x.lpg,d:x.lpg,e:x.lpg,f:x.lpg,g:x.lpg,h:x.lpg,i:x.lpg", cfg);
    check_eval_error(args, "key 'rules': at most 8 rules");
}

TEST(eval_config_defaults_are_relative_to_the_config)
{
    EvalConfig c;
    char *over[] = {"envs=configs/envs/chain_short.json"};
    REQUIRE(eval_config_load(&c, "tests/configs/eval_defaults.json", 1, over) == 0);
    CHECK(strcmp(c.rule, "tests/configs/../checkpoints/general.lpg") == 0);
    CHECK(strcmp(c.a2c[EVAL_RANDOM_GRID], "tests/configs/a2c/random_grid.json") == 0);
    CHECK(strcmp(c.output_dir, "tests/configs/../results/eval") == 0);
    CHECK(strcmp(c.envs.item[0], "configs/envs/chain_short.json") == 0);
    CHECK_INT(c.seeds, 2);
    CHECK_INT(c.log_points, 50);
}

TEST(eval_family_budgets_replace_steps)
{
    /* steps_chain replaces steps on chains only; a family without its key keeps steps. */
    char *over[] = {"steps_chain=3200", "steps_random_grid=6400", "steps_minatar=9600"};
    EvalConfig c;
    EnvSpec chain, grid, random, minatar;
    REQUIRE(eval_config_load(&c, TINY, 3, over) == 0);
    REQUIRE(env_load("configs/envs/chain_short.json", &chain) == 0);
    REQUIRE(env_load("configs/envs/tabular_sparse.json", &grid) == 0);
    REQUIRE(env_load("configs/envs/random_small.json", &random) == 0);
    REQUIRE(env_load("configs/envs/minatar/asterix.json", &minatar) == 0);
    CHECK_INT(eval_env_steps(&c, &chain), 3200);
    CHECK_INT(eval_env_steps(&c, &random), 6400);
    CHECK_INT(eval_env_steps(&c, &minatar), 9600);
    CHECK_INT(eval_env_steps(&c, &grid), c.steps);
    char *md = eval_table_markdown(&c, NULL, 0);
    REQUIRE(md != NULL);
    CHECK(strstr(md, "steps per update), except random grids 6400, chains 3200, MinAtar 9600.") != NULL);
    free(md);
}

static int path_listed(const ConfigPathList *list, const char *path)
{
    for (int i = 0; i < list->count; i++)
        if (strcmp(list->item[i], path) == 0)
            return 1;
    return 0;
}

static int value_listed(const ConfigDoubleList *list, double value)
{
    for (int i = 0; i < list->count; i++)
        if (list->item[i] == value)
            return 1;
    return 0;
}

TEST(eval_default_config_covers_every_training_variant_and_holds_out_the_rest)
{
    /* configs/eval.json: the general rule and the grid specialist against A2C on the fifteen
     * variants the general rule was meta-trained on (configs/general_adam.json) and on eleven
     * held-out environments it never saw; tabular and chain seeds are one meta-training lifetime
     * long, random grids get the budget A2C was tuned at. */
    EvalConfig c;
    MetaConfig general;
    REQUIRE(eval_config_load(&c, "configs/eval.json", 0, NULL) == 0);
    REQUIRE(meta_config_load(&general, "configs/general_adam.json", 0, NULL) == 0);
    CHECK_INT(c.envs.count, 26);
    CHECK_INT(general.envs.count, 15);
    for (int i = 0; i < general.envs.count; i++)
        CHECK(path_listed(&c.envs, general.envs.item[i]));
    int held_out = 0;
    for (int i = 0; i < c.envs.count; i++)
        if (!path_listed(&general.envs, c.envs.item[i])) {
            held_out++;
            CHECK(strstr(c.envs.item[i], "/heldout/") != NULL);
        }
    CHECK_INT(held_out, 11);
    CHECK_INT(c.seeds, 16);
    CHECK_INT(c.steps, (long long)general.lifetime_updates * general.copies * general.unroll);
    CHECK_INT(c.copies, general.copies);
    CHECK_INT(c.unroll, general.unroll);
    REQUIRE(c.num_rules == 2);
    CHECK(strcmp(c.rules[0].path, "configs/../checkpoints/general.lpg") == 0);
    CHECK(strcmp(c.rules[1].path, "configs/../checkpoints/grid.lpg") == 0);
    /* The general rule's steps are ones it was meta-trained with, by the same optimizer. */
    CHECK(value_listed(&general.tabular_lrs, c.rules[0].tabular_alpha_lr));
    CHECK(value_listed(&general.mlp_lrs, c.rules[0].mlp_alpha_lr));
    CHECK(value_listed(&general.alpha_ys, c.rules[0].alpha_y));
    CHECK(strcmp(c.rules[0].inner_optimizer, inner_optimizer_names[general.optimizer]) == 0);
    /* The grid specialist keeps its own tuned steps: one tabular step, chains included. */
    CHECK(c.rules[1].chain_alpha_lr == c.rules[1].tabular_alpha_lr);
    CHECK(c.rules[1].alpha_y == 0.5);
    /* A2C is tuned at the evaluation's own budget per family: same steps and copies. */
    TrainConfig a2c;
    REQUIRE(train_config_load(&a2c, c.a2c[EVAL_TABULAR_GRID], 0, NULL) == 0);
    CHECK_INT(a2c.steps, c.steps);
    CHECK_INT(a2c.copies, c.copies);
    CHECK_INT(a2c.unroll, c.unroll);
    REQUIRE(train_config_load(&a2c, c.a2c[EVAL_RANDOM_GRID], 0, NULL) == 0);
    CHECK_INT(a2c.steps, c.family_steps[EVAL_RANDOM_GRID]);
    CHECK_INT(a2c.copies, c.copies);
    EvalConfig quick;
    REQUIRE(eval_config_load(&quick, "configs/eval_quick.json", 0, NULL) == 0);
    CHECK_INT(quick.envs.count, c.envs.count);
    CHECK_INT(quick.seeds, 4);
    CHECK(quick.steps < c.steps && quick.family_steps[EVAL_RANDOM_GRID] < c.family_steps[EVAL_RANDOM_GRID]);
}

TEST(eval_demo_config_covers_each_family_in_a_small_budget)
{
    /* make demo: the shipped rule on tabular grids, a random grid and a chain, at most 8 seeds
     * and about 8M environment steps per method in all, so that it runs in well under 2
     * minutes on 2 cores. */
    EvalConfig c;
    CHECK_INT(eval_config_load(&c, "configs/demo.json", 0, NULL), 0);
    int kinds[3] = {0};
    long long steps = 0;
    for (int i = 0; i < c.envs.count; i++) {
        EnvSpec spec;
        CHECK_INT(env_load(c.envs.item[i], &spec), 0);
        if (spec.kind <= ENV_CHAIN)
            kinds[spec.kind]++;
        steps += eval_env_steps(&c, &spec);
    }
    CHECK(kinds[ENV_TABULAR_GRID] >= 1 && kinds[ENV_RANDOM_GRID] >= 1 && kinds[ENV_CHAIN] >= 1);
    CHECK(c.seeds <= 8 && c.seeds * steps <= 8LL * 1100000);
    CHECK_INT(c.num_rules, 1);
    CHECK(strcmp(c.rules[0].path, "configs/../checkpoints/general.lpg") == 0);
    CHECK(strcmp(c.output_dir, "configs/../results/demo") == 0);
}

TEST(eval_config_reads_a_list_of_rules_and_the_one_rule_override)
{
    EvalConfig c;
    CHECK_INT(eval_config_load(&c, "tests/configs/eval_rules.json", 0, NULL), 0);
    CHECK_INT(c.num_rules, 2);
    CHECK(strcmp(c.rules[0].name, "first") == 0 && strcmp(c.rules[1].name, "second") == 0);
    CHECK(strcmp(c.rules[1].path, "tests/configs/../../build/test_eval_rule/rule.lpg") == 0);
    /* Each rule's own alphas, else the config's (tabular_alpha_lr 4 in the file, mlp 0.5). */
    CHECK(c.rules[0].tabular_alpha_lr == 2 && c.rules[0].mlp_alpha_lr == 0.5);
    CHECK(c.rules[1].tabular_alpha_lr == 4 && c.rules[1].mlp_alpha_lr == 0.25);
    /* alpha_y too: the second rule sets its own, the first takes the config's default. */
    CHECK(c.rules[0].alpha_y == 0.5 && c.rules[1].alpha_y == 1);
    CHECK(strcmp(c.rules[0].inner_optimizer, "sgd") == 0);
    CHECK(strcmp(c.rules[1].inner_optimizer, "adam") == 0);
    /* rule=<file> replaces the list with that one rule, named lpg; an alpha override reaches
     * the rules that do not set their own. */
    char *over[] = {"rule=x.lpg", "mlp_alpha_lr=0.125", "inner_optimizer=adam"};
    CHECK_INT(eval_config_load(&c, "tests/configs/eval_rules.json", 3, over), 0);
    CHECK_INT(c.num_rules, 1);
    CHECK(strcmp(c.rules[0].name, "lpg") == 0 && strcmp(c.rules[0].path, "x.lpg") == 0);
    CHECK(c.rules[0].tabular_alpha_lr == 4 && c.rules[0].mlp_alpha_lr == 0.125);
    CHECK(strcmp(c.rules[0].inner_optimizer, "adam") == 0);
    char *bad[] = {"inner_optimizer=rmsprop"};
    mute_stderr();
    CHECK_INT(eval_config_load(&c, "tests/configs/eval_rules.json", 1, bad), -1);
    unmute_stderr();
    char *two[] = {"rules=a:x.lpg,b:y.lpg"};
    CHECK_INT(eval_config_load(&c, TINY, 1, two), 0);
    CHECK_INT(c.num_rules, 2);
    CHECK(strcmp(c.rules[1].name, "b") == 0 && strcmp(c.rules[1].path, "y.lpg") == 0);
}

TEST(eval_minatar_config_covers_the_five_games_with_the_three_rules)
{
    /* configs/eval_minatar.json: the five games, the grid, all-families and general rules and
     * A2C with its MinAtar config, 8 or more seeds away from those the rules' alpha_lr was chosen
     * on (100, 101), one budget for every method; grid and all take SGD inner steps, general
     * (meta-trained with Adam inner steps) Adam's; the budget of 5M frames per seed. */
    EvalConfig c;
    REQUIRE(eval_config_load(&c, "configs/eval_minatar.json", 0, NULL) == 0);
    CHECK_INT(c.envs.count, 5);
    for (int i = 0; i < c.envs.count; i++) {
        EnvSpec spec;
        CHECK_INT(env_load(c.envs.item[i], &spec), 0);
        CHECK_INT(spec.kind, ENV_MINATAR);
        CHECK_INT(eval_env_steps(&c, &spec), c.steps);
    }
    CHECK(c.seeds >= 8);
    CHECK(c.seed > 101);
    CHECK_INT(c.steps, 5000000);
    CHECK_INT(c.num_rules, 3);
    CHECK(strcmp(c.rules[0].path, "configs/../checkpoints/grid.lpg") == 0);
    CHECK(strcmp(c.rules[1].path, "configs/../checkpoints/all.lpg") == 0);
    CHECK(strcmp(c.rules[2].path, "configs/../checkpoints/general.lpg") == 0);
    CHECK(strcmp(c.rules[0].inner_optimizer, "sgd") == 0);
    CHECK(strcmp(c.rules[1].inner_optimizer, "sgd") == 0);
    CHECK(strcmp(c.rules[2].inner_optimizer, "adam") == 0);
    CHECK(c.rules[0].mlp_alpha_lr == 2 && c.rules[1].mlp_alpha_lr == 8);
    CHECK(c.rules[2].mlp_alpha_lr == 0.003);
    for (int r = 0; r < c.num_rules; r++)
        CHECK(c.rules[r].alpha_y == 0.5);
    CHECK(strcmp(c.a2c[EVAL_MINATAR], "configs/a2c/minatar.json") == 0);
    CHECK(strcmp(c.output_dir, "configs/../results/minatar/rules_5m") == 0);
}

TEST(eval_minatar_training_sets_config_matches_the_rules_evaluation)
{
    /* configs/eval_minatar_training_sets.json (Figure 9): four rules of growing training sets,
     * each file present, all taking the general rule's MinAtar step (Adam 0.003, alpha_y 0.5),
     * on the games, first seeds and budget of configs/eval_minatar.json, so that A2C's runs are
     * the same runs (4 of its 8 seeds: five methods at 5M frames fit in a session beside it). */
    EvalConfig c, base;
    REQUIRE(eval_config_load(&c, "configs/eval_minatar_training_sets.json", 0, NULL) == 0);
    REQUIRE(eval_config_load(&base, "configs/eval_minatar.json", 0, NULL) == 0);
    CHECK_INT(c.num_rules, 4);
    for (int r = 0; r < c.num_rules; r++) {
        FILE *f = fopen(c.rules[r].path, "rb");
        CHECK(f != NULL);
        if (f)
            fclose(f);
        CHECK(strcmp(c.rules[r].inner_optimizer, "adam") == 0);
        CHECK(c.rules[r].mlp_alpha_lr == base.rules[2].mlp_alpha_lr);
        CHECK(c.rules[r].alpha_y == base.rules[2].alpha_y);
    }
    CHECK_INT(c.envs.count, base.envs.count);
    for (int i = 0; i < c.envs.count && i < base.envs.count; i++)
        CHECK(strcmp(c.envs.item[i], base.envs.item[i]) == 0);
    CHECK_INT(c.seed, base.seed);
    CHECK(c.seeds >= 4 && c.seeds <= base.seeds);
    CHECK_INT(c.steps, base.steps);
    CHECK_INT(c.copies, base.copies);
    CHECK_INT(c.unroll, base.unroll);
    CHECK_INT(c.mlp_hidden.count, base.mlp_hidden.count);
    CHECK(c.mlp_hidden.count == 1 && c.mlp_hidden.item[0] == base.mlp_hidden.item[0]);
    CHECK(strcmp(c.a2c[EVAL_MINATAR], base.a2c[EVAL_MINATAR]) == 0);
    CHECK(strcmp(c.output_dir, "configs/../results/minatar/training_sets_5m") == 0);
}
