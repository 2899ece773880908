/* test_provenance.c: every output records the program that made it (provenance.h), resume goes
 * on with a note when that differs, and LPG_CPU=avx2 (cpu_pin.h) gives the bits of each kernel
 * choice pinned by hand. */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checkpoint.h"
#include "provenance.h"
#include "test.h"
#include "util.h"
#include "vecmath.h"

#define TINY "tests/configs/meta_tiny.json"
#define RUN "build/test_runs/provenance"
#define HAND_TUNABLES "glibc.cpu.hwcaps=-AVX512F,-AVX512DQ,-AVX512BW,-AVX512VL,-AVX512CD"

TEST(provenance_record_names_the_build_and_kernels)
{
    cJSON *r = provenance_json();
    REQUIRE(r != NULL);
    static const char *const keys[] = {"lpg", "git", "precision", "compiler", "glibc", "openblas",
                                       "openblas_core", "cpu", "lpg_kernels", "libmvec"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(r, keys[i]);
        CHECK(cJSON_IsString(item) && item->valuestring[0] != '\0');
    }
    CHECK(strcmp(cJSON_GetObjectItemCaseSensitive(r, "precision")->valuestring, REAL_NAME) == 0);
    CHECK(strcmp(cJSON_GetObjectItemCaseSensitive(r, "openblas_core")->valuestring,
                 openblas_get_corename()) == 0);
    CHECK(strcmp(cJSON_GetObjectItemCaseSensitive(r, "lpg_kernels")->valuestring,
                 vec_level_name(vec_level)) == 0);
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "lpg_cpu"))); /* unset in the tests */
    CHECK(strcmp(provenance_text(), provenance_text()) == 0); /* built once */
    cJSON_Delete(r);
}

/* The provenance a file holds, parsed (NULL when none). */
static cJSON *file_provenance(const char *path)
{
    Checkpoint ck;
    if (checkpoint_open(&ck, path))
        return NULL;
    int failed;
    char *text = provenance_read(&ck, &failed);
    checkpoint_close(&ck);
    cJSON *r = text ? cJSON_Parse(text) : NULL;
    free(text);
    return r;
}

/* The log's first line, parsed. */
static cJSON *log_first_line(const char *path)
{
    char line[4096];
    FILE *f = fopen(path, "r");
    cJSON *r = f && fgets(line, sizeof line, f) ? cJSON_Parse(line) : NULL;
    if (f)
        fclose(f);
    return r;
}

static const char *string_of(const cJSON *o, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(item) ? item->valuestring : "";
}

TEST(provenance_goes_in_checkpoints_rule_files_the_log_and_info)
{
    char out[16384];
    CHECK_INT(run_lpg("meta-train " TINY " meta_steps=2 run_dir=" RUN " --overwrite", out,
                      sizeof out), 0);
    cJSON *ckpt = file_provenance(RUN "/checkpoint.lpg"), *rule = file_provenance(RUN "/rule.lpg");
    cJSON *log = log_first_line(RUN "/log.jsonl");
    REQUIRE(ckpt && rule && log);
    const cJSON *logged = cJSON_GetObjectItemCaseSensitive(log, "provenance");
    CHECK(cJSON_Compare(ckpt, rule, 1) && cJSON_Compare(ckpt, logged, 1));
    CHECK(string_of(ckpt, "openblas_core")[0] != '\0' && string_of(ckpt, "cpu")[0] != '\0');
    /* lpg info prints the recorded one for a file, and the binary's own without a file. */
    CHECK_INT(run_lpg("info " RUN "/rule.lpg", out, sizeof out), 0);
    char expected[512];
    snprintf(expected, sizeof expected, "provenance (the program that wrote the file):\n"
             "  lpg: %s\n  git: %s\n  precision: %s\n", string_of(ckpt, "lpg"),
             string_of(ckpt, "git"), string_of(ckpt, "precision"));
    CHECK(strstr(out, expected) != NULL);
    CHECK_INT(run_lpg("info", out, sizeof out), 0);
    snprintf(expected, sizeof expected, "  openblas_core: %s\n", string_of(ckpt, "openblas_core"));
    CHECK(strncmp(out, "provenance (this program):\n", 27) == 0 && strstr(out, expected) != NULL);
    /* A file written before provenance records (the committed rules are) still shows. */
    CHECK_INT(run_lpg("info checkpoints/grid.lpg", out, sizeof out), 0);
    CHECK(strstr(out, "provenance: not recorded (the file predates provenance records)") != NULL);
    cJSON_Delete(ckpt);
    cJSON_Delete(rule);
    cJSON_Delete(log);
}

/* Copies src to dst with its provenance section replaced by text (none when text is NULL),
 * section by section as raw bytes, so the file keeps its precision whatever this build's. */
