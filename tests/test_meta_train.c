/* test_meta_train.c: meta-training runs deterministically (with and without input_grad), resumes
 * exactly, refuses mismatched or damaged checkpoints and stops on a non-finite meta-gradient. */
#include <cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "meta_helpers.h"
#include "meta_train.h"
#include "quiet_stderr.h"
#include "test.h"

#define TINY "tests/configs/meta_tiny.json"

/* Runs steps meta-steps from a fresh start with the overrides and returns a copy of η (caller
 * frees). */
static real *eta_after_overrides(int steps, int noverrides, char **over)
{
    return meta_eta_after(TINY, steps, noverrides, over, NULL);
}

static real *eta_after(int steps, char *override)
{
    char *over[] = {override};
    return eta_after_overrides(steps, override ? 1 : 0, over);
}

static size_t eta_count(void)
{
    MetaConfig c;
    meta_config_load(&c, TINY, 0, NULL);
    RuleLayout layout;
    rule_layout(&layout, c.rule_hidden);
    return layout.count;
}

TEST(meta_train_is_deterministic_and_thread_count_free)
{
    size_t n = eta_count();
    real *a = eta_after(6, NULL), *b = eta_after(6, NULL), *one = eta_after(6, "threads=1");
    real *start = eta_after(0, NULL);
    CHECK(a && b && one && start);
    if (a && b && one && start) {
        CHECK(memcmp(a, b, n * sizeof(real)) == 0);
        CHECK(memcmp(a, one, n * sizeof(real)) == 0);
        CHECK(memcmp(a, start, n * sizeof(real)) != 0); /* η did move */
    }
    free(a), free(b), free(one), free(start);
}

/* input_grad=true runs deterministically and moves η differently from the default; an explicit
 * input_grad=false is the default, bit for bit. */
TEST(meta_train_input_grad_is_deterministic_and_opt_in)
{
    size_t n = eta_count();
    real *off = eta_after(6, NULL), *off_explicit = eta_after(6, "input_grad=false");
    real *on = eta_after(6, "input_grad=true"), *on_again = eta_after(6, "input_grad=true");
    CHECK(off && off_explicit && on && on_again);
    if (off && off_explicit && on && on_again) {
        CHECK(memcmp(off, off_explicit, n * sizeof(real)) == 0);
        CHECK(memcmp(on, on_again, n * sizeof(real)) == 0);
        CHECK(memcmp(on, off, n * sizeof(real)) != 0);
        int finite = 1;
        for (size_t i = 0; i < n; i++)
            finite &= isfinite(on[i]) != 0;
        CHECK(finite);
    }
    free(off), free(off_explicit), free(on), free(on_again);
}

TEST(meta_train_resume_gives_the_same_eta)
{
    const char *path = "build/test_resume.lpg";
    size_t n = eta_count();
    real *straight = eta_after(8, NULL); /* crosses lifetime ends (lifetime_updates 6, K 2) */
    MetaRun run;
    MetaStepStats st;
    REQUIRE(meta_run_init(&run, TINY, 0, NULL) == 0);
    for (int s = 0; s < 5; s++)
        CHECK_INT(meta_run_step(&run, &st), 0);
    CHECK_INT(meta_run_save(&run, path), 0);
    meta_run_free(&run);
    CHECK_INT(meta_run_resume(&run, TINY, 0, NULL, path, 0), 0);
    CHECK_INT(run.step, 5);
    for (int s = 0; s < 3; s++)
        CHECK_INT(meta_run_step(&run, &st), 0);
    CHECK(straight && memcmp(run.eta, straight, n * sizeof(real)) == 0);
    meta_run_free(&run);
    free(straight);
}

TEST(meta_train_refuses_a_checkpoint_of_another_shape)
{
    const char *path = "build/test_resume_shape.lpg";
    MetaRun run;
    REQUIRE(meta_run_init(&run, TINY, 0, NULL) == 0);
    CHECK_INT(meta_run_save(&run, path), 0);
    meta_run_free(&run);
    char *over[] = {"lifetimes=4"};
    CHECK_INT(meta_run_resume(&run, TINY, 1, over, path, 0), -1);
    meta_run_free(&run);
    char *over2[] = {"rule_hidden=9"};
    CHECK_INT(meta_run_resume(&run, TINY, 1, over2, path, 0), -1);
    meta_run_free(&run);
    CHECK_INT(meta_run_resume(&run, TINY, 0, NULL, "tests/configs/meta_tiny.json", 0), -1);
    meta_run_free(&run);
}

/* agent "conv" (meta_tiny's random grid gets the convolution): deterministic for any thread
 * count, different from MLP agents, resumed exactly; a checkpoint of conv agents refuses MLP
 * agents or other widths even with allow_changes, and one of MLP agents refuses conv. */
