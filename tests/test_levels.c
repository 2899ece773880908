/* test_levels.c: the level sampler (level_sampler.h, docs/method.md §10.6): the replay
 * distribution on a worked example, the draws it and the replay probability make, replacement of
 * the lowest score, A2C computed once per level, and meta-training with "regret" free of the
 * thread count and resumed exactly; "uniform" (the default) is the run of before the sampler,
 * bit for bit; bad keys are refused by name. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "level_a2c.h"
#include "level_sampler.h"
#include "meta_train.h"
#include "quiet_stderr.h"
#include "test.h"

#define LEVELS "tests/configs/meta_levels.json"

/* The worked example: scores 0.5, 2, 1 (ranks 3, 1, 2), last used at meta-steps 2, 5, 0. */
static void example_buffer(LevelBuffer *b, Level *levels)
{
    Level example[3] = {{11, 0.5, 1.5, 2}, {22, 2.0, 3.0, 5}, {33, 1.0, 2.0, 0}};
    memcpy(levels, example, sizeof example);
    b->levels = levels;
    b->count = 3;
}

/* At meta-step 6 with β = 0.5 and ρ = 0.2: rank weights (1/rank)^2 = 1/9, 1, 1/4 (sum 49/36),
 * so P_S = 4/49, 36/49, 9/49; staleness 4, 1, 6 (sum 11), so P_C = 4/11, 1/11, 6/11; and
 * P = 0.8 P_S + 0.2 P_C. */
static const double example_p[3] = {0.8 * 4 / 49 + 0.2 * 4 / 11, 0.8 * 36 / 49 + 0.2 * 1 / 11,
                                    0.8 * 9 / 49 + 0.2 * 6 / 11};

TEST(levels_replay_probabilities_on_a_worked_example)
{
    Level levels[3];
    LevelBuffer b;
    example_buffer(&b, levels);
    LevelRank ranks[3];
    double p[3];
    level_replay_probabilities(&b, 0.5, 0.2, 6, ranks, p);
    for (int i = 0; i < 3; i++)
        CHECK_NEAR(p[i], example_p[i], 1e-15);
    CHECK_NEAR(p[0], 0.13803339517625, 1e-12);
    CHECK_INT(ranks[0].at, 1);
    CHECK_INT(ranks[2].at, 0);
    /* ρ = 0: ranks alone; β = 1: weights 1/rank (1/3, 1, 1/2 over 11/6). */
    level_replay_probabilities(&b, 1.0, 0.0, 6, ranks, p);
    CHECK_NEAR(p[0], 2.0 / 11, 1e-15);
    CHECK_NEAR(p[1], 6.0 / 11, 1e-15);
    CHECK_NEAR(p[2], 3.0 / 11, 1e-15);
    /* ρ = 1 with every level used now: staleness is uniform. */
    for (int i = 0; i < 3; i++)
        levels[i].last_used = 6;
    level_replay_probabilities(&b, 0.5, 1.0, 6, ranks, p);
    for (int i = 0; i < 3; i++)
        CHECK_NEAR(p[i], 1.0 / 3, 1e-15);
    /* Equal scores rank by buffer position: the first gets rank 1. */
    levels[2].score = levels[1].score;
    level_replay_probabilities(&b, 0.5, 0.0, 6, ranks, p);
    CHECK_INT(ranks[0].at, 1);
    CHECK_INT(ranks[1].at, 2);
    CHECK_NEAR(p[1], 36.0 / 49, 1e-15);
    CHECK_NEAR(p[2], 9.0 / 49, 1e-15);
}

/* A sampler on one procedural environment, set up by hand (no A2C needed to draw). */
typedef struct {
    LevelSampler s;
    EnvSpec spec;
    LevelLife life;
    double weights[3];
    LevelRank ranks[3];
    Level levels[3];
    LevelBuffer buffer;
} HandSampler;

