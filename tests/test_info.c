/* test_info.c: rule files and checkpoints record how they were made (effective config and
 * overrides), older files without that record still resume and show, `lpg info` reads it all
 * back and refuses bad files by name, and rule_every keeps rule snapshots without changing
 * the run. */
#include <cJSON.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "commands.h"
#include "meta_train.h"
#include "quiet_stderr.h"
#include "test.h"

#define TINY "tests/configs/meta_tiny.json"
#define CAPTURE_PATH "build/test_info_capture.txt"

/* Runs cmd_info(argv) in this process with stdout and stderr going to a file, then copies what
 * it printed into out. Returns the command's exit code. (In-process, so it reads files this
 * test build wrote, whatever the precision of $LPG_BIN.) */
static int info_in_process(int argc, char **argv, char *out, size_t outsize)
{
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    int fd = open(CAPTURE_PATH, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || saved_out < 0 || saved_err < 0)
        return -100;
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    int rc = cmd_info(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    size_t len = 0;
    char *text = read_whole_file(CAPTURE_PATH, &len);
    snprintf(out, outsize, "%s", text ? text : "");
    free(text);
    return rc;
}

/* Copies the checkpoint at src to dst without the sections named in skip (NULL-terminated)
 * and with the text section named swap (if not NULL) holding swap_text. Returns 0 or -1. */
static int copy_changing(const char *src, const char *dst, const char *const *skip,
                         const char *swap, const char *swap_text)
{
    Checkpoint ck;
    if (checkpoint_open(&ck, src))
        return -1;
    CheckpointWriter w;
    checkpoint_writer_init(&w);
    int rc = 0;
    for (int i = 0; rc == 0 && i < ck.num_sections; i++) {
        const CheckpointSection *s = &ck.sections[i];
        int skipped = 0;
        for (const char *const *k = skip; *k; k++)
            skipped |= strcmp(*k, s->name) == 0;
        if (skipped)
            continue;
        if (s->type == CHECKPOINT_REAL) {
            real *values = malloc((s->count ? s->count : 1) * sizeof(real));
            rc = !values || checkpoint_get_real(&ck, s->name, values, s->count) ||
                 checkpoint_add_real(&w, s->name, values, s->count);
            free(values);
        } else if (s->type == CHECKPOINT_INT64) {
            int64_t *values = malloc((s->count ? s->count : 1) * sizeof(int64_t));
            rc = !values || checkpoint_get_int64(&ck, s->name, values, s->count) ||
                 checkpoint_add_int64(&w, s->name, values, s->count);
            free(values);
        } else if (s->type == CHECKPOINT_BYTES) {
            rc = checkpoint_add_bytes(&w, s->name, ck.payload + s->offset, s->count);
        } else if (swap && strcmp(s->name, swap) == 0) {
            rc = checkpoint_add_text(&w, s->name, swap_text);
        } else {
            char *text = checkpoint_get_text(&ck, s->name);
            rc = !text || checkpoint_add_text(&w, s->name, text);
            free(text);
        }
    }
    rc = rc || checkpoint_write(&w, dst);
    checkpoint_writer_free(&w);
    checkpoint_close(&ck);
    return rc ? -1 : 0;
}

/* Copies the checkpoint at src to dst without the sections named in skip (NULL-terminated):
 * a file as an older lpg wrote it. Returns 0 or -1. */
static int copy_without(const char *src, const char *dst, const char *const *skip)
{
    return copy_changing(src, dst, skip, NULL, NULL);
}

/* The text section name of the file at path (caller frees), or NULL. */
static char *text_section(const char *path, const char *name)
{
    Checkpoint ck;
    if (checkpoint_open(&ck, path))
        return NULL;
    char *text = checkpoint_get_text(&ck, name);
    checkpoint_close(&ck);
    return text;
}

/* Checks the effective config of a TINY run with tabular_lrs=2,4,8 and seed=5. */
static void check_effective_config(const char *path)
{
    char *json = text_section(path, "effective_config");
    REQUIRE(json != NULL);
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    REQUIRE(root != NULL);
    if (root) {
        const cJSON *lrs = cJSON_GetObjectItemCaseSensitive(root, "tabular_lrs");
        CHECK(cJSON_IsArray(lrs) && cJSON_GetArraySize(lrs) == 3);
        double expect[3] = {2, 4, 8};
        for (int i = 0; i < 3 && cJSON_IsArray(lrs); i++) {
            const cJSON *item = cJSON_GetArrayItem(lrs, i);
            CHECK(cJSON_IsNumber(item) && item->valuedouble == expect[i]);
        }
        const cJSON *seed = cJSON_GetObjectItemCaseSensitive(root, "seed");
        CHECK(cJSON_IsNumber(seed) && seed->valuedouble == 5);          /* the override */
        const cJSON *lifetimes = cJSON_GetObjectItemCaseSensitive(root, "lifetimes");
        CHECK(cJSON_IsNumber(lifetimes) && lifetimes->valuedouble == 3); /* the file */
        const cJSON *meta_lr = cJSON_GetObjectItemCaseSensitive(root, "meta_lr");
        CHECK(cJSON_IsNumber(meta_lr) && meta_lr->valuedouble == 1e-3); /* a default */
        const cJSON *envs = cJSON_GetObjectItemCaseSensitive(root, "envs");
        CHECK(cJSON_IsArray(envs) && cJSON_GetArraySize(envs) == 3);
        const cJSON *first = cJSON_GetArrayItem(envs, 0);
        CHECK(cJSON_IsString(first) && strstr(first->valuestring, "tabular_sparse.json"));
        /* every key of the table is there */
        CHECK_INT(cJSON_GetArraySize(root), meta_config_num_fields);
        for (int i = 0; i < meta_config_num_fields; i++)
            CHECK(cJSON_GetObjectItemCaseSensitive(root, meta_config_fields[i].key) != NULL);
    }
    cJSON_Delete(root);
    free(json);
    char *overrides = text_section(path, "overrides");
    CHECK(overrides && strcmp(overrides, "tabular_lrs=2,4,8\nseed=5\n") == 0);
    free(overrides);
    char *config = text_section(path, "config");
    char *file = read_whole_file(TINY, NULL);
    CHECK(config && file && strcmp(config, file) == 0); /* the file's text, as before */
    free(config);
    free(file);
}

TEST(meta_train_files_record_the_effective_config_and_overrides)
{
    const char *rule = "build/test_info_rule.lpg", *ckpt = "build/test_info_ckpt.lpg";
    char *over[] = {"tabular_lrs=2,4,8", "seed=5"};
    MetaRun run;
    MetaStepStats st;
    REQUIRE(meta_run_init(&run, TINY, 2, over) == 0);
    CHECK_INT(meta_run_step(&run, &st), 0);
    CHECK_INT(meta_run_save_rule(&run, rule), 0);
    CHECK_INT(meta_run_save(&run, ckpt), 0);
    meta_run_free(&run);
    check_effective_config(rule);
    check_effective_config(ckpt);

    /* Without overrides the section is there and empty. */
    REQUIRE(meta_run_init(&run, TINY, 0, NULL) == 0);
    CHECK_INT(meta_run_save_rule(&run, rule), 0);
    meta_run_free(&run);
    char *overrides = text_section(rule, "overrides");
    CHECK(overrides && overrides[0] == '\0');
    free(overrides);
}

TEST(meta_train_resumes_a_checkpoint_that_predates_effective_configs)
{
    const char *ckpt = "build/test_info_new.lpg", *old = "build/test_info_old.lpg";
    static const char *const record[] = {"effective_config", "overrides", "provenance", NULL};
    MetaRun run;
    MetaStepStats st;
    REQUIRE(meta_run_init(&run, TINY, 0, NULL) == 0);
    for (int s = 0; s < 3; s++)
        CHECK_INT(meta_run_step(&run, &st), 0);
    CHECK_INT(meta_run_save(&run, ckpt), 0);
    for (int s = 0; s < 2; s++)
        CHECK_INT(meta_run_step(&run, &st), 0);
    size_t n = run.layout.count;
    real *straight = malloc(n * sizeof(real));
    memcpy(straight, run.eta, n * sizeof(real));
    meta_run_free(&run);

    CHECK_INT(copy_without(ckpt, old, record), 0);
    Checkpoint ck;
    REQUIRE(checkpoint_open(&ck, old) == 0);
    CHECK(checkpoint_find(&ck, "effective_config") == NULL && checkpoint_find(&ck, "overrides") == NULL);
    checkpoint_close(&ck);
    CHECK_INT(meta_run_resume(&run, TINY, 0, NULL, old, 0), 0);
    CHECK_INT(run.step, 3);
    for (int s = 0; s < 2; s++)
        CHECK_INT(meta_run_step(&run, &st), 0);
    CHECK(memcmp(run.eta, straight, n * sizeof(real)) == 0);
    meta_run_free(&run);
    free(straight);

    /* lpg info shows the saved config text and says the file predates effective configs. */
    char out[16384];
    char *argv[] = {"info", (char *)old};
    CHECK_INT(info_in_process(2, argv, out, sizeof out), 0);
    CHECK(strstr(out, "kind: meta-training checkpoint") != NULL);
    CHECK(strstr(out, "meta-step: 3\n") != NULL);
    CHECK(strstr(out, "predates effective configs") != NULL);
    CHECK(strstr(out, "\"lifetime_updates\": 6") != NULL); /* from the saved file text */
    CHECK(strstr(out, "overrides (command line") == NULL);
    CHECK(strstr(out, "provenance: not recorded (the file predates provenance records)") != NULL);
}

TEST(info_reports_files_it_cannot_show)
{
    char out[16384];
    /* A checkpoint file holding no rule. */
    const char *norule = "build/test_info_norule.lpg";
    CheckpointWriter w;
    checkpoint_writer_init(&w);
    int64_t step = 4;
    CHECK_INT(checkpoint_add_int64(&w, "step", &step, 1), 0);
    CHECK_INT(checkpoint_write(&w, norule), 0);
    checkpoint_writer_free(&w);
    char *argv[] = {"info", (char *)norule, "--sections"};
    CHECK_INT(info_in_process(3, argv, out, sizeof out), 1);
    CHECK(strstr(out, "build/test_info_norule.lpg: holds no rule") != NULL);
    CHECK(strstr(out, "step ") != NULL); /* --sections still lists what is there */

    /* Usage errors. */
    char *argv3[] = {"info", "a.lpg", "b.lpg"};
    CHECK_INT(info_in_process(3, argv3, out, sizeof out), 2);
    char *argv4[] = {"info", "--sections"};
    CHECK_INT(info_in_process(2, argv4, out, sizeof out), 2);
    CHECK(strstr(out, "lpg: info: no file given (try 'lpg info --help')") != NULL);
}

TEST(info_cli_shows_how_a_meta_train_run_made_its_rule)
{
    char out[16384];
    CHECK_INT(run_lpg("meta-train " TINY " meta_steps=3 tabular_lrs=2,4,8 "
                      "run_dir=build/test_runs/meta_info --overwrite", out, sizeof out), 0);
    CHECK_INT(run_lpg("info build/test_runs/meta_info/rule.lpg", out, sizeof out), 0);
    CHECK(strstr(out, "file: build/test_runs/meta_info/rule.lpg\n") != NULL);
    CHECK(strstr(out, "kind: rule file\n") != NULL);
    CHECK(strstr(out, "meta-step: 3\n") != NULL);
    CHECK(strstr(out, "rule: LSTM width 8, 1272 parameters") != NULL);
    CHECK(strstr(out, "\"tabular_lrs\": [2,4,8]") != NULL);
    CHECK(strstr(out, "\n  tabular_lrs=2,4,8\n") != NULL);
    CHECK(strstr(out, "\"run_dir\": \"build/test_runs/meta_info\"") != NULL);
    CHECK(strstr(out, "sections") == NULL);
    CHECK_INT(run_lpg("info build/test_runs/meta_info/checkpoint.lpg --sections", out, sizeof out), 0);
    CHECK(strstr(out, "kind: meta-training checkpoint") != NULL);
    CHECK(strstr(out, "meta-step: 3\n") != NULL);
    CHECK(strstr(out, "\n  effective_config         text") != NULL);
    CHECK(strstr(out, "\n  eta                      real           1272\n") != NULL);
    CHECK(strstr(out, "\n  shape                    int64             6\n") != NULL);
    CHECK_INT(run_lpg("info --help", out, sizeof out), 0);
    CHECK(strstr(out, "usage: lpg info") != NULL && strstr(out, "--sections") != NULL);
    CHECK_INT(run_lpg("help", out, sizeof out), 0);
    CHECK(strstr(out, "  info ") != NULL);
}

TEST(info_cli_refuses_missing_truncated_and_foreign_files)
{
    char out[8192];
    CHECK_INT(run_lpg("meta-train " TINY " meta_steps=1 run_dir=build/test_runs/meta_info_bad "
                      "--overwrite", out, sizeof out), 0);
    size_t len = 0;
    char *bytes = read_whole_file("build/test_runs/meta_info_bad/rule.lpg", &len);
    CHECK(bytes && len > 100);
    if (bytes)
        CHECK_INT(write_file_atomic("build/test_info_truncated.lpg", bytes, len - 10), 0);
    free(bytes);
    /* Exit code 1 exactly: an error, not a crash (a signal gives -1 here). */
    CHECK_INT(run_lpg("info build/test_info_truncated.lpg", out, sizeof out), 1);
    CHECK(strstr(out, "lpg: build/test_info_truncated.lpg: truncated checkpoint") != NULL);
    CHECK_INT(run_lpg("info " TINY, out, sizeof out), 1);
    CHECK(strstr(out, "lpg: " TINY ": not a checkpoint") != NULL);
    CHECK_INT(run_lpg("info build/test_info_no_such_file.lpg", out, sizeof out), 1);
    CHECK(strstr(out, "lpg: build/test_info_no_such_file.lpg: cannot open") != NULL);
    CHECK_INT(run_lpg("info /dev/null", out, sizeof out), 1);
    CHECK(strstr(out, "lpg: /dev/null: empty file") != NULL);
    CHECK_INT(run_lpg("info build/test_info_truncated.lpg --bogus", out, sizeof out), 2);
}

/* The "rule: ..." line of `lpg info path` (width, count, eta checksum) into line. */
static int rule_line(const char *path, char *line, size_t size)
{
    char args[512], out[16384];
    snprintf(args, sizeof args, "info %s", path);
    if (run_lpg(args, out, sizeof out) != 0)
        return -1;
    const char *at = strstr(out, "\nrule: ");
    if (!at)
        return -1;
    at++;
    size_t n = strcspn(at, "\n");
    snprintf(line, size, "%.*s", (int)n, at);
    return 0;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

TEST(meta_train_rule_every_keeps_rule_snapshots)
{
    char out[16384];
    const char *dir = "build/test_runs/meta_rules";
    CHECK_INT(system("rm -rf build/test_runs/meta_rules build/test_runs/meta_rules_off"), 0);
    CHECK_INT(run_lpg("meta-train " TINY " meta_steps=5 rule_every=2 checkpoint_every=3 "
                      "run_dir=build/test_runs/meta_rules", out, sizeof out), 0);
    CHECK(strstr(out, "rule snapshot: build/test_runs/meta_rules/rules/rule_2.lpg") != NULL);
    char path[256];
    for (int step = 1; step <= 5; step++) {
        snprintf(path, sizeof path, "%s/rules/rule_%d.lpg", dir, step);
        CHECK_INT(exists(path), step % 2 == 0);
    }
    for (int step = 2; step <= 4; step += 2) {
        char args[300], expect[64];
        snprintf(args, sizeof args, "info %s/rules/rule_%d.lpg", dir, step);
        CHECK_INT(run_lpg(args, out, sizeof out), 0);
        snprintf(expect, sizeof expect, "meta-step: %d\n", step);
        CHECK(strstr(out, expect) != NULL);
        CHECK(strstr(out, "kind: rule file\n") != NULL);
        CHECK(strstr(out, "rule: LSTM width 8, 1272 parameters") != NULL);
        CHECK(strstr(out, "\"rule_every\": 2") != NULL);
    }
    /* Resumed, snapshots go on; the one at the last step is rule.lpg itself. */
    CHECK_INT(run_lpg("meta-train " TINY " meta_steps=6 rule_every=2 checkpoint_every=3 "
                      "run_dir=build/test_runs/meta_rules --resume", out, sizeof out), 0);
    size_t len_snap = 0, len_rule = 0;
    char *snap = read_whole_file("build/test_runs/meta_rules/rules/rule_6.lpg", &len_snap);
    char *rule = read_whole_file("build/test_runs/meta_rules/rule.lpg", &len_rule);
    CHECK(snap && rule && len_snap == len_rule && memcmp(snap, rule, len_rule) == 0);
    free(snap);
    free(rule);
    /* The run is the same without snapshots (and without the stop at step 5): same eta. */
    CHECK_INT(run_lpg("meta-train " TINY " meta_steps=6 run_dir=build/test_runs/meta_rules_off",
                      out, sizeof out), 0);
    CHECK(!exists("build/test_runs/meta_rules_off/rules"));
    char with[256] = "", without[256] = "", early[256] = "";
    CHECK_INT(rule_line("build/test_runs/meta_rules/checkpoint.lpg", with, sizeof with), 0);
    CHECK_INT(rule_line("build/test_runs/meta_rules_off/checkpoint.lpg", without, sizeof without), 0);
    CHECK_INT(rule_line("build/test_runs/meta_rules/rules/rule_2.lpg", early, sizeof early), 0);
    CHECK(with[0] && strcmp(with, without) == 0);
    CHECK(strcmp(with, early) != 0); /* the checksum does tell rules apart */
    CHECK_INT(run_lpg("meta-train --help", out, sizeof out), 0);
    CHECK(strstr(out, "rule_every") != NULL && strstr(out, "rules/rule_<step>.lpg") != NULL);
}

/* The JSON sections of a checkpoint (the effective config; the config file text of older
 * files) are checked as config files are: a key twice is refused by resume and by info, with
 * the file, the section, the line and the key. */
TEST(checkpoint_json_sections_with_a_key_twice_are_refused)
{
    const char *ckpt = "build/test_info_dup_src.lpg", *dup = "build/test_info_dup.lpg",
               *old_dup = "build/test_info_dup_old.lpg";
    static const char *const none[] = {NULL}, *const record[] = {"effective_config", "overrides", NULL};
    MetaRun run;
    MetaStepStats st;
    REQUIRE(meta_run_init(&run, TINY, 0, NULL) == 0);
    CHECK_INT(meta_run_step(&run, &st), 0);
    CHECK_INT(meta_run_save(&run, ckpt), 0);
    meta_run_free(&run);
    char *effective = text_section(ckpt, "effective_config");
    REQUIRE(effective != NULL && effective[0] == '{');
    /* the seed given first, the run's own value (3) later in the text */
    size_t len = strlen(effective);
    char *twice = malloc(len + 32);
    REQUIRE(twice != NULL);
    snprintf(twice, len + 32, "{\"seed\": 9,%s", effective + 1);
    CHECK_INT(copy_changing(ckpt, dup, none, "effective_config", twice), 0);
    mute_stderr();
    int rc = meta_run_resume(&run, TINY, 0, NULL, dup, 0);
    unmute_stderr();
    meta_run_free(&run);
    CHECK_INT(rc, -1);
    CHECK(strstr(checkpoint_last_error(), "build/test_info_dup.lpg: section 'effective_config': "
                                          "line ") != NULL);
    CHECK(strstr(checkpoint_last_error(), "duplicate key \"seed\" (first at line 1)") != NULL);
    char out[16384];
    char *argv[] = {"info", (char *)dup};
    CHECK_INT(info_in_process(2, argv, out, sizeof out), 1);
    CHECK(strstr(out, "lpg: build/test_info_dup.lpg: section 'effective_config': line ") != NULL);
    CHECK(strstr(out, "duplicate key \"seed\"") != NULL);
    /* The unchanged file resumes: the refusal is the duplicate's alone. */
    CHECK_INT(meta_run_resume(&run, TINY, 0, NULL, ckpt, 0), 0);
    meta_run_free(&run);
    /* An older file's saved config text with a key twice: info names it. */
    CHECK_INT(copy_without(ckpt, old_dup, record), 0);
    CHECK_INT(copy_changing(old_dup, old_dup, none, "config",
                            "{\n  \"lifetimes\": 2,\n  \"lifetimes\": 3\n}\n"), 0);
    char *argv_old[] = {"info", (char *)old_dup};
    CHECK_INT(info_in_process(2, argv_old, out, sizeof out), 1);
    CHECK(strstr(out, "lpg: build/test_info_dup_old.lpg: section 'config': line 3, column 3: "
                      "duplicate key \"lifetimes\" (first at line 2)") != NULL);
    free(twice);
    free(effective);
}