TEST(meta_train_conv_agents_run_resume_and_refuse_another_agent)
{
    const char *path = "build/test_resume_conv.lpg";
    size_t n = eta_count();
    char *conv[] = {"agent=conv", "threads=1"};
    real *a = eta_after_overrides(7, 1, conv), *one = eta_after_overrides(7, 2, conv);
    real *mlp = eta_after(7, NULL);
    REQUIRE(a && one && mlp);
    CHECK(memcmp(a, one, n * sizeof(real)) == 0);
    CHECK(memcmp(a, mlp, n * sizeof(real)) != 0);
    MetaRun run;
    MetaStepStats st;
    REQUIRE(meta_run_init(&run, TINY, 1, conv) == 0);
    for (int s = 0; s < 4; s++)
        CHECK_INT(meta_run_step(&run, &st), 0);
    CHECK_INT(meta_run_save(&run, path), 0);
    meta_run_free(&run);
    CHECK_INT(meta_run_resume(&run, TINY, 1, conv, path, 0), 0);
    for (int s = 0; s < 3; s++)
        CHECK_INT(meta_run_step(&run, &st), 0);
    CHECK(memcmp(run.eta, a, n * sizeof(real)) == 0);
    meta_run_free(&run);
    char *other[][2] = {{"agent=mlp", "threads=1"}, {"agent=conv", "mlp_hidden=9"}};
    mute_stderr();
    for (int k = 0; k < 2; k++) {
        CHECK_INT(meta_run_resume(&run, TINY, 2, other[k], path, 1), -1);
        meta_run_free(&run);
    }
    unmute_stderr();
    /* The command's message names both sides. */
    char out[8192];
    const char *dir = "run_dir=build/test_runs/meta_conv";
    char args[512];
    snprintf(args, sizeof args, "meta-train " TINY " meta_steps=1 agent=conv %s --overwrite", dir);
    CHECK_INT(run_lpg(args, out, sizeof out), 0);
    snprintf(args, sizeof args, "meta-train " TINY " meta_steps=2 %s --resume --allow-changes", dir);
    CHECK(run_lpg(args, out, sizeof out) != 0);
    CHECK(strstr(out, "was made with agent \"conv\" (16 filters), mlp_hidden [8] but "
                      "tests/configs/meta_tiny.json says agent \"mlp\", mlp_hidden [8]; resume "
                      "with the same agent") != NULL);
    /* A checkpoint of MLP agents refuses conv. */
    REQUIRE(meta_run_init(&run, TINY, 0, NULL) == 0);
    CHECK_INT(meta_run_save(&run, path), 0);
    meta_run_free(&run);
    mute_stderr();
    CHECK_INT(meta_run_resume(&run, TINY, 1, conv, path, 1), -1);
    unmute_stderr();
    meta_run_free(&run);
    free(a), free(one), free(mlp);
}

/* A checkpoint written before the keys 'agent' and 'mlp_lifetime_updates' existed (of
 * fuzz/tiny.json) resumes with them at their defaults, which keep its behaviour, and refuses
 * agent "conv" (its agents were MLPs). */
TEST(meta_train_resumes_a_checkpoint_from_before_the_agent_key)
{
    const char *old = "tests/configs/checkpoint_before_agent_key.lpg";
    MetaRun run;
    CHECK_INT(meta_run_resume(&run, "fuzz/tiny.json", 0, NULL, old, 0), 0);
    meta_run_free(&run);
    char *conv[] = {"agent=conv"};
    mute_stderr();
    CHECK_INT(meta_run_resume(&run, "fuzz/tiny.json", 1, conv, old, 1), -1);
    unmute_stderr();
    meta_run_free(&run);
}

TEST(meta_train_stops_on_a_non_finite_meta_gradient)
{
    MetaRun run;
    MetaStepStats st;
    REQUIRE(meta_run_init(&run, TINY, 0, NULL) == 0);
    run.eta[run.layout.pi_b] = NAN;
    CHECK_INT(meta_run_step(&run, &st), -1);
    CHECK_INT(run.step, 0);
    meta_run_free(&run);
}

TEST(meta_train_cli_runs_resumes_and_keeps_the_checkpoint_on_bad_input)
{
    char out[8192];
    const char *ckpt = "build/test_runs/meta_cli/checkpoint.lpg";
    CHECK_INT(run_lpg("meta-train " TINY " meta_steps=3 run_dir=build/test_runs/meta_cli --overwrite", out, sizeof out), 0);
    struct stat st1;
    CHECK_INT(stat(ckpt, &st1), 0);
    CHECK_INT(run_lpg("meta-train " TINY " meta_steps=5 run_dir=build/test_runs/meta_cli --resume", out, sizeof out), 0);
    CHECK(strstr(out, "resuming at meta-step 3") != NULL);
    /* log.jsonl has the provenance line, then one line per meta-step, 1..5, no duplicates (the
     * resume by the same program adds no second provenance line) */
    FILE *f = fopen("build/test_runs/meta_cli/log.jsonl", "r");
    int lines = 0;
    char line[4096];
    if (f && fgets(line, sizeof line, f)) {
        cJSON *record = cJSON_Parse(line);
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(record, "provenance");
        CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(p, "openblas_core")));
        CHECK(cJSON_GetObjectItemCaseSensitive(record, "step") == NULL);
        cJSON_Delete(record);
    }
    while (f && fgets(line, sizeof line, f)) {
        cJSON *record = cJSON_Parse(line);
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(record, "step");
        CHECK(cJSON_IsNumber(s) && s->valuedouble == lines + 1);
        cJSON_Delete(record);
        lines++;
    }
    if (f)
        fclose(f);
    CHECK_INT(lines, 5);
    /* A fresh start does not replace an existing run's checkpoint. */
    size_t len_before = 0, len_after = 0;
    char *before = read_whole_file(ckpt, &len_before);
    CHECK(run_lpg("meta-train " TINY " run_dir=build/test_runs/meta_cli", out, sizeof out) != 0);
    CHECK(strstr(out, "checkpoint.lpg exists: continue that run with --resume") != NULL);
    char *after = read_whole_file(ckpt, &len_after);
    CHECK(before && after && len_before == len_after && memcmp(before, after, len_after) == 0);
    free(before);
    free(after);
    CHECK(run_lpg("meta-train " TINY " lifetimes=0", out, sizeof out) != 0);
    CHECK(strstr(out, "key 'lifetimes'") != NULL);
    CHECK(run_lpg("meta-train " TINY " run_dir=build/test_runs/meta_cli lifetimes=5 --resume", out, sizeof out) != 0);
    CHECK(strstr(out, "lifetimes = 3") != NULL);
    CHECK_INT(run_lpg("meta-train --help", out, sizeof out), 0);
    CHECK(strstr(out, "lifetime_updates") != NULL);
}