static int hand_sampler(HandSampler *h, double replay_prob)
{
    memset(h, 0, sizeof *h);
    if (env_load("configs/envs/procgrid.json", &h->spec))
        return -1;
    LevelSampler *s = &h->s;
    s->enabled = 1;
    s->capacity = 3;
    s->replay_prob = replay_prob, s->temperature = 0.5, s->staleness = 0.2;
    rng_seed(&s->rng, 42, RNG_STREAM_LEVELS);
    s->num_envs = 1, s->lifetimes = 1;
    s->specs = &h->spec;
    s->lives = &h->life;
    s->weights = h->weights;
    s->ranks = h->ranks;
    s->buffers = &h->buffer;
    example_buffer(&h->buffer, h->levels);
    return 0;
}

/* Many picks at meta-step 6 from the example buffer (its staleness restored each time): the
 * share of replays is level_replay_prob and each level is replayed with its probability. A
 * replay takes the level's cached A2C return and marks it used now. */
TEST(levels_sampler_draws_follow_the_replay_probability_and_the_distribution)
{
    HandSampler h;
    REQUIRE(hand_sampler(&h, 0.25) == 0);
    const int draws = 40000;
    int replays[3] = {0}, fresh = 0;
    for (int d = 0; d < draws; d++) {
        h.levels[0].last_used = 2, h.levels[1].last_used = 5, h.levels[2].last_used = 0;
        uint64_t level = 0;
        CHECK_INT(level_sampler_pick(&h.s, 0, 0, 1, 6, &level), 1);
        int which = level == 11 ? 0 : level == 22 ? 1 : level == 33 ? 2 : -1;
        if (which < 0) {
            fresh++;
            CHECK(isnan(h.life.a2c));
            continue;
        }
        replays[which]++;
        CHECK_INT(h.levels[which].last_used, 6);
        CHECK(h.life.a2c == h.levels[which].a2c);
    }
    int replayed = replays[0] + replays[1] + replays[2];
    CHECK_INT(replayed + fresh, draws);
    CHECK_NEAR((double)replayed / draws, 0.25, 0.01); /* 4.6 standard errors */
    for (int i = 0; i < 3; i++)
        CHECK_NEAR((double)replays[i] / replayed, example_p[i], 0.02);
    /* An empty buffer: every life takes a fresh level, even at replay probability 1. */
    h.s.replay_prob = 1;
    h.s.buffers[0].count = 0;
    uint64_t a = 0, b = 0;
    CHECK_INT(level_sampler_pick(&h.s, 0, 0, 1, 7, &a), 1);
    CHECK_INT(level_sampler_pick(&h.s, 0, 0, 1, 7, &b), 1);
    CHECK(a != b);
}

TEST(levels_buffer_replaces_the_lowest_score)
{
    Level store[3];
    LevelBuffer b = {0, store};
    Level l1 = {1, 1.0, 0, 0}, l2 = {2, 3.0, 0, 0}, l3 = {3, 2.0, 0, 0};
    CHECK_INT(level_buffer_add(&b, 3, &l1), 0);
    CHECK_INT(level_buffer_add(&b, 3, &l2), 1);
    CHECK_INT(level_buffer_add(&b, 3, &l3), 2);
    CHECK_NEAR(level_buffer_mean_score(&b), 2.0, 1e-15);
    Level low = {4, 0.5, 0, 0}, tie = {5, 1.0, 0, 0}, high = {6, 2.5, 0, 9};
    CHECK_INT(level_buffer_add(&b, 3, &low), -1);  /* below the lowest: not kept */
    CHECK_INT(level_buffer_add(&b, 3, &tie), -1);  /* no higher than the lowest: not kept */
    CHECK_INT(level_buffer_add(&b, 3, &high), 0);  /* replaces level 1, the lowest */
    CHECK_INT(b.count, 3);
    CHECK_INT(store[0].seed, 6);
    CHECK_INT(store[0].last_used, 9);
    Level again = {2, -4.0, 1.25, 10};             /* a held level takes its new score */
    CHECK_INT(level_buffer_add(&b, 3, &again), 1);
    CHECK_NEAR(store[1].score, -4.0, 0);
    CHECK_NEAR(store[1].a2c, 1.25, 0);
    Level next = {7, -3.0, 0, 0};                  /* now level 2 is the lowest */
    CHECK_INT(level_buffer_add(&b, 3, &next), 1);
    CHECK_INT(store[1].seed, 7);
}

