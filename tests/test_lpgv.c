/* test_lpgv.c: the kinds of rule beyond LPG (rule.h): LPG-V and LPG with unconstrained y. Their
 * rule files keep the kind (and LPG-V's value settings) and refuse damaged ones; meta-training
 * learns the kind its config names; `lpg train` refuses a rule of the wrong kind and `lpg eval`
 * applies each rule as its file says. The meta-gradients' finite-difference checks are in
 * test_metagrad.c and test_rule.c. */
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "meta_train.h"
#include "rule_file.h"
#include "test.h"

#define TINY "tests/configs/meta_tiny.json"
#define RULE_V "build/test_lpgv_rule_v.lpg"
#define RULE_RAW "build/test_lpgv_rule_raw.lpg"

/* Writes a fresh rule of width 8 of the given kind with the given extra sections (NULL: the
 * kind's own) to path. */
static int write_kind(const char *path, const RuleLayout *layout)
{
    real *eta = calloc(layout->count, sizeof(real));
    Rng rng;
    rng_seed(&rng, 4, 0);
    rule_init(eta, layout, &rng);
    CheckpointWriter w;
    checkpoint_writer_init(&w);
    int rc = rule_file_add(&w, layout, eta) || checkpoint_write(&w, path);
    checkpoint_writer_free(&w);
    free(eta);
    return rc ? -1 : 0;
}

static RuleLayout lpg_v_layout(void)
{
    RuleLayout layout;
    rule_layout(&layout, 8);
    layout.method = RULE_LPG_V;
    layout.value_lr = 0.25;
    layout.value_tabular_lr = 0.5;
    layout.value_lambda = 0.9;
    return layout;
}

TEST(rule_files_keep_their_kind)
{
    RuleLayout v = lpg_v_layout(), raw, plain, back;
    rule_layout(&raw, 8);
    raw.y_raw = 1;
    rule_layout(&plain, 8);
    REQUIRE(write_kind(RULE_V, &v) == 0 && write_kind(RULE_RAW, &raw) == 0);
    real *eta = rule_file_load(RULE_V, &back);
    REQUIRE(eta != NULL);
    CHECK(back.method == RULE_LPG_V && back.y_raw == 0);
    CHECK(back.value_lr == 0.25 && back.value_tabular_lr == 0.5 && back.value_lambda == 0.9);
    CHECK(strcmp(rule_kind_name(&back), "lpg_v") == 0);
    free(eta);
    eta = rule_file_load(RULE_RAW, &back);
    REQUIRE(eta != NULL);
    CHECK(back.method == RULE_LPG && back.y_raw == 1);
    CHECK(strcmp(rule_kind_name(&back), "lpg_raw_y") == 0);
    free(eta);
    CHECK(strcmp(rule_kind_name(&plain), "lpg") == 0);
    char out[8192];
    CHECK_INT(run_lpg("info " RULE_V, out, sizeof out), 0);
    CHECK(strstr(out, "kind lpg_v (value: lr 0.25, tabular lr 0.5, lambda 0.9)") != NULL);
}

/* A file from before rule kinds (no rule_kind section) is an LPG rule. */
TEST(rule_files_without_a_kind_are_lpg)
{
    RuleLayout layout, back;
    rule_layout(&layout, 8);
    real *eta = calloc(layout.count, sizeof(real));
    int64_t hidden = 8;
    CheckpointWriter w;
    checkpoint_writer_init(&w);
    CHECK_INT(checkpoint_add_int64(&w, "rule_hidden", &hidden, 1), 0);
    CHECK_INT(checkpoint_add_real(&w, "eta", eta, layout.count), 0);
    CHECK_INT(checkpoint_write(&w, "build/test_lpgv_old.lpg"), 0);
    checkpoint_writer_free(&w);
    free(eta);
    eta = rule_file_load("build/test_lpgv_old.lpg", &back);
    CHECK(eta != NULL && back.method == RULE_LPG && back.y_raw == 0 && back.count == layout.count);
    free(eta);
}

/* Writes a rule of width 8 with the sections rule_kind = kind (kind_count values) and, when
 * value is not NULL, rule_value = value (value_bytes). */