TEST(meta_train_resume_refuses_changed_learning_keys_unless_allowed)
{
    char out[8192];
    const char *dir = " run_dir=build/test_runs/meta_notes";
    char cmd[512];
    snprintf(cmd, sizeof cmd, "meta-train " TINY " meta_steps=2%s --overwrite", dir);
    CHECK_INT(run_lpg(cmd, out, sizeof out), 0);
    /* Routine changes (longer run, other thread count) resume without a note. */
    snprintf(cmd, sizeof cmd, "meta-train " TINY " meta_steps=3 threads=1%s --resume", dir);
    CHECK_INT(run_lpg(cmd, out, sizeof out), 0);
    CHECK(strstr(out, "note:") == NULL);
    /* A changed algorithm or seed is named, with both values, and refused... */
    snprintf(cmd, sizeof cmd, "meta-train " TINY " meta_steps=4 input_grad=true seed=8%s --resume", dir);
    CHECK_INT(run_lpg(cmd, out, sizeof out), 1);
    CHECK(strstr(out, "lpg: input_grad was false in the run that wrote") != NULL);
    CHECK(strstr(out, "lpg: seed was 3 in the run that wrote") != NULL);
    CHECK(strstr(out, ", now 8") != NULL);
    CHECK(strstr(out, "not resumed: 2 learning keys changed (above)") != NULL);
    CHECK(strstr(out, "--allow-changes") != NULL);
    /* ...unless allowed, when each is a note. */
    snprintf(cmd, sizeof cmd, "meta-train " TINY " meta_steps=4 input_grad=true beta0=0.5%s "
             "--resume --allow-changes", dir);
    CHECK_INT(run_lpg(cmd, out, sizeof out), 0);
    CHECK(strstr(out, "note: input_grad was false in the run that wrote") != NULL);
    CHECK(strstr(out, ", now true") != NULL);
    CHECK(strstr(out, "note: beta0 was") != NULL);
    CHECK(strstr(out, "note: meta_steps") == NULL);
    CHECK_INT(run_lpg("meta-train " TINY " --allow-changes", out, sizeof out), 2);
    CHECK_INT(run_lpg("meta-train " TINY " --resume --overwrite", out, sizeof out), 2);
    /* The same environment files written from another folder (the run was started elsewhere,
     * or the path is spelt otherwise) are no change; another file is. */
    const char *same = "envs=./configs/envs/tabular_sparse.json,tests/../configs/envs/"
                       "chain_short.json,configs/envs/random_small.json";
    snprintf(cmd, sizeof cmd, "meta-train " TINY " meta_steps=5 input_grad=true beta0=0.5 %s%s "
             "--resume", same, dir);
    CHECK_INT(run_lpg(cmd, out, sizeof out), 0);
    CHECK(strstr(out, "envs was") == NULL);
    snprintf(cmd, sizeof cmd, "meta-train " TINY " meta_steps=6 input_grad=true beta0=0.5 "
             "envs=configs/envs/tabular_sparse.json,configs/envs/chain_long.json,"
             "configs/envs/random_small.json%s --resume", dir);
    CHECK_INT(run_lpg(cmd, out, sizeof out), 1);
    CHECK(strstr(out, "lpg: envs was [") != NULL);
}

/* The meta-step recorded in the file at path, or -1. */
static long long file_step(const char *path)
{
    Checkpoint ck;
    int64_t step = -1;
    if (checkpoint_open(&ck, path) == 0) {
        if (checkpoint_get_int64(&ck, "step", &step, 1))
            step = -1;
        checkpoint_close(&ck);
    }
    return step;
}

/* ---- --overwrite stopped by SIGKILL, and the way back ---------------------------------- */

#define OVER "build/test_runs/meta_over"
/* A shell condition: the new run's log has at least n lines (the old run's has 2). */
/* A shell condition: the new run's log has at least n meta-step records (its provenance line,
 * the first, does not count). */
#define NEW_LOG_LINES(n) "[ \"$(grep -c '\"step\"' $D/log.jsonl 2>/dev/null)\" -ge " #n " ]"

/* True when the file at path holds exactly len bytes equal to bytes. */
static int file_is(const char *path, const char *bytes, size_t len)
{
    if (!bytes || access(path, F_OK) != 0)
        return 0;
    size_t n = 0;
    char *text = read_whole_file(path, &n);
    int same = text && n == len && memcmp(text, bytes, len) == 0;
    free(text);
    return same;
}

/* A finished run of TINY (seed 3, 2 meta-steps) in dir, nothing aside; its checkpoint and log
 * into *ckpt, *log (caller frees). Returns 0 or -1. */