/* The sampler of meta_levels.json, set up as meta-training sets it up. */
typedef struct {
    MetaConfig config;
    EnvSpec specs[3];
    LevelSampler s;
} RealSampler;

static int real_sampler(RealSampler *r)
{
    memset(r, 0, sizeof *r);
    if (meta_config_load(&r->config, LEVELS, 0, NULL))
        return -1;
    int updates[3] = {6, 6, 6};
    for (int e = 0; e < 3; e++)
        if (env_load(r->config.envs.item[e], &r->specs[e]))
            return -1;
    return level_sampler_init(&r->s, &r->config, LEVELS, r->specs, 3, updates);
}

/* A fresh level's A2C return is computed once, at the end of its (reporting) lifetime, and is
 * the one level_a2c_return gives; a replay of the level reuses it; a lifetime that does not
 * report, or runs a non-procedural environment, gets none. */
TEST(levels_a2c_is_computed_once_per_level)
{
    RealSampler r;
    REQUIRE(real_sampler(&r) == 0);
    LevelSampler *s = &r.s;
    s->replay_prob = 0;
    uint64_t level = 0, other = 0;
    CHECK_INT(level_sampler_pick(s, 0, 2, 1, 0, &level), 0); /* tabular_sparse: no level */
    CHECK_INT(level_sampler_pick(s, 0, 0, 1, 0, &level), 1);
    CHECK_INT(level_sampler_pick(s, 1, 0, 0, 0, &other), 1); /* does not report */
    level_sampler_after_window(s, 0, 0);                     /* not finished: no A2C yet */
    CHECK(isnan(level_sampler_life_a2c(s, 0)));
    level_sampler_after_window(s, 0, 1);
    level_sampler_after_window(s, 1, 1);
    double direct;
    CHECK_INT(level_a2c_return(&s->a2c_tabular, &r.specs[0], level, r.config.copies,
                               r.config.unroll, 6, &direct), 0);
    CHECK(isfinite(direct));
    CHECK(level_sampler_life_a2c(s, 0) == direct);
    CHECK(isnan(level_sampler_life_a2c(s, 1)));
    CHECK_INT(level_sampler_finish(s, 0, 0.25, 3), 0);
    CHECK_INT(level_sampler_finish(s, 1, 0.25, 3), 0);
    CHECK_INT(s->a2c_runs, 1);
    REQUIRE(s->buffers[0].count == 1);
    CHECK_NEAR(s->buffers[0].levels[0].score, direct - 0.25, 0);
    CHECK_INT(s->buffers[0].levels[0].last_used, 3);
    s->replay_prob = 1; /* the level comes back with its A2C return */
    uint64_t replayed = 0;
    CHECK_INT(level_sampler_pick(s, 2, 0, 1, 5, &replayed), 1);
    CHECK(replayed == level);
    CHECK(level_sampler_life_a2c(s, 2) == direct);
    level_sampler_after_window(s, 2, 1);
    CHECK_INT(level_sampler_finish(s, 2, -1.0, 9), 0);
    CHECK_INT(s->a2c_runs, 1);
    CHECK_INT(s->buffers[0].count, 1);
    CHECK_NEAR(s->buffers[0].levels[0].score, direct + 1.0, 0);
    CHECK_INT(s->buffers[0].levels[0].last_used, 9);
    level_sampler_free(s);
}

/* The run's level buffers as text. */
static void buffers_text(const MetaRun *run, char *text, size_t size)
{
    size_t at = 0;
    text[0] = '\0';
    for (int e = 0; e < run->num_envs; e++)
        for (int j = 0; run->levels.buffers && j < run->levels.buffers[e].count; j++) {
            const Level *l = &run->levels.buffers[e].levels[j];
            at += (size_t)snprintf(text + at, size - at, "%d:%llu:%.17g:%.17g:%lld ", e,
                                   (unsigned long long)l->seed, l->score, l->a2c,
                                   (long long)l->last_used);
        }
}

/* Runs steps meta-steps of meta_levels.json from a fresh start with the overrides; fills a
 * copy of η (caller frees) and the sampler's buffers as text; *replays (if not NULL) gets the
 * lifetimes that replayed a level. */