static int write_crafted(const char *path, const int64_t *kind, size_t kind_count,
                         const double *value, size_t value_bytes)
{
    RuleLayout layout;
    rule_layout(&layout, 8);
    real *eta = calloc(layout.count, sizeof(real));
    int64_t hidden = 8;
    CheckpointWriter w;
    checkpoint_writer_init(&w);
    int rc = checkpoint_add_int64(&w, "rule_hidden", &hidden, 1) ||
             checkpoint_add_int64(&w, "rule_kind", kind, kind_count) ||
             (value && checkpoint_add_bytes(&w, "rule_value", value, value_bytes)) ||
             checkpoint_add_real(&w, "eta", eta, layout.count) || checkpoint_write(&w, path);
    checkpoint_writer_free(&w);
    free(eta);
    return rc ? -1 : 0;
}

/* Loading path fails with a message containing expected, from rule_file_load and `lpg info`. */
static void check_refused(const char *path, const char *expected)
{
    RuleLayout layout;
    char out[8192], args[512];
    CHECK(rule_file_load(path, &layout) == NULL);
    snprintf(args, sizeof args, "info %s", path);
    CHECK_INT(run_lpg(args, out, sizeof out), 1);
    if (!strstr(out, expected))
        fprintf(stderr, "  got: %s  expected: %s\n", out, expected);
    CHECK(strstr(out, expected) != NULL);
}

TEST(rule_files_with_a_bad_kind_are_refused)
{
    const char *path = "build/test_lpgv_crafted.lpg";
    const double good[3] = {0.5, 0.5, 0.95};
    const int64_t kinds[][2] = {{2, 0}, {-1, 0}, {0, 2}, {1, 1}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        REQUIRE(write_crafted(path, kinds[i], 2, good, sizeof good) == 0);
        check_refused(path, "section 'rule_kind'");
        check_refused(path, "is no kind of rule");
    }
    const int64_t lpg_v[2] = {1, 0};
    REQUIRE(write_crafted(path, lpg_v, 1, good, sizeof good) == 0); /* too short */
    check_refused(path, "rule_kind");
    REQUIRE(write_crafted(path, lpg_v, 2, NULL, 0) == 0); /* LPG-V without its value */
    check_refused(path, "rule_value");
    const double bad[][3] = {{-1, 0.5, 0.9}, {0.5, 2, 0.9}, {0.5, 0.5, 1.5}, {NAN, 0.5, 0.9},
                             {0.5, 0.5, NAN}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        REQUIRE(write_crafted(path, lpg_v, 2, bad[i], sizeof bad[i]) == 0);
        check_refused(path, "section 'rule_value': the value's settings");
    }
    REQUIRE(write_crafted(path, lpg_v, 2, good, 16) == 0); /* two doubles, not three */
    check_refused(path, "rule_value");
}

/* An LPG-V rule at RULE_V and an unconstrained-y LPG rule at RULE_RAW, both width 8. */
static int write_both_kinds(void)
{
    RuleLayout v = lpg_v_layout(), raw;
    rule_layout(&raw, 8);
    raw.y_raw = 1;
    return write_kind(RULE_V, &v) || write_kind(RULE_RAW, &raw) ? -1 : 0;
}

TEST(train_refuses_a_rule_of_the_other_kind)
{
    REQUIRE(write_both_kinds() == 0);
    char out[8192];
    CHECK_INT(run_lpg("train tests/configs/train_chain.json method=lpg rule=" RULE_V, out,
                      sizeof out), 1);
    CHECK(strstr(out, "lpg: " RULE_V ": is a rule of kind lpg_v, to be used with method "
                      "\"lpg_v\", but the config says method \"lpg\"") != NULL);
    CHECK_INT(run_lpg("train tests/configs/train_chain.json method=lpg_v rule=" RULE_RAW, out,
                      sizeof out), 1);
    CHECK(strstr(out, "is a rule of kind lpg_raw_y, to be used with method \"lpg\", but the "
                      "config says method \"lpg_v\"") != NULL);
    CHECK_INT(run_lpg("train tests/configs/train_chain.json method=lpg_v", out, sizeof out), 1);
    CHECK(strstr(out, "key 'rule': method \"lpg_v\" needs a rule file") != NULL);
    /* the analyses read y as a distribution: neither kind has one */
    CHECK_INT(run_lpg("analyse ymap tests/configs/analyse_tiny.json output_dir=build/test_lpgv_an "
                      "rule=" RULE_V, out, sizeof out), 1);
    CHECK(strstr(out, RULE_V ": is a rule of kind lpg_v; the analyses need an LPG rule") != NULL);
    CHECK_INT(run_lpg("analyse converge tests/configs/analyse_tiny.json "
                      "output_dir=build/test_lpgv_an rule=" RULE_RAW, out, sizeof out), 1);
    CHECK(strstr(out, "is a rule of kind lpg_raw_y; the analyses need") != NULL);
}

