/* test_checkpoint.c: checkpoint files round-trip every section type; damaged, foreign and
 * mismatched files are refused with the right message; a failed write keeps the old file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "checkpoint.h"
#include "quiet_stderr.h"
#include "rng.h"
#include "test.h"

#define CKPT_PATH "build/test_checkpoint.ckpt"
#define BAD_PATH "build/test_checkpoint_bad.ckpt"
#define NUM_ETA 1000

static const char config_text[] = "{\"lifetimes\": 32, \"envs\": [\"a.json\", \"b.json\"]}";

static void fill_eta(real *eta)
{
    for (int i = 0; i < NUM_ETA; i++)
        eta[i] = (real)(sin(0.37 * i) * 1e-3 * (i % 17) - 0.5);
}

/* Writes the reference checkpoint with one section of each type (and two empty ones). */
static int write_reference(const char *path)
{
    real eta[NUM_ETA];
    fill_eta(eta);
    int64_t step[2] = {123456789012345LL, INT64_MIN};
    Rng rng;
    rng_seed(&rng, 5, 9);
    CheckpointWriter w;
    checkpoint_writer_init(&w);
    int rc = checkpoint_add_real(&w, "eta", eta, NUM_ETA);
    rc |= checkpoint_add_int64(&w, "step", step, 2);
    rc |= checkpoint_add_bytes(&w, "rng", &rng, sizeof rng);
    rc |= checkpoint_add_text(&w, "config", config_text);
    rc |= checkpoint_add_real(&w, "empty_real", NULL, 0);
    rc |= checkpoint_add_bytes(&w, "empty_bytes", NULL, 0);
    rc |= checkpoint_write(&w, path);
    checkpoint_writer_free(&w);
    return rc;
}

static unsigned char *load_file(const char *path, size_t *len)
{
    return (unsigned char *)read_whole_file(path, len);
}

static void save_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, len, f);
        fclose(f);
    }
}

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Opens path expecting a refusal whose message starts with the path and contains `expect`. */
static int refused_with(const char *path, const char *expect)
{
    Checkpoint ck;
    mute_stderr();
    int rc = checkpoint_open(&ck, path);
    unmute_stderr();
    const char *msg = checkpoint_last_error();
    int ok = rc == -1 && ck.payload == NULL && ck.sections == NULL &&
             strncmp(msg, path, strlen(path)) == 0 && strstr(msg, expect) != NULL;
    if (!ok)
        fprintf(stderr, "  opening %s: rc %d, message '%s', expected '%s'\n", path, rc, msg, expect);
    if (rc == 0)
        checkpoint_close(&ck);
    return ok;
}

/* Saves len bytes of data as BAD_PATH and checks that opening it is refused with `expect`. */
static int refuses_bytes(const unsigned char *data, size_t len, const char *expect)
{
    save_file(BAD_PATH, data, len);
    return refused_with(BAD_PATH, expect);
}

/* Builds a checkpoint file around an arbitrary payload (valid header, stream and CRC). */
static void save_raw_payload(const char *path, const unsigned char *payload, size_t len)
{
    uLongf clen = compressBound(len);
    unsigned char *file = malloc(36 + clen);
    compress2(file + 36, &clen, payload, len, 6);
    memcpy(file, "LPGCKPT1", 8);
    put_le32(file + 8, 1);
    put_le32(file + 12, (uint32_t)sizeof(real));
    put_le64(file + 16, len);
    put_le64(file + 24, clen);
    put_le32(file + 32, (uint32_t)crc32(0, payload, (uInt)len));
    save_file(path, file, 36 + clen);
    free(file);
}