static int replace_provenance(const char *src, const char *dst, const char *text)
{
    Checkpoint ck;
    if (checkpoint_open(&ck, src))
        return -1;
    size_t extra = text ? 4 + 10 + 4 + 8 + strlen(text) : 0, len = 0;
    unsigned char *payload = malloc(ck.payload_len + extra);
    for (int i = 0; payload && i < ck.num_sections; i++) {
        const CheckpointSection *s = &ck.sections[i];
        size_t head = 4 + strlen(s->name) + 4 + 8;
        size_t size = s->count * (s->type == CHECKPOINT_REAL ? ck.real_size
                                  : s->type == CHECKPOINT_INT64 ? 8 : 1);
        if (strcmp(s->name, "provenance") != 0) {
            memcpy(payload + len, ck.payload + s->offset - head, head + size);
            len += head + size;
        }
    }
    if (payload && text) { /* u32 name length, name, u32 type, u64 count, the text */
        uint32_t name_len = 10, type = CHECKPOINT_TEXT;
        uint64_t count = strlen(text);
        memcpy(payload + len, &name_len, 4);
        memcpy(payload + len + 4, "provenance", 10);
        memcpy(payload + len + 14, &type, 4);
        memcpy(payload + len + 18, &count, 8);
        memcpy(payload + len + 26, text, count);
        len += extra;
    }
    int rc = payload ? checkpoint_write_payload(payload, len, ck.real_size, dst) : -1;
    free(payload);
    checkpoint_close(&ck);
    return rc;
}

/* Whether the log has a provenance line taking over at from_step. */
static int log_has_takeover(const char *path, int from_step)
{
    char *text = read_whole_file(path, NULL), pattern[64];
    snprintf(pattern, sizeof pattern, "},\"from_step\":%d}\n", from_step);
    int found = text && strstr(text, pattern) && strncmp(text, "{\"provenance\":{", 15) == 0;
    free(text);
    return found;
}

TEST(resume_notes_another_provenance_and_ends_where_an_unbroken_run_ends)
{
    char out[16384];
    CHECK_INT(run_lpg("meta-train " TINY " meta_steps=5 run_dir=" RUN " --overwrite", out,
                      sizeof out), 0);
    char *straight = read_whole_file(RUN "/checkpoint.lpg", NULL);
    CHECK_INT(run_lpg("meta-train " TINY " meta_steps=3 run_dir=" RUN " --overwrite", out,
                      sizeof out), 0);
    CHECK_INT(system("cp " RUN "/checkpoint.lpg build/test_provenance_at3.lpg"), 0);
    size_t len = 0;
    /* Another machine's checkpoint: the resume goes on, naming what differs. */
    cJSON *other = file_provenance(RUN "/checkpoint.lpg");
    REQUIRE(other != NULL);
    cJSON_ReplaceItemInObjectCaseSensitive(other, "cpu", cJSON_CreateString("Another CPU"));
    char *other_text = cJSON_PrintUnformatted(other);
    CHECK_INT(replace_provenance("build/test_provenance_at3.lpg", RUN "/checkpoint.lpg",
                                 other_text), 0);
    CHECK_INT(run_lpg("meta-train " TINY " meta_steps=5 run_dir=" RUN " --resume", out,
                      sizeof out), 0);
    CHECK(strstr(out, "was written by another build, machine or kernel setting") != NULL);
    CHECK(strstr(out, "  cpu: \"Another CPU\", now \"") != NULL);
    CHECK(strstr(out, "  openblas_core:") == NULL); /* only what differs */
    char *resumed = read_whole_file(RUN "/checkpoint.lpg", &len);
    CHECK(straight && resumed && memcmp(straight, resumed, len) == 0);
    CHECK(log_has_takeover(RUN "/log.jsonl", 3));
    free(resumed);
    /* A checkpoint from before provenance records resumes too. */
    CHECK_INT(replace_provenance("build/test_provenance_at3.lpg", RUN "/checkpoint.lpg", NULL), 0);
    CHECK_INT(run_lpg("meta-train " TINY " meta_steps=5 run_dir=" RUN " --resume", out,
                      sizeof out), 0);
    CHECK(strstr(out, "records no provenance (written before lpg recorded it)") != NULL);
    resumed = read_whole_file(RUN "/checkpoint.lpg", &len);
    CHECK(straight && resumed && memcmp(straight, resumed, len) == 0);
    free(resumed);
    free(straight);
    free(other_text);
    cJSON_Delete(other);
}