/* Both kinds train agents (tabular chain and a grid, an MLP on random grids) to finite scores,
 * through `lpg train` and through `lpg eval` with the rules side by side. */
TEST(train_and_eval_apply_each_kind_of_rule)
{
    REQUIRE(write_both_kinds() == 0);
    char out[16384];
    CHECK_INT(run_lpg("train tests/configs/train_chain.json method=lpg_v steps=4000 rule=" RULE_V,
                      out, sizeof out), 0);
    CHECK(strstr(out, "lpg_v on chain_short: final score") != NULL);
    CHECK_INT(run_lpg("train tests/configs/train_chain.json method=lpg steps=4000 rule=" RULE_RAW,
                      out, sizeof out), 0);
    CHECK(strstr(out, "lpg on chain_short: final score") != NULL);
    CHECK_INT(run_lpg("train tests/configs/train_chain.json method=lpg_v steps=4000 "
                      "env=configs/envs/random_small.json mlp_hidden=8 rule=" RULE_V,
                      out, sizeof out), 0);
    CHECK_INT(run_lpg("eval tests/configs/eval_tiny.json output_dir=build/test_lpgv_eval "
                      "rules=v:" RULE_V ",raw:" RULE_RAW, out, sizeof out), 0);
    FILE *f = fopen("build/test_lpgv_eval/results.csv", "r");
    REQUIRE(f != NULL);
    char line[1024];
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        char method[32];
        double mean;
        if (sscanf(line, "%*[^,],%*[^,],%31[^,],%*d,%*d,%*d,%lf", method, &mean) == 2 &&
            (strcmp(method, "v") == 0 || strcmp(method, "raw") == 0)) {
            CHECK(isfinite(mean));
            rows++;
        }
    }
    fclose(f);
    CHECK_INT(rows, 4); /* two environments x two rules */
}

/* meta-train learns the kind its config names and saves it; a resume with another kind is
 * refused; the method key is checked. */
TEST(meta_train_learns_the_configured_kind)
{
    char *over[] = {"method=lpg_v", "run_dir=build/test_runs/lpgv", "critic_tabular_lr=0.3"};
    MetaRun run;
    REQUIRE(meta_run_init(&run, TINY, 3, over) == 0);
    MetaStepStats st;
    for (int s = 0; s < 3; s++)
        CHECK_INT(meta_run_step(&run, &st), 0);
    CHECK(isfinite(st.J));
    CHECK(run.lives[0].agent.num_y == 0);
    CHECK_INT(meta_run_save(&run, "build/test_lpgv_ck.lpg"), 0);
    meta_run_free(&run);
    RuleLayout back;
    real *eta = rule_file_load("build/test_lpgv_ck.lpg", &back);
    REQUIRE(eta != NULL);
    CHECK(back.method == RULE_LPG_V && back.value_tabular_lr == 0.3 && back.value_lambda == 0.95);
    free(eta);
    /* a resume as LPG is refused (the changed key, then the rule's kind with allow-changes) */
    CHECK(meta_run_resume(&run, TINY, 0, NULL, "build/test_lpgv_ck.lpg", 0) != 0);
    meta_run_free(&run);
    CHECK(meta_run_resume(&run, TINY, 2, over + 1, "build/test_lpgv_ck.lpg", 1) != 0);
    meta_run_free(&run);
    char out[8192];
    CHECK_INT(run_lpg("meta-train " TINY " method=ppo", out, sizeof out), 1);
    CHECK(strstr(out, "key 'method': expected \"lpg\" or \"lpg_v\", got \"ppo\"") != NULL);
    CHECK_INT(run_lpg("meta-train " TINY " method=lpg_v y_softmax=false", out, sizeof out), 1);
    CHECK(strstr(out, "key 'y_softmax': method \"lpg_v\" has no y") != NULL);
    /* unconstrained y: a few steps stay finite and the file says so */
    char *raw_over[] = {"y_softmax=false", "run_dir=build/test_runs/lpgv_raw"};
    REQUIRE(meta_run_init(&run, TINY, 2, raw_over) == 0);
    for (int s = 0; s < 3; s++)
        CHECK_INT(meta_run_step(&run, &st), 0);
    CHECK_INT(meta_run_save_rule(&run, "build/test_lpgv_raw_rule.lpg"), 0);
    meta_run_free(&run);
    eta = rule_file_load("build/test_lpgv_raw_rule.lpg", &back);
    CHECK(eta != NULL && back.y_raw == 1 && back.method == RULE_LPG);
    free(eta);
}