TEST(checkpoint_round_trips_every_section_type)
{
    CHECK_INT(write_reference(CKPT_PATH), 0);
    Checkpoint ck;
    REQUIRE(checkpoint_open(&ck, CKPT_PATH) == 0);
    CHECK_INT(ck.num_sections, 6);

    real eta[NUM_ETA], expect[NUM_ETA];
    fill_eta(expect);
    CHECK_INT(checkpoint_get_real(&ck, "eta", eta, NUM_ETA), 0);
    CHECK(memcmp(eta, expect, sizeof eta) == 0);

    int64_t step[2] = {0, 0};
    CHECK_INT(checkpoint_get_int64(&ck, "step", step, 2), 0);
    CHECK(step[0] == 123456789012345LL && step[1] == INT64_MIN);

    Rng rng, expect_rng;
    rng_seed(&expect_rng, 5, 9);
    CHECK_INT(checkpoint_get_bytes(&ck, "rng", &rng, sizeof rng), 0);
    CHECK(memcmp(&rng, &expect_rng, sizeof rng) == 0);
    CHECK(rng_u32(&rng) == rng_u32(&expect_rng));

    char *text = checkpoint_get_text(&ck, "config");
    CHECK(text && strcmp(text, config_text) == 0);
    free(text);

    CHECK_INT(checkpoint_get_real(&ck, "empty_real", NULL, 0), 0);
    CHECK_INT(checkpoint_get_bytes(&ck, "empty_bytes", NULL, 0), 0);
    const CheckpointSection *s = checkpoint_find(&ck, "eta");
    CHECK(s && s->type == CHECKPOINT_REAL && s->count == NUM_ETA);
    CHECK(checkpoint_find(&ck, "absent") == NULL);
    checkpoint_close(&ck);
    checkpoint_close(&ck); /* closing twice is harmless */
}

TEST(checkpoint_refuses_missing_or_mismatched_sections)
{
    CHECK_INT(write_reference(CKPT_PATH), 0);
    Checkpoint ck;
    REQUIRE(checkpoint_open(&ck, CKPT_PATH) == 0);
    real eta[NUM_ETA];
    int64_t step[2];
    mute_stderr();
    int missing = checkpoint_get_real(&ck, "theta", eta, NUM_ETA);
    unmute_stderr();
    CHECK_INT(missing, -1);
    CHECK(strcmp(checkpoint_last_error(), CKPT_PATH ": no section 'theta'") == 0);

    mute_stderr();
    int wrong_type = checkpoint_get_int64(&ck, "eta", step, 2);
    unmute_stderr();
    CHECK_INT(wrong_type, -1);
    CHECK(strstr(checkpoint_last_error(), "section 'eta' holds real, expected int64") != NULL);

    mute_stderr();
    int wrong_count = checkpoint_get_real(&ck, "eta", eta, NUM_ETA - 1);
    char *text = checkpoint_get_text(&ck, "rng");
    unmute_stderr();
    CHECK_INT(wrong_count, -1);
    CHECK(text == NULL);
    CHECK(strstr(checkpoint_last_error(), "section 'rng' holds bytes, expected text") != NULL);
    checkpoint_close(&ck);
}

TEST(checkpoint_refuses_truncated_files)
{
    CHECK_INT(write_reference(CKPT_PATH), 0);
    size_t len = 0;
    unsigned char *file = load_file(CKPT_PATH, &len);
    CHECK(file && len > 100);
    if (!file)
        return;
    CHECK(refuses_bytes(file, 0, "empty file"));
    size_t cuts[] = {1, 7, 8, 20, 35, 36, 37, 36 + (len - 36) / 2, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        CHECK(refuses_bytes(file, cuts[i], "truncated"));
    free(file);
}

TEST(checkpoint_refuses_damaged_payload)
{
    CHECK_INT(write_reference(CKPT_PATH), 0);
    size_t len = 0;
    unsigned char *file = load_file(CKPT_PATH, &len);
    if (!file)
        return;
    size_t flips[] = {36, 37, 40, 36 + (len - 36) / 3, 36 + (len - 36) / 2, len - 5, len - 1};
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        file[flips[i]] ^= 0x10;
        CHECK(refuses_bytes(file, len, "corrupt checkpoint payload"));
        file[flips[i]] ^= 0x10;
    }
    file[32] ^= 1; /* the stored CRC */
    CHECK(refuses_bytes(file, len, "CRC32"));
    file[32] ^= 1;
    put_le64(file + 16, 1ull << 40); /* payload size beyond what deflate can produce */
    CHECK(refuses_bytes(file, len, "corrupt header"));
    put_le64(file + 16, 100); /* a payload size the stream does not match */
    CHECK(refuses_bytes(file, len, "corrupt checkpoint payload"));
    free(file);

    file = load_file(CKPT_PATH, &len);
    unsigned char *longer = malloc(len + 3);
    memcpy(longer, file, len);
    memset(longer + len, 0, 3);
    CHECK(refuses_bytes(longer, len + 3, "3 unexpected bytes"));
    free(longer);
    free(file);
}