static int make_old_run(const char *dir, char **ckpt, size_t *ckpt_len, char **log, size_t *log_len)
{
    char cmd[512], out[8192];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s.replaced", dir, dir);
    if (system(cmd) != 0)
        return -1;
    snprintf(cmd, sizeof cmd, "meta-train " TINY " meta_steps=2 run_dir=%s", dir);
    if (run_lpg(cmd, out, sizeof out) != 0)
        return -1;
    snprintf(cmd, sizeof cmd, "%s/checkpoint.lpg", dir);
    *ckpt = read_whole_file(cmd, ckpt_len);
    snprintf(cmd, sizeof cmd, "%s/log.jsonl", dir);
    *log = read_whole_file(cmd, log_len);
    return *ckpt && *log ? 0 : -1;
}

/* Starts `meta-train TINY seed=7 <extra> run_dir=dir --overwrite` (endless), waits until the
 * shell condition `until` holds (at most 15 s), then SIGKILLs it. */
static void overwrite_and_kill(const char *dir, const char *extra, const char *until)
{
    const char *bin = getenv("LPG_BIN") ? getenv("LPG_BIN") : "build/lpg";
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "D=%s; %s meta-train " TINY " seed=7 meta_steps=100000000 %s "
             "run_dir=$D --overwrite >/dev/null 2>&1 & pid=$!; i=0; "
             "until %s || [ $i -ge 3000 ]; do sleep 0.005; i=$((i+1)); done; "
             "kill -KILL $pid; wait $pid 2>/dev/null; true", dir, bin, extra, until);
    CHECK_INT(system(cmd), 0);
}

/* Killed before its first checkpoint: the old run is intact aside. A fresh start, another
 * --overwrite and a resume refuse, naming it and the way back; --restore-replaced puts it back
 * byte for byte, and --resume continues it. */
TEST(meta_train_overwrite_killed_before_its_first_checkpoint_can_be_undone)
{
    char out[8192];
    char *old = NULL, *old_log = NULL;
    size_t len_old = 0, len_log = 0;
    REQUIRE(make_old_run(OVER, &old, &len_old, &old_log, &len_log) == 0);
    overwrite_and_kill(OVER, "checkpoint_every=100000000", NEW_LOG_LINES(3));
    CHECK(access(OVER "/checkpoint.lpg", F_OK) != 0);
    CHECK(access(OVER "/log.jsonl", F_OK) == 0); /* the new run's */
    CHECK(file_is(OVER ".replaced/checkpoint.lpg", old, len_old));
    CHECK(file_is(OVER ".replaced/log.jsonl", old_log, len_log));
    CHECK_INT(run_lpg("meta-train " TINY " run_dir=" OVER, out, sizeof out), 1);
    CHECK(strstr(out, "lpg: " OVER ".replaced holds the run that an interrupted --overwrite moved "
                      "aside") != NULL);
    CHECK(strstr(out, "put it back with --restore-replaced, or remove " OVER ".replaced yourself")
          != NULL);
    CHECK_INT(run_lpg("meta-train " TINY " seed=8 run_dir=" OVER " --overwrite", out, sizeof out), 1);
    CHECK(strstr(out, OVER ".replaced holds the run that an interrupted --overwrite") != NULL);
    CHECK_INT(run_lpg("meta-train " TINY " seed=7 run_dir=" OVER " --resume", out, sizeof out), 1);
    CHECK(strstr(out, "lpg: " OVER "/checkpoint.lpg: no checkpoint to resume: the --overwrite "
                      "that started a run here was stopped before its first checkpoint; " OVER
                      ".replaced holds the run it replaced: put it back with --restore-replaced")
          != NULL);
    CHECK(file_is(OVER ".replaced/checkpoint.lpg", old, len_old)); /* refusals touch nothing */
    /* the new run's leftovers of a kill at other moments: a .tmp file, the write probe */
    CHECK_INT(system("mkdir -p " OVER "/rules && touch " OVER "/checkpoint.lpg.tmp " OVER
                     "/.lpg-write-test-999 " OVER "/rules/rule_1.lpg"), 0);
    CHECK_INT(run_lpg("meta-train " TINY " run_dir=" OVER " --restore-replaced --resume", out,
                      sizeof out), 2);
    CHECK_INT(run_lpg("meta-train " TINY " run_dir=" OVER " --restore-replaced", out, sizeof out), 0);
    CHECK(strstr(out, "put the previous run back from " OVER ".replaced into " OVER) != NULL);
    CHECK(access(OVER ".replaced", F_OK) != 0);
    CHECK(file_is(OVER "/checkpoint.lpg", old, len_old));
    CHECK(file_is(OVER "/log.jsonl", old_log, len_log));
    CHECK_INT(run_lpg("meta-train " TINY " run_dir=" OVER " --restore-replaced", out, sizeof out), 1);
    CHECK(strstr(out, "nothing to restore") != NULL);
    CHECK_INT(run_lpg("meta-train " TINY " meta_steps=3 run_dir=" OVER " --resume", out, sizeof out), 0);
    CHECK(strstr(out, "resuming at meta-step 2") != NULL);
    CHECK_INT(file_step(OVER "/checkpoint.lpg"), 3);
    free(old), free(old_log);
}