static real *levels_run(int steps, int noverrides, char **over, char *buffers, size_t size,
                        int64_t *replays)
{
    MetaRun run;
    MetaStepStats st;
    if (meta_run_init(&run, LEVELS, noverrides, over)) {
        meta_run_free(&run);
        return NULL;
    }
    for (int s = 0; s < steps; s++)
        if (meta_run_step(&run, &st))
            break;
    real *eta = malloc(run.layout.count * sizeof(real));
    memcpy(eta, run.eta, run.layout.count * sizeof(real));
    buffers_text(&run, buffers, size);
    if (replays)
        *replays = run.levels.replays;
    meta_run_free(&run);
    return eta;
}

/* With "regret": the same η and buffers on 1 and 2 threads, and after a resume at meta-step 9
 * (buffer size 3: levels have been replaced and replayed by then); different from "uniform". */
TEST(levels_meta_train_is_thread_count_free_and_resumes_exactly)
{
    char two[4096] = "", one[4096] = "", resumed[4096] = "", uniform_buffers[4096] = "";
    char *threads1[] = {"threads=1"}, *uniform[] = {"level_sampler=uniform"};
    int64_t replays = 0;
    real *a = levels_run(16, 0, NULL, two, sizeof two, &replays);
    real *b = levels_run(16, 1, threads1, one, sizeof one, NULL);
    real *u = levels_run(16, 1, uniform, uniform_buffers, sizeof uniform_buffers, NULL);
    REQUIRE(a && b && u);
    MetaRun run;
    MetaStepStats st;
    REQUIRE(meta_run_init(&run, LEVELS, 0, NULL) == 0);
    size_t n = run.layout.count;
    for (int s = 0; s < 9; s++)
        CHECK_INT(meta_run_step(&run, &st), 0);
    CHECK_INT(meta_run_save(&run, "build/test_levels_resume.lpg"), 0);
    meta_run_free(&run);
    REQUIRE(meta_run_resume(&run, LEVELS, 0, NULL, "build/test_levels_resume.lpg", 0) == 0);
    for (int s = 9; s < 16; s++)
        CHECK_INT(meta_run_step(&run, &st), 0);
    real *c = malloc(n * sizeof(real));
    memcpy(c, run.eta, n * sizeof(real));
    buffers_text(&run, resumed, sizeof resumed);
    meta_run_free(&run);
    CHECK(memcmp(a, b, n * sizeof(real)) == 0);
    CHECK(memcmp(a, c, n * sizeof(real)) == 0);
    CHECK(memcmp(a, u, n * sizeof(real)) != 0);
    CHECK(strcmp(two, one) == 0);
    CHECK(strcmp(two, resumed) == 0);
    CHECK(replays >= 3);                      /* 6 */
    CHECK(strlen(two) > 0);
    CHECK_INT(uniform_buffers[0], '\0');
    free(a), free(b), free(c), free(u);
}

/* FNV-1a over every section's name and bytes but the config record's (which lists every key,
 * new ones included). */
static uint64_t state_hash(const char *path, unsigned *real_size)
{
    Checkpoint ck;
    if (checkpoint_open(&ck, path))
        return 0;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < ck.num_sections; i++) {
        const CheckpointSection *s = &ck.sections[i];
        if (!strcmp(s->name, "config") || !strcmp(s->name, "effective_config") ||
            !strcmp(s->name, "overrides") || !strcmp(s->name, "provenance"))
            continue;
        size_t elem = s->type == CHECKPOINT_REAL ? ck.real_size : s->type == CHECKPOINT_INT64 ? 8 : 1;
        const unsigned char *bytes = ck.payload + s->offset;
        for (const char *c = s->name; *c; c++)
            h = (h ^ (unsigned char)*c) * 0x100000001b3ULL;
        for (size_t j = 0; j < s->count * elem; j++)
            h = (h ^ bytes[j]) * 0x100000001b3ULL;
    }
    *real_size = ck.real_size;
    checkpoint_close(&ck);
    return h;
}