TEST(checkpoint_refuses_foreign_and_mismatched_headers)
{
    CHECK_INT(write_reference(CKPT_PATH), 0);
    size_t len = 0;
    unsigned char *file = load_file(CKPT_PATH, &len);
    if (!file)
        return;
    file[0] = 'X';
    CHECK(refuses_bytes(file, len, "not a checkpoint"));
    file[0] = 'L';
    put_le32(file + 8, CHECKPOINT_VERSION + 1);
    CHECK(refuses_bytes(file, len, "format version 2 is newer than this lpg reads (up to 1)"));
    put_le32(file + 8, 0);
    CHECK(refuses_bytes(file, len, "bad checkpoint format version 0"));
    put_le32(file + 8, CHECKPOINT_VERSION);
    put_le32(file + 12, sizeof(real) == 8 ? 4 : 8); /* the sections no longer add up */
    CHECK(refuses_bytes(file, len, "corrupt section table"));
    put_le32(file + 12, 3);
    CHECK(refuses_bytes(file, len, "bad real size 3"));
    put_le32(file + 12, sizeof(real));
    save_file(BAD_PATH, file, len); /* restored: opens again */
    Checkpoint ck;
    REQUIRE(checkpoint_open(&ck, BAD_PATH) == 0);
    checkpoint_close(&ck);
    free(file);

    const char json[] = "{\n  \"lifetimes\": 32,\n  \"env\": \"configs/envs/dense.json\"\n}\n";
    CHECK(refuses_bytes((const unsigned char *)json, strlen(json), "not a checkpoint"));
    CHECK(refuses_bytes((const unsigned char *)"{}", 2, "not a checkpoint"));
    CHECK(refused_with("build/no_such_checkpoint.ckpt", "cannot read"));
    CHECK(refused_with("build", "cannot read")); /* a directory */
}

/* A section header with a one-letter name: 17 bytes. */
static void put_section_header(unsigned char *p, char name, uint32_t type, uint64_t count)
{
    put_le32(p, 1);
    p[4] = (unsigned char)name;
    put_le32(p + 5, type);
    put_le64(p + 9, count);
}