/* Every section of a and b but "provenance" byte for byte, and the logs but their first lines. */
static int same_but_provenance(const char *dir_a, const char *dir_b)
{
    char path_a[256], path_b[256];
    snprintf(path_a, sizeof path_a, "%s/checkpoint.lpg", dir_a);
    snprintf(path_b, sizeof path_b, "%s/checkpoint.lpg", dir_b);
    Checkpoint a, b;
    if (checkpoint_open(&a, path_a))
        return 0;
    if (checkpoint_open(&b, path_b))
        return checkpoint_close(&a), 0;
    int same = a.num_sections == b.num_sections && a.real_size == b.real_size;
    for (int i = 0; same && i < a.num_sections; i++) {
        const CheckpointSection *x = &a.sections[i], *y = &b.sections[i];
        size_t size = x->count * (x->type == CHECKPOINT_REAL ? a.real_size
                                  : x->type == CHECKPOINT_INT64 ? 8 : 1);
        same = strcmp(x->name, y->name) == 0 &&
               (strcmp(x->name, "provenance") == 0 ||
                (x->count == y->count &&
                 memcmp(a.payload + x->offset, b.payload + y->offset, size) == 0));
    }
    checkpoint_close(&a);
    checkpoint_close(&b);
    snprintf(path_a, sizeof path_a, "%s/log.jsonl", dir_a);
    snprintf(path_b, sizeof path_b, "%s/log.jsonl", dir_b);
    char *log_a = read_whole_file(path_a, NULL), *log_b = read_whole_file(path_b, NULL);
    char *steps_a = log_a ? strchr(log_a, '\n') : NULL, *steps_b = log_b ? strchr(log_b, '\n') : NULL;
    steps_a = steps_a ? steps_a + 1 : NULL;
    steps_b = steps_b ? steps_b + 1 : NULL;
    /* the timings differ: compare each line up to its "seconds" */
    for (char *p = steps_a, *q = steps_b; same && p && q && *p && *q;) {
        char *sp = strstr(p, "\"seconds\""), *sq = strstr(q, "\"seconds\"");
        same = sp && sq && sp - p == sq - q && memcmp(p, q, (size_t)(sp - p)) == 0;
        p = strchr(sp ? sp : p, '\n');
        q = strchr(sq ? sq : q, '\n');
        p = p ? p + 1 : NULL;
        q = q ? q + 1 : NULL;
    }
    same = same && steps_a && steps_b;
    free(log_a);
    free(log_b);
    return same;
}

TEST(lpg_cpu_avx2_gives_the_bits_of_each_kernel_pinned_by_hand)
{
    char out[16384];
    CHECK_INT(system("rm -rf " RUN "_pinned " RUN "_hand"), 0);
    setenv("LPG_CPU", "bogus", 1);
    CHECK_INT(run_lpg("info", out, sizeof out), 2);
    CHECK(strcmp(out, "lpg: LPG_CPU=bogus: no such setting (avx2 or avx512)\n") == 0);
    unsetenv("LPG_CPU");
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        fprintf(stderr, "  skipped: this CPU has no AVX2 and FMA\n");
        return;
    }
#else
    fprintf(stderr, "  skipped: not x86-64\n");
    return;
#endif
    setenv("LPG_CPU", "avx2", 1);
    setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
    CHECK_INT(run_lpg("info", out, sizeof out), 2);
    CHECK(strstr(out, "LPG_CPU=avx2 sets OPENBLAS_CORETYPE=Haswell, but it is already SkylakeX")
          != NULL);
    unsetenv("OPENBLAS_CORETYPE");
    CHECK_INT(run_lpg("meta-train " TINY " meta_steps=3 run_dir=" RUN " --overwrite", out,
                      sizeof out), 0);
    unsetenv("LPG_CPU");
    CHECK_INT(rename(RUN, RUN "_pinned"), 0);
    cJSON *pinned = file_provenance(RUN "_pinned/checkpoint.lpg");
    CHECK(strcmp(string_of(pinned, "lpg_cpu"), "avx2") == 0);
    CHECK(strcasecmp(string_of(pinned, "openblas_core"), "Haswell") == 0);
    CHECK(strcmp(string_of(pinned, "lpg_kernels"), "avx2") == 0);
    CHECK(strcmp(string_of(pinned, "glibc_tunables"), HAND_TUNABLES) == 0);
    cJSON_Delete(pinned);
    /* The same three by hand, without LPG_CPU. */
    setenv("OPENBLAS_CORETYPE", "Haswell", 1);
    setenv("GLIBC_TUNABLES", HAND_TUNABLES, 1);
    setenv("LPG_VEC", "avx2", 1);
    CHECK_INT(run_lpg("meta-train " TINY " meta_steps=3 run_dir=" RUN " --overwrite", out,
                      sizeof out), 0);
    unsetenv("OPENBLAS_CORETYPE");
    unsetenv("GLIBC_TUNABLES");
    unsetenv("LPG_VEC");
    CHECK_INT(rename(RUN, RUN "_hand"), 0);
    CHECK(same_but_provenance(RUN "_pinned", RUN "_hand"));
}