/* "uniform", the default, is the run of before the sampler: 8 meta-steps of meta_procgrid.json
 * (procedural lifetimes end and start again) write the state the program wrote before it, and
 * write no level sections. The bits depend on the vector kernels (docs/guide.md, "What reproduces
 * where"), so the run is pinned with LPG_CPU=avx2, which any AVX2 machine reproduces; the hash
 * was taken under that pin with commit 67f2a7d's build/lpg, whose unpinned state on an AVX-512
 * Xeon equalled commit 7a025b3's (the sampler's parent). The hash is of the float program's
 * file; a double build (the sanitizer suite) only checks the sections. */
TEST(levels_uniform_is_the_run_of_before_bit_for_bit)
{
    char out[4096];
    const char *dirs[2] = {"build/test_runs/levels_uniform", "build/test_runs/levels_uniform_explicit"};
    for (int k = 0; k < 2; k++) {
        char cmd[512], path[256];
        snprintf(cmd, sizeof cmd, "meta-train tests/configs/meta_procgrid.json meta_steps=8 "
                 "run_dir=%s --overwrite%s", dirs[k], k ? " level_sampler=uniform" : "");
        setenv("LPG_CPU", "avx2", 1);
        int rc = run_lpg(cmd, out, sizeof out);
        unsetenv("LPG_CPU");
        REQUIRE(rc == 0);
        snprintf(path, sizeof path, "%s/checkpoint.lpg", dirs[k]);
        unsigned real_size = 0;
        uint64_t h = state_hash(path, &real_size);
        if (real_size == 4)
            CHECK(h == 0x7dd29ecce76ea137ULL);
        Checkpoint ck;
        REQUIRE(checkpoint_open(&ck, path) == 0);
        CHECK(checkpoint_find(&ck, "levels_rng") == NULL);
        CHECK(checkpoint_find(&ck, "levels_lives") == NULL);
        checkpoint_close(&ck);
    }
}

/* Through the CLI: a regret run writes its level sections, logs the A2C and CPU seconds and the
 * buffers, and prints them; bad keys are refused by file and key. */
TEST(levels_cli_runs_regret_and_refuses_bad_keys)
{
    char out[8192];
    CHECK_INT(run_lpg("meta-train " LEVELS " meta_steps=8 log_every=8 "
                      "run_dir=build/test_runs/levels_cli --overwrite", out, sizeof out), 0);
    CHECK(strstr(out, "levels: procgrid ") != NULL);
    CHECK(strstr(out, "A2C scoring ") != NULL);
    char *log = read_whole_file("build/test_runs/levels_cli/log.jsonl", NULL);
    REQUIRE(log);
    CHECK(strstr(log, "\"a2c_seconds\":") != NULL);
    CHECK(strstr(log, "\"cpu_seconds\":") != NULL);
    CHECK(strstr(log, "\"levels\":{\"procgrid\":") != NULL);
    free(log);
    Checkpoint ck;
    REQUIRE(checkpoint_open(&ck, "build/test_runs/levels_cli/checkpoint.lpg") == 0);
    CHECK(checkpoint_find(&ck, "levels_rng") != NULL);
    CHECK(checkpoint_find(&ck, "levels_count") != NULL);
    CHECK(checkpoint_find(&ck, "levels_lives") != NULL);
    checkpoint_close(&ck);
    static const struct { const char *args, *message; } bad[] = {
        {"level_sampler=best", "command line: key 'level_sampler': expected \"uniform\" or "
                               "\"regret\", got \"best\""},
        {"level_replay_prob=1.5", "key 'level_replay_prob': value 1.5 is out of range [0, 1]"},
        {"level_temperature=0", "key 'level_temperature': value 0 is out of range"},
        {"level_staleness=-0.1", "key 'level_staleness': value -0.1 is out of range [0, 1]"},
        {"level_buffer_size=0", "key 'level_buffer_size': value 0 is out of range"},
        {"level_a2c_random_grid=tests/configs/train_lpg_procgrid.json",
         "key 'level_a2c_random_grid': tests/configs/train_lpg_procgrid.json has method \"lpg\", "
         "not \"a2c\""},
        {"level_a2c_tabular_grid=tests/configs/missing.json", "missing.json"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "meta-train " LEVELS " %s run_dir=build/test_runs/levels_bad "
                 "--overwrite", bad[i].args);
        CHECK(run_lpg(cmd, out, sizeof out) != 0);
        if (!strstr(out, bad[i].message))
            fprintf(stderr, "  expected \"%s\" in: %s\n", bad[i].message, out);
        CHECK(strstr(out, bad[i].message) != NULL);
    }
    /* A procedural environment without its A2C config. */
    CHECK(run_lpg("meta-train tests/configs/meta_procgrid.json level_sampler=regret "
                  "run_dir=build/test_runs/levels_bad --overwrite", out, sizeof out) != 0);
    CHECK(strstr(out, "meta_procgrid.json: key 'level_a2c_tabular_grid': level_sampler "
                      "\"regret\" needs a tuned A2C config") != NULL);
}