/* Killed after its first checkpoint: if the old run was not removed yet (made so here when the
 * kill came during or after the removal), --restore-replaced refuses to drop the new run, a fresh start
 * refuses, and --resume removes the old run (as the --overwrite would have) and continues. */
TEST(meta_train_overwrite_killed_after_its_first_checkpoint_resumes)
{
    char out[8192];
    char *old = NULL, *old_log = NULL;
    size_t len_old = 0, len_log = 0;
    REQUIRE(make_old_run(OVER, &old, &len_old, &old_log, &len_log) == 0);
    CHECK_INT(system("rm -rf " OVER ".copy && cp -r " OVER " " OVER ".copy"), 0);
    overwrite_and_kill(OVER, "checkpoint_every=3", NEW_LOG_LINES(3) " && [ -f $D/checkpoint.lpg ]");
    long long step = file_step(OVER "/checkpoint.lpg");
    CHECK(step >= 3);
    if (access(OVER ".replaced/checkpoint.lpg", F_OK) != 0) /* killed during or after the */
        CHECK_INT(system("rm -rf " OVER ".replaced && mv " OVER ".copy " OVER ".replaced"), 0);
                                                                  /* removal: the state before */
    CHECK(file_is(OVER ".replaced/checkpoint.lpg", old, len_old));
    CHECK_INT(run_lpg("meta-train " TINY " seed=7 run_dir=" OVER " --restore-replaced", out,
                      sizeof out), 1);
    CHECK(strstr(out, "lpg: " OVER " holds the run that replaced " OVER ".replaced, with a "
                      "checkpoint: continue it with --resume") != NULL);
    CHECK_INT(run_lpg("meta-train " TINY " seed=7 run_dir=" OVER " --overwrite", out, sizeof out), 1);
    CHECK(strstr(out, "lpg: " OVER "/checkpoint.lpg exists, and " OVER ".replaced still holds the "
                      "run its --overwrite replaced") != NULL);
    CHECK(file_is(OVER ".replaced/checkpoint.lpg", old, len_old));
    char cmd[512];
    snprintf(cmd, sizeof cmd, "meta-train " TINY " seed=7 meta_steps=%lld run_dir=" OVER
             " --resume", step + 1);
    CHECK_INT(run_lpg(cmd, out, sizeof out), 0);
    CHECK(strstr(out, OVER ".replaced holds the run that " OVER " replaced; it is removed now")
          != NULL);
    CHECK(access(OVER ".replaced", F_OK) != 0);
    CHECK_INT(file_step(OVER "/checkpoint.lpg"), step + 1);
    CHECK_INT(system("rm -rf " OVER ".copy"), 0);
    free(old), free(old_log);
}

/* Killed while removing the old run (its checkpoint is removed first): what is left of it goes
 * at the next start, said so; it cannot be restored. */
TEST(meta_train_overwrite_killed_while_removing_the_old_run_finishes_the_removal)
{
    char out[8192];
    char *old = NULL, *old_log = NULL;
    size_t len_old = 0, len_log = 0;
    REQUIRE(make_old_run(OVER, &old, &len_old, &old_log, &len_log) == 0);
    CHECK_INT(run_lpg("meta-train " TINY " seed=7 meta_steps=3 run_dir=" OVER " --overwrite", out,
                      sizeof out), 0);
    CHECK(strstr(out, "removed " OVER ".replaced, the run this one replaced") != NULL);
    CHECK(access(OVER ".replaced", F_OK) != 0);
    /* the state a kill after unlinking the old checkpoint leaves */
    CHECK_INT(system("mkdir -p " OVER ".replaced/rules && touch " OVER ".replaced/log.jsonl "
                     OVER ".replaced/rules/rule_1.lpg"), 0);
    CHECK_INT(run_lpg("meta-train " TINY " run_dir=" OVER " --restore-replaced", out, sizeof out), 1);
    CHECK(strstr(out, "lpg: " OVER ".replaced: cannot restore: it holds no checkpoint") != NULL);
    CHECK_INT(run_lpg("meta-train " TINY " seed=7 meta_steps=4 run_dir=" OVER " --resume", out,
                      sizeof out), 0);
    CHECK(strstr(out, "removing what is left of " OVER ".replaced") != NULL);
    CHECK(access(OVER ".replaced", F_OK) != 0);
    CHECK_INT(file_step(OVER "/checkpoint.lpg"), 4);
    free(old), free(old_log);
}

/* SIGKILL at moments spread over an --overwrite (right after the move, during the first
 * meta-steps, around the first checkpoint and the removal): the old run is always either
 * untouched in place, or put back whole by --restore-replaced, or replaced by a new run that
 * --resume continues. */