TEST(checkpoint_refuses_bad_section_tables)
{
    /* name length 200 in a 20-byte payload */
    unsigned char payload[64] = {0};
    put_le32(payload, 200);
    save_raw_payload(BAD_PATH, payload, 20);
    CHECK(refused_with(BAD_PATH, "corrupt section table at payload byte 0"));

    /* a valid 1-byte section "a", then "b" claiming more int64s than there are bytes */
    put_section_header(payload, 'a', CHECKPOINT_BYTES, 1);
    payload[17] = 7;
    unsigned char *p = payload + 18;
    put_section_header(p, 'b', CHECKPOINT_INT64, 1ull << 61);
    save_raw_payload(BAD_PATH, payload, 18 + 17 + 8);
    CHECK(refused_with(BAD_PATH, "corrupt section table at payload byte 18"));

    put_section_header(p, 'b', 99, 1); /* unknown type */
    save_raw_payload(BAD_PATH, payload, 18 + 17 + 8);
    CHECK(refused_with(BAD_PATH, "corrupt section table at payload byte 18"));

    put_section_header(p, 'a', CHECKPOINT_INT64, 1); /* the same name twice */
    save_raw_payload(BAD_PATH, payload, 18 + 17 + 8);
    CHECK(refused_with(BAD_PATH, "section 'a' appears twice"));

    put_section_header(p, 'b', CHECKPOINT_INT64, 1); /* and now it is fine */
    save_raw_payload(BAD_PATH, payload, 18 + 17 + 8);
    Checkpoint ck;
    REQUIRE(checkpoint_open(&ck, BAD_PATH) == 0);
    CHECK_INT(ck.num_sections, 2);
    checkpoint_close(&ck);
    remove(BAD_PATH);
}

TEST(checkpoint_writer_refuses_bad_names)
{
    CheckpointWriter w;
    checkpoint_writer_init(&w);
    int64_t one = 1;
    char long_name[CHECKPOINT_NAME_MAX + 1];
    memset(long_name, 'x', CHECKPOINT_NAME_MAX);
    long_name[CHECKPOINT_NAME_MAX] = '\0';
    CHECK_INT(checkpoint_add_int64(&w, "step", &one, 1), 0);
    mute_stderr();
    int twice = checkpoint_add_int64(&w, "step", &one, 1);
    int empty = checkpoint_add_int64(&w, "", &one, 1);
    int too_long = checkpoint_add_int64(&w, long_name, &one, 1);
    int written = checkpoint_write(&w, BAD_PATH);
    unmute_stderr();
    CHECK_INT(twice, -1);
    CHECK_INT(empty, -1);
    CHECK_INT(too_long, -1);
    CHECK_INT(written, -1);
    CHECK(strstr(checkpoint_last_error(), "not written") != NULL);
    checkpoint_writer_free(&w);
}

static int same_file(const char *path, const unsigned char *data, size_t len)
{
    size_t now_len = 0;
    unsigned char *now = load_file(path, &now_len);
    int same = now && now_len == len && memcmp(now, data, len) == 0;
    free(now);
    return same;
}

TEST(checkpoint_failed_write_keeps_the_old_file)
{
    CHECK_INT(write_reference(CKPT_PATH), 0);
    size_t len = 0;
    unsigned char *before = load_file(CKPT_PATH, &len);
    if (!before)
        return;
    CheckpointWriter w;
    checkpoint_writer_init(&w);
    int64_t step = 7;
    CHECK_INT(checkpoint_add_int64(&w, "step", &step, 1), 0);

    /* The temporary file cannot be created (a directory is in its way): the old file stays. */
    mkdir(CKPT_PATH ".tmp", 0755);
    mute_stderr();
    int rc = checkpoint_write(&w, CKPT_PATH);
    unmute_stderr();
    rmdir(CKPT_PATH ".tmp");
    CHECK_INT(rc, -1);
    CHECK(strstr(checkpoint_last_error(), "cannot write") != NULL);
    CHECK(same_file(CKPT_PATH, before, len));

    /* No such directory; a path that is a directory. */
    mute_stderr();
    int no_dir = checkpoint_write(&w, "build/no_such_dir/x.ckpt");
    int is_dir = checkpoint_write(&w, "build");
    unmute_stderr();
    CHECK_INT(no_dir, -1);
    CHECK_INT(is_dir, -1);
    struct stat st;
    CHECK(stat("build", &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(access("build.tmp", F_OK) != 0); /* the temporary file was cleaned up */

    CHECK_INT(checkpoint_write(&w, CKPT_PATH), 0); /* and a good write does replace it */
    CHECK(!same_file(CKPT_PATH, before, len));
    checkpoint_writer_free(&w);
    free(before);
    remove(CKPT_PATH);
}