/* A damaged level section is refused by name; a checkpoint of a uniform run resumes under
 * "regret" only with allow_changes, and then starts with empty buffers. */
TEST(levels_checkpoint_sections_are_checked)
{
    const char *path = "build/test_levels_sections.lpg", *bad = "build/test_levels_bad.lpg";
    MetaRun run;
    MetaStepStats st;
    REQUIRE(meta_run_init(&run, LEVELS, 0, NULL) == 0);
    for (int s = 0; s < 9; s++)
        CHECK_INT(meta_run_step(&run, &st), 0);
    CHECK_INT(meta_run_save(&run, path), 0);
    meta_run_free(&run);
    char *small[] = {"level_buffer_size=1"};
    mute_stderr();
    int rc = meta_run_resume(&run, LEVELS, 1, small, path, 1); /* buffers hold more than 1 */
    unmute_stderr();
    CHECK_INT(rc, -1);
    meta_run_free(&run);
    /* Rewrite the file with a level count out of range. */
    Checkpoint ck;
    REQUIRE(checkpoint_open(&ck, path) == 0);
    CheckpointWriter w;
    checkpoint_writer_init(&w);
    for (int i = 0; i < ck.num_sections; i++) {
        const CheckpointSection *s = &ck.sections[i];
        const unsigned char *bytes = ck.payload + s->offset;
        if (!strcmp(s->name, "levels_count")) {
            int64_t counts[3] = {5, 0, 0};
            checkpoint_add_int64(&w, s->name, counts, 3);
        } else if (s->type == CHECKPOINT_INT64) {
            checkpoint_add_int64(&w, s->name, (const int64_t *)(const void *)bytes, s->count);
        } else if (s->type == CHECKPOINT_REAL) {
            real *values = malloc(s->count * sizeof(real) + 1);
            checkpoint_get_real(&ck, s->name, values, s->count);
            checkpoint_add_real(&w, s->name, values, s->count);
            free(values);
        } else if (s->type == CHECKPOINT_TEXT) {
            char *text = checkpoint_get_text(&ck, s->name);
            checkpoint_add_text(&w, s->name, text);
            free(text);
        } else {
            checkpoint_add_bytes(&w, s->name, bytes, s->count);
        }
    }
    checkpoint_close(&ck);
    REQUIRE(checkpoint_write(&w, bad) == 0);
    checkpoint_writer_free(&w);
    mute_stderr();
    rc = meta_run_resume(&run, LEVELS, 0, NULL, bad, 0);
    unmute_stderr();
    CHECK_INT(rc, -1);
    meta_run_free(&run);
    /* uniform -> regret: refused as a changed key, allowed with allow_changes. */
    char *uniform[] = {"level_sampler=uniform"};
    REQUIRE(meta_run_init(&run, LEVELS, 1, uniform) == 0);
    for (int s = 0; s < 3; s++)
        CHECK_INT(meta_run_step(&run, &st), 0);
    CHECK_INT(meta_run_save(&run, path), 0);
    meta_run_free(&run);
    mute_stderr();
    rc = meta_run_resume(&run, LEVELS, 0, NULL, path, 0);
    unmute_stderr();
    CHECK_INT(rc, -1);
    meta_run_free(&run);
    mute_stderr();
    rc = meta_run_resume(&run, LEVELS, 0, NULL, path, 1);
    unmute_stderr();
    REQUIRE(rc == 0);
    CHECK_INT(run.levels.buffers[0].count, 0);
    for (int s = 0; s < 4; s++)
        CHECK_INT(meta_run_step(&run, &st), 0);
    meta_run_free(&run);
}