TEST(meta_train_overwrite_killed_at_any_moment_loses_nothing)
{
    static const char *const moments[] = {
        "[ -e $D.replaced ]", "sleep 0.002", "sleep 0.005", "sleep 0.01", "sleep 0.02",
        "sleep 0.04", NEW_LOG_LINES(3), NEW_LOG_LINES(8) " && [ -f $D/rule.lpg ]",
        NEW_LOG_LINES(8) " && [ -f $D/checkpoint.lpg ]", "sleep 0.1"};
    int restored = 0, resumed = 0, untouched = 0;
    for (size_t k = 0; k < sizeof moments / sizeof moments[0]; k++) {
        char out[8192], cmd[512];
        char *old = NULL, *old_log = NULL;
        size_t len_old = 0, len_log = 0;
        REQUIRE(make_old_run(OVER, &old, &len_old, &old_log, &len_log) == 0);
        overwrite_and_kill(OVER, "checkpoint_every=8", moments[k]);
        int have_run = access(OVER "/checkpoint.lpg", F_OK) == 0;
        int have_aside = access(OVER ".replaced/checkpoint.lpg", F_OK) == 0;
        if (!have_run) { /* the old run is aside, whole */
            CHECK(file_is(OVER ".replaced/checkpoint.lpg", old, len_old));
            int rc = run_lpg("meta-train " TINY " run_dir=" OVER " --restore-replaced", out,
                             sizeof out);
            if (rc != 0)
                fprintf(stderr, "  after \"%s\": --restore-replaced: %s", moments[k], out);
            CHECK_INT(rc, 0);
            CHECK(file_is(OVER "/checkpoint.lpg", old, len_old));
            CHECK(file_is(OVER "/log.jsonl", old_log, len_log));
            restored++;
        } else if (file_is(OVER "/checkpoint.lpg", old, len_old)) { /* killed before the move */
            CHECK(!have_aside);
            untouched++;
        } else { /* the new run has a checkpoint */
            snprintf(cmd, sizeof cmd, "meta-train " TINY " seed=7 meta_steps=%lld run_dir=" OVER
                     " --resume", file_step(OVER "/checkpoint.lpg") + 1);
            CHECK_INT(run_lpg(cmd, out, sizeof out), 0);
            resumed++;
        }
        CHECK(access(OVER ".replaced", F_OK) != 0);
        free(old), free(old_log);
    }
    CHECK(restored >= 1); /* the moments before the first checkpoint (which ones is timing) */
    CHECK(resumed >= 1);  /* and after it */
    if (getenv("LPG_TEST_VERBOSE"))
        fprintf(stderr, "  restored %d, resumed %d, untouched %d\n", restored, resumed, untouched);
}

/* A resume removes .tmp files a killed run left and rewrites rule.lpg to the checkpoint's step. */
TEST(meta_train_resume_cleans_leftovers_and_matches_rule_to_checkpoint)
{
    char out[8192];
    CHECK_INT(system("rm -rf build/test_runs/meta_left"), 0);
    CHECK_INT(run_lpg("meta-train " TINY " meta_steps=2 rule_every=1 run_dir=build/test_runs/meta_left",
                      out, sizeof out), 0);
    CHECK_INT(system("cp build/test_runs/meta_left/rules/rule_1.lpg build/test_runs/meta_left/rule.lpg && "
                     "touch build/test_runs/meta_left/checkpoint.lpg.tmp "
                     "build/test_runs/meta_left/rules/rule_3.lpg.tmp"), 0);
    CHECK_INT(file_step("build/test_runs/meta_left/rule.lpg"), 1);
    CHECK_INT(run_lpg("meta-train " TINY " meta_steps=2 rule_every=1 run_dir=build/test_runs/meta_left "
                      "--resume", out, sizeof out), 0);
    CHECK(strstr(out, "is at meta-step 2 and meta_steps is 2: nothing to do") != NULL);
    CHECK_INT(file_step("build/test_runs/meta_left/rule.lpg"), 2);
    CHECK(access("build/test_runs/meta_left/checkpoint.lpg.tmp", F_OK) != 0);
    CHECK(access("build/test_runs/meta_left/rules/rule_3.lpg.tmp", F_OK) != 0);
    CHECK(access("build/test_runs/meta_left/rules/rule_1.lpg", F_OK) == 0);
}

TEST(meta_train_saves_on_sigint_and_resumes_from_there)
{
    /* SIGINT after a second: the run stops after its current meta-step, writes a checkpoint of
     * exactly that step (no checkpoint was due) and says how to continue. */
    const char *bin = getenv("LPG_BIN") ? getenv("LPG_BIN") : "build/lpg";
    char cmd[1024], out[8192];
    snprintf(cmd, sizeof cmd, "rm -rf build/test_runs/meta_sigint; timeout -s INT 1 %s meta-train " TINY
             " meta_steps=100000000 checkpoint_every=100000000 log_every=100000000 "
             "run_dir=build/test_runs/meta_sigint 2>&1", bin);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    out[n] = '\0';
    if (p)
        pclose(p);
    CHECK(strstr(out, "interrupted at meta-step") != NULL);
    long long stopped = -1;
    const char *at = strstr(out, "interrupted at meta-step");
    if (at)
        sscanf(at, "interrupted at meta-step %lld", &stopped);
    CHECK(stopped > 0);
    char args[512];
    snprintf(args, sizeof args, "meta-train " TINY " meta_steps=%lld run_dir=build/test_runs/meta_sigint --resume",
             stopped + 1);
    CHECK_INT(run_lpg(args, out, sizeof out), 0);
    char expect[64];
    snprintf(expect, sizeof expect, "resuming at meta-step %lld", stopped);
    CHECK(strstr(out, expect) != NULL);
}

/* mlp_lifetime_updates gives lives of MLP agents (random_small) their own length; tabular
 * lives keep lifetime_updates. Once the staggered first lives are over, every life is full. */
TEST(meta_train_mlp_lifetime_updates_sets_the_length_of_mlp_lives)
{
    MetaRun run;
    char *over[] = {"mlp_lifetime_updates=10", "lifetimes=6"};
    CHECK_INT(meta_run_init(&run, TINY, 2, over), 0);
    MetaStepStats st;
    int seen_mlp = 0, seen_tabular = 0, fvu_finite = 0;
    for (int s = 0; s < 14; s++) {
        CHECK_INT(meta_run_step(&run, &st), 0);
        for (int e = 0; e < run.num_envs; e++)
            fvu_finite += isfinite(st.critic_fvu[e]) && st.critic_fvu[e] >= 0;
        if (s < 5) /* first lives: at most 10 updates = 5 steps of K = 2 */
            continue;
        for (int i = 0; i < run.config.lifetimes; i++) {
            const Lifetime *life = &run.lives[i];
            int mlp = life->spec->num_states == 0;
            CHECK_INT(life->length, mlp ? 10 : 6);
            seen_mlp += mlp, seen_tabular += !mlp;
        }
    }
    CHECK(seen_mlp > 0 && seen_tabular > 0);
    CHECK(fvu_finite > 0);
    meta_run_free(&run);
}

/* Total tries over every arm of every environment's bandit: lifetimes that reported back. */
static int64_t bandit_reports(const MetaRun *run)
{
    int64_t total = 0;
    for (int e = 0; e < run->num_envs; e++)
        for (uint32_t a = 0; a < run->bandits[e].num_arms; a++)
            total += run->bandits[e].arms[a].tries;
    return total;
}

/* The first lifetimes of a run end at staggered lengths, whole windows apart, so that they do
 * not all end together; only the one of full length reports to the bandit. Their replacements
 * live the full length and report. With 4 lifetimes, K = 2 and 10 updates per life (5 windows),
 * the first lives last 2, 3, 4 and 5 windows. */
TEST(meta_train_first_lifetimes_are_staggered_and_only_full_ones_report)
{
    char *over[] = {"lifetimes=4", "lifetime_updates=10", "K=2"};
    MetaRun run;
    MetaStepStats st;
    REQUIRE(meta_run_init(&run, TINY, 3, over) == 0);
    const int expected_length[4] = {4, 6, 8, 10};
    for (int i = 0; i < 4; i++) {
        CHECK_INT(run.lives[i].length, expected_length[i]);
        CHECK_INT(run.lives[i].report, i == 3);
    }
    /* Meta-steps 1-4 end lives 0, 1 and 2 (2, 3 and 4 windows): none reports. Step 5 ends
     * life 3, the full one. */
    for (int s = 1; s <= 5; s++) {
        CHECK_INT(meta_run_step(&run, &st), 0);
        CHECK_INT(bandit_reports(&run), s < 5 ? 0 : 1);
        if (s == 2) { /* life 0 was replaced by a full-length life that will report */
            CHECK_INT(run.lives[0].length, 10);
            CHECK_INT(run.lives[0].report, 1);
            CHECK_INT(run.lives[0].updates, 0);
        }
    }
    CHECK_INT(run.lifetimes_finished, 4);
    meta_run_free(&run);
}

/* inner_optimizer "adam" (the MLP agents of meta_tiny's chain and random grid take Adam steps):
 * the same η for any thread count, another η than SGD's, and a resume across lifetime ends that
 * continues exactly (the moments are saved with each lifetime). A checkpoint of SGD lifetimes
 * has no moments: resuming it with Adam, even with allow_changes, is refused. */
TEST(meta_train_adam_inner_step_runs_and_resumes_exactly)
{
    const char *path = "build/test_resume_adam.lpg";
    size_t n = eta_count();
    char *adam[] = {"inner_optimizer=adam", "mlp_lrs=0.01", "threads=1"};
    char *sgd[] = {"mlp_lrs=0.01"};
    real *a = eta_after_overrides(8, 2, adam), *one = eta_after_overrides(8, 3, adam);
    real *plain = eta_after_overrides(8, 1, sgd);
    REQUIRE(a && one && plain);
    CHECK(memcmp(a, one, n * sizeof(real)) == 0);
    CHECK(memcmp(a, plain, n * sizeof(real)) != 0);
    MetaRun run;
    MetaStepStats st;
    REQUIRE(meta_run_init(&run, TINY, 2, adam) == 0);
    for (int s = 0; s < 5; s++)
        CHECK_INT(meta_run_step(&run, &st), 0);
    CHECK_INT(meta_run_save(&run, path), 0);
    meta_run_free(&run);
    CHECK_INT(meta_run_resume(&run, TINY, 2, adam, path, 0), 0);
    for (int s = 0; s < 3; s++)
        CHECK_INT(meta_run_step(&run, &st), 0);
    CHECK(memcmp(run.eta, a, n * sizeof(real)) == 0);
    meta_run_free(&run);
    REQUIRE(meta_run_init(&run, TINY, 1, sgd) == 0);
    for (int s = 0; s < 5; s++) /* a lifetime on the random grid by then */
        CHECK_INT(meta_run_step(&run, &st), 0);
    CHECK_INT(meta_run_save(&run, path), 0);
    meta_run_free(&run);
    mute_stderr();
    CHECK_INT(meta_run_resume(&run, TINY, 2, adam, path, 1), -1);
    unmute_stderr();
    meta_run_free(&run);
    free(a), free(one), free(plain);
}

/* lifetime_range / mlp_lifetime_range: each new life draws its length log-uniform from the
 * range, rounded up to whole windows (K = 2), tabular and MLP lives from their own ranges; the
 * lengths vary. With lifetime_inputs the run is the same for any thread count and resumes
 * exactly across lives of new lengths. */
TEST(meta_train_lifetime_ranges_draw_lengths_and_resume_exactly)
{
    const char *path = "build/test_resume_lifetime.lpg";
    char *over[] = {"lifetimes=8", "lifetime_range=4,40", "mlp_lifetime_range=6,12",
                    "lifetime_inputs=true", "threads=2"};
    MetaRun run;
    MetaStepStats st;
    REQUIRE(meta_run_init(&run, TINY, 5, over) == 0);
    CHECK_INT(run.layout.lifetime_inputs, 1);
    int lo_seen = 1000, hi_seen = 0, mlp_ok = 1, tabular_ok = 1, seen_mlp = 0;
    for (int s = 0; s < 30; s++) {
        CHECK_INT(meta_run_step(&run, &st), 0);
        for (int i = 0; s >= 20 && i < run.config.lifetimes; i++) { /* first lives are gone */
            const Lifetime *life = &run.lives[i];
            int length = life->length;
            CHECK_INT(length % 2, 0);
            if (life->spec->num_states == 0) {
                mlp_ok &= length >= 6 && length <= 12;
                seen_mlp = 1;
            } else {
                tabular_ok &= length >= 4 && length <= 40;
                lo_seen = length < lo_seen ? length : lo_seen;
                hi_seen = length > hi_seen ? length : hi_seen;
            }
        }
        if (s == 11)
            CHECK_INT(meta_run_save(&run, path), 0);
    }
    CHECK(mlp_ok && tabular_ok && seen_mlp);
    CHECK(hi_seen > lo_seen); /* the lengths vary */
    size_t count = run.layout.count;
    real *straight = malloc(count * sizeof(real));
    memcpy(straight, run.eta, count * sizeof(real));
    meta_run_free(&run);

    over[4] = "threads=1";
    CHECK_INT(meta_run_resume(&run, TINY, 5, over, path, 0), 0);
    CHECK_INT(run.step, 12);
    for (int s = 12; s < 30; s++)
        CHECK_INT(meta_run_step(&run, &st), 0);
    CHECK(memcmp(run.eta, straight, count * sizeof(real)) == 0);
    meta_run_free(&run);

    /* The checkpoint's rule reads lifetime inputs: resuming it without them is refused. */
    char *without[] = {"lifetimes=8", "lifetime_range=4,40", "mlp_lifetime_range=6,12"};
    mute_stderr();
    int rc = meta_run_resume(&run, TINY, 3, without, path, 1);
    unmute_stderr();
    CHECK_INT(rc, -1);
    meta_run_free(&run);
    free(straight);
}

/* A lifetime range is [min, max] of whole numbers with K <= min <= max. */
TEST(meta_train_refuses_bad_lifetime_ranges)
{
    const char *bad[] = {"lifetime_range=40,4", "lifetime_range=1,40",
                         "lifetime_range=4", "mlp_lifetime_range=4.5,40",
                         "lifetime_range=4,40,80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        MetaConfig c;
        char *over[] = {(char *)bad[i]};
        mute_stderr();
        CHECK_INT(meta_config_load(&c, TINY, 1, over), -1);
        unmute_stderr();
    }
    MetaConfig c;
    char *good[] = {"lifetime_range=2,2"};
    CHECK_INT(meta_config_load(&c, TINY, 1, good), 0);
}

/* init_rule: η starts as the file's, whatever the seed; a rule of another width or kind is
 * refused. */
TEST(meta_train_init_rule_starts_from_the_file_and_refuses_another_kind)
{
    const char *path = "build/test_init_rule.lpg";
    size_t n = eta_count();
    MetaRun run;
    MetaStepStats st;
    REQUIRE(meta_run_init(&run, TINY, 0, NULL) == 0);
    for (int s = 0; s < 3; s++)
        CHECK_INT(meta_run_step(&run, &st), 0);
    CHECK_INT(meta_run_save(&run, path), 0);
    real *trained = malloc(n * sizeof *trained);
    REQUIRE(trained);
    memcpy(trained, run.eta, n * sizeof *trained);
    meta_run_free(&run);

    char *from[] = {"init_rule=build/test_init_rule.lpg", "seed=7"};
    REQUIRE(meta_run_init(&run, TINY, 1, from + 1) == 0);
    CHECK(memcmp(run.eta, trained, n * sizeof(real)) != 0); /* seed 7's own start differs */
    meta_run_free(&run);
    REQUIRE(meta_run_init(&run, TINY, 2, from) == 0);
    CHECK(memcmp(run.eta, trained, n * sizeof(real)) == 0);
    meta_run_free(&run);

    char *wider[] = {"init_rule=build/test_init_rule.lpg", "rule_hidden=4"};
    char *timed[] = {"init_rule=build/test_init_rule.lpg", "lifetime_inputs=true"};
    char *absent[] = {"init_rule=build/no_such_rule.lpg"};
    mute_stderr();
    CHECK_INT(meta_run_init(&run, TINY, 2, wider), -1);
    meta_run_free(&run);
    CHECK_INT(meta_run_init(&run, TINY, 2, timed), -1);
    meta_run_free(&run);
    CHECK_INT(meta_run_init(&run, TINY, 1, absent), -1);
    meta_run_free(&run);
    unmute_stderr();
    free(trained);
    remove(path);
}
