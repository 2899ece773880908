/* test_crafted.c: checkpoints and rule files whose framing is valid (magic, sizes, CRC) but
 * whose contents are wrong are refused before use, by name of file and section: positions,
 * observation indices, object masks, counts, steps and parameters. Each case here crashed or
 * was silently accepted before the contents were validated. Also: files of the other precision
 * load, converted. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "env_state.h"
#include "checkpoint.h"
#include "../src/env/env_minatar.h"
#include "meta_train.h"
#include "rule_file.h"
#include "test.h"

#define TINY "tests/configs/meta_tiny.json"
#define CRAFTED "build/test_crafted.lpg"
#define CAPTURE "build/test_crafted_stderr.txt"

/* Enough lifetimes that every environment kind of TINY has one (checked by has_every_kind). */
static char *overrides[] = {"lifetimes=9"};
#define NOVERRIDES 1

/* Sends stderr to the file CAPTURE; returns the saved descriptor for capture_end. */
static int capture_begin(void)
{
    fflush(stderr);
    int saved = dup(2), fd = open(CAPTURE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, 2);
        close(fd);
    }
    return saved;
}

/* Restores stderr and copies what was captured into msg. */
static void capture_end(int saved, char *msg, size_t msgsize)
{
    fflush(stderr);
    if (saved >= 0) {
        dup2(saved, 2);
        close(saved);
    }
    char *text = read_whole_file(CAPTURE, NULL);
    snprintf(msg, msgsize, "%s", text ? text : "");
    free(text);
}

/* Runs meta_run_resume on path with stderr captured into msg; returns its result. */
static int resume_capturing(const char *path, char *msg, size_t msgsize)
{
    int saved = capture_begin();
    MetaRun run;
    int rc = meta_run_resume(&run, TINY, NOVERRIDES, overrides, path, 0);
    meta_run_free(&run);
    capture_end(saved, msg, msgsize);
    return rc;
}

/* The first lifetime of run whose environment has this kind, or -1. */
static int life_of_kind(const MetaRun *run, EnvKind kind)
{
    for (int i = 0; i < run->config.lifetimes; i++)
        if (run->lives[i].spec->kind == kind)
            return i;
    return -1;
}

static int has_every_kind(const MetaRun *run)
{
    return life_of_kind(run, ENV_TABULAR_GRID) >= 0 && life_of_kind(run, ENV_RANDOM_GRID) >= 0 &&
           life_of_kind(run, ENV_CHAIN) >= 0;
}

typedef void (*Damage)(MetaRun *run);

/* Starts the tiny run, takes one meta-step, damages its state, saves it, and expects resume to
 * refuse the file with a message containing `expect`. Returns 1 when it did. */
static int refused_after(Damage damage, const char *expect)
{
    MetaRun run;
    MetaStepStats st;
    if (meta_run_init(&run, TINY, NOVERRIDES, overrides) || meta_run_step(&run, &st) ||
        !has_every_kind(&run)) {
        fprintf(stderr, "  the tiny run did not start with every environment kind\n");
        meta_run_free(&run);
        return 0;
    }
    damage(&run);
    int saved = meta_run_save(&run, CRAFTED);
    meta_run_free(&run);
    if (saved)
        return 0;
    char msg[2048];
    int rc = resume_capturing(CRAFTED, msg, sizeof msg);
    int ok = rc == -1 && strstr(msg, CRAFTED) && strstr(msg, expect);
    if (!ok)
        fprintf(stderr, "  resume gave %d, message '%s', expected '%s'\n", rc, msg, expect);
    return ok;
}

static EnvBatch *env_of(MetaRun *run, EnvKind kind)
{
    int i = life_of_kind(run, kind);
    return i >= 0 ? &run->lives[i].env : NULL;
}

static void tabular_cell_far(MetaRun *run) { env_of(run, ENV_TABULAR_GRID)->agent_cell[0] = 100000; }
static void tabular_index_far(MetaRun *run) { env_of(run, ENV_TABULAR_GRID)->obs_index[1] = 1 << 30; }
static void tabular_mask(MetaRun *run) { env_of(run, ENV_TABULAR_GRID)->present[0] |= 1u << 31; }
static void random_cell_negative(MetaRun *run) { env_of(run, ENV_RANDOM_GRID)->agent_cell[0] = -7; }
static void random_object_far(MetaRun *run)
{
    EnvBatch *b = env_of(run, ENV_RANDOM_GRID);
    b->object_cell[0] = 5000;
}
static void random_map_entry(MetaRun *run)
{
    EnvBatch *b = env_of(run, ENV_RANDOM_GRID);
    int cells = b->spec->width * b->spec->height;
    for (int c = 0; c < cells; c++)
        if (b->cell_object[c] < 0 && c != b->agent_cell[0] && !b->spec->wall[c]) {
            b->cell_object[c] = 100;
            return;
        }
}
static void random_obs(MetaRun *run)
{
    EnvBatch *b = env_of(run, ENV_RANDOM_GRID);
    b->obs[3] = b->obs[3] == 0 ? 1 : 0;
}
static void chain_position(MetaRun *run) { env_of(run, ENV_CHAIN)->agent_cell[2] = 999; }
static void chain_length(MetaRun *run) { env_of(run, ENV_CHAIN)->chain_length = 1000000; }
static void steps_negative(MetaRun *run) { env_of(run, ENV_CHAIN)->steps[0] = -1; }
static void reward_nan(MetaRun *run) { env_of(run, ENV_TABULAR_GRID)->reward[0] = (real)NAN; }
static void final_count_negative(MetaRun *run) { run->final_count[0] = -3; }
static void final_count_stray(MetaRun *run) { run->final_count[CONFIG_LIST_MAX - 1] = 1; }
static void step_negative(MetaRun *run) { run->step = -5; }
static void step_huge(MetaRun *run) { run->step = (int64_t)1 << 62; }
static void finished_negative(MetaRun *run) { run->lifetimes_finished = -1; }
static void adam_behind(MetaRun *run) { run->adam.step = 7; }
static void eta_huge(MetaRun *run) { run->eta[5] = (real)1e30; }
static void theta_nan(MetaRun *run) { window_theta(&run->lives[0].window, 0)[0] = (real)NAN; }
static void life_arm(MetaRun *run) { run->lives[1].arm = 1000; }
static void life_updates(MetaRun *run) { run->lives[0].updates = -4; }
static void life_final_sum(MetaRun *run) { run->lives[2].final_sum = NAN; }
static void life_rng(MetaRun *run) { run->lives[1].rng.inc = 2; }
static void run_rng(MetaRun *run) { run->rng.inc = 0; }

TEST(crafted_checkpoint_env_states_are_refused)
{
    CHECK(refused_after(tabular_cell_far, "copy 0: the agent is not on an open cell"));
    CHECK(refused_after(tabular_index_far, "copy 1: the observation index does not match"));
    CHECK(refused_after(tabular_mask, "object mask names objects the environment lacks"));
    CHECK(refused_after(random_cell_negative, "copy 0: the agent is not on an open cell"));
    CHECK(refused_after(random_object_far, "an object lies outside the grid"));
    CHECK(refused_after(random_map_entry, "the object map holds an invalid entry"));
    CHECK(refused_after(random_obs, "the observation does not match the grid"));
    CHECK(refused_after(chain_position, "copy 2: the position is outside the chain"));
    CHECK(refused_after(chain_length, "chain length 1000000"));
    CHECK(refused_after(steps_negative, "the step count is outside [0, max_steps)"));
    CHECK(refused_after(reward_nan, "a reward is not finite"));
}

TEST(crafted_checkpoint_counters_and_parameters_are_refused)
{
    CHECK(refused_after(final_count_negative, "section 'final_count': environment 0 has -3"));
    CHECK(refused_after(final_count_stray, "environment 63 has 1 final returns"));
    CHECK(refused_after(step_negative, "section 'step': -5 is out of range [0, 100000000]"));
    CHECK(refused_after(step_huge, "section 'step': 4611686018427387904 is out of range"));
    CHECK(refused_after(finished_negative, "section 'lifetimes_finished': -1 is out of range"));
    CHECK(refused_after(adam_behind, "section 'adam_step' is 7 but section 'step' is 1"));
    CHECK(refused_after(eta_huge, "section 'eta': element 5 is 1e+30, outside [-1000, 1000]"));
    CHECK(refused_after(theta_nan, "section 'life0_theta': element 0 is not finite"));
    CHECK(refused_after(life_arm, "section 'lives': lifetime 1: bandit arm out of range"));
    CHECK(refused_after(life_updates, "section life0_counters: values out of range"));
    CHECK(refused_after(life_final_sum, "section life2_final_sum: not finite"));
    CHECK(refused_after(life_rng, "section life1_rng: the stream selector is even"));
    CHECK(refused_after(run_rng, "section 'rng': the stream selector is even"));
}

/* The product binary refuses the same files with exit 1 and the message (it used to crash or
 * carry on): here a checkpoint whose tabular agent stands outside the grid, and η of 1e300 in
 * a rule for `info`, `train` and `eval`. */
TEST(crafted_files_are_refused_by_the_commands)
{
    MetaRun run;
    MetaStepStats st;
    CHECK_INT(meta_run_init(&run, TINY, NOVERRIDES, overrides), 0);
    CHECK_INT(meta_run_step(&run, &st), 0);
    CHECK(has_every_kind(&run));
    if (has_every_kind(&run))
        env_of(&run, ENV_TABULAR_GRID)->agent_cell[0] = 100000;
    system("mkdir -p build/test_runs/crafted");
    CHECK_INT(meta_run_save(&run, "build/test_runs/crafted/checkpoint.lpg"), 0);
    meta_run_free(&run);
    char out[8192];
    CHECK_INT(run_lpg("meta-train " TINY " lifetimes=9 run_dir=build/test_runs/crafted --resume",
                      out, sizeof out), 1);
    CHECK(strstr(out, "build/test_runs/crafted/checkpoint.lpg: section 'life") != NULL);
    CHECK(strstr(out, "the agent is not on an open cell") != NULL);
}

/* Writes a rule of width 8 whose eta[5] is value, in this build's precision. */
static int write_rule_with(const char *path, double value)
{
    RuleLayout layout;
    rule_layout(&layout, 8);
    real *eta = calloc(layout.count, sizeof(real));
    if (!eta)
        return -1;
    eta[5] = (real)value;
    int rc = write_rule_file_width8(path, eta);
    free(eta);
    return rc;
}

TEST(rule_files_with_huge_eta_are_refused_by_info_train_and_eval)
{
    const char *rule = "build/test_crafted_rule.lpg";
    CHECK_INT(write_rule_with(rule, 1e30), 0);
    RuleLayout layout;
    char out[8192];
    CHECK(rule_file_load(rule, &layout) == NULL);
    CHECK_INT(run_lpg("info build/test_crafted_rule.lpg", out, sizeof out), 1);
    CHECK(strstr(out, "section 'eta': element 5 is 1e+30, outside [-1000, 1000]") != NULL);
    CHECK_INT(run_lpg("train tests/configs/train_chain.json method=lpg "
                      "rule=build/test_crafted_rule.lpg", out, sizeof out), 1);
    CHECK(strstr(out, "build/test_crafted_rule.lpg: section 'eta': element 5") != NULL);
    CHECK_INT(run_lpg("eval tests/configs/eval_tiny.json rule=build/test_crafted_rule.lpg", out,
                      sizeof out), 1);
    CHECK(strstr(out, "build/test_crafted_rule.lpg: section 'eta': element 5") != NULL);
    if (sizeof(real) == 8) { /* 1e300 does not even fit the float build */
        CHECK_INT(write_rule_with(rule, 1e300), 0);
        CHECK(rule_file_load(rule, &layout) == NULL);
        CHECK_INT(run_lpg("info build/test_crafted_rule.lpg", out, sizeof out), 1);
        CHECK(strstr(out, "section 'eta': element 5 is") != NULL);
    }
}

/* Rewrites the file at src into dst with every real section in the other precision. */
static int convert_precision(const char *src, const char *dst)
{
    Checkpoint ck;
    if (checkpoint_open(&ck, src))
        return -1;
    unsigned to = ck.real_size == 4 ? 8 : 4;
    unsigned char *out = malloc(ck.payload_len * 2 + 16);
    size_t len = 0;
    for (int i = 0; out && i < ck.num_sections; i++) {
        const CheckpointSection *s = &ck.sections[i];
        size_t name_len = strlen(s->name), elem = s->type == CHECKPOINT_REAL ? to
                                                 : s->type == CHECKPOINT_INT64 ? 8 : 1;
        uint32_t n32 = (uint32_t)name_len, type = (uint32_t)s->type;
        uint64_t count = s->count;
        memcpy(out + len, &n32, 4), len += 4;
        memcpy(out + len, s->name, name_len), len += name_len;
        memcpy(out + len, &type, 4), len += 4;
        memcpy(out + len, &count, 8), len += 8;
        const unsigned char *p = ck.payload + s->offset;
        for (size_t k = 0; k < s->count; k++) {
            if (s->type != CHECKPOINT_REAL) {
                memcpy(out + len, p + k * elem, elem);
            } else if (to == 4) {
                double d;
                memcpy(&d, p + 8 * k, 8);
                float f = (float)d;
                memcpy(out + len, &f, 4);
            } else {
                float f;
                memcpy(&f, p + 4 * k, 4);
                double d = f;
                memcpy(out + len, &d, 8);
            }
            len += elem;
        }
    }
    int rc = out ? checkpoint_write_payload(out, len, to, dst) : -1;
    free(out);
    checkpoint_close(&ck);
    return rc;
}

/* A rule written by the other build loads here (converted) and in the product binary. */
TEST(rule_files_load_in_either_precision)
{
    const char *mine = "build/test_crafted_mine.lpg", *other = "build/test_crafted_other.lpg";
    MetaRun run;
    CHECK_INT(meta_run_init(&run, TINY, 0, NULL), 0);
    CHECK_INT(meta_run_save_rule(&run, mine), 0);
    CHECK_INT(convert_precision(mine, other), 0);
    RuleLayout layout;
    real *eta = rule_file_load(other, &layout);
    CHECK(eta != NULL);
    if (eta) {
        CHECK_INT(layout.count, run.layout.count);
        double worst = 0;
        for (size_t i = 0; i < layout.count; i++) {
            double d = fabs((double)eta[i] - (double)run.eta[i]);
            worst = d > worst ? d : worst;
        }
        CHECK(worst <= 1e-6); /* float rounding of values below 1 */
    }
    free(eta);
    meta_run_free(&run);
    char out[8192];
    CHECK_INT(run_lpg("info build/test_crafted_other.lpg", out, sizeof out), 0);
    CHECK(strstr(out, sizeof(real) == 8 ? "precision: float (4-byte reals)"
                                        : "precision: double (8-byte reals)") != NULL);
    CHECK_INT(run_lpg("info build/test_crafted_mine.lpg", out, sizeof out), 0);
    CHECK(strstr(out, sizeof(real) == 8 ? "precision: double (8-byte reals)"
                                        : "precision: float (4-byte reals)") != NULL);
}

/* Saves batch a and loads it into r; returns the load's result with stderr in msg. */
static int roundtrip(EnvBatch *a, EnvBatch *r, char *msg, size_t msgsize)
{
    const char *path = "build/test_crafted_env.ckpt";
    CheckpointWriter w;
    checkpoint_writer_init(&w);
    int rc = env_batch_save_state(a, &w, "env") || checkpoint_write(&w, path);
    checkpoint_writer_free(&w);
    if (rc)
        return -100;
    Checkpoint ck;
    if (checkpoint_open(&ck, path))
        return -100;
    int saved = capture_begin();
    rc = env_batch_load_state(r, &ck, "env");
    capture_end(saved, msg, msgsize);
    checkpoint_close(&ck);
    return rc;
}

/* Every MinAtar game: the states of a long run all pass the checks (no false refusals), and a
 * position moved off the board, a bad count or a tampered observation is refused. */
TEST(crafted_minatar_states_are_refused_and_real_ones_pass)
{
    static const char *const games[] = {"breakout", "asterix", "freeway", "seaquest",
                                        "space_invaders"};
    char path[128], msg[2048];
    for (int g = 0; g < 5; g++) {
        snprintf(path, sizeof path, "configs/envs/minatar/%s.json", games[g]);
        EnvSpec spec;
        EnvBatch a, r;
        if (env_load(path, &spec) || env_batch_init(&a, &spec, 4, 7 + g) ||
            env_batch_init(&r, &spec, 4, 99)) {
            CHECK(0);
            return;
        }
        Rng rng;
        rng_seed(&rng, 11, (uint64_t)g);
        int bad = 0;
        for (int t = 1; t <= 3000; t++) {
            int32_t actions[4];
            for (int i = 0; i < 4; i++)
                actions[i] = (int32_t)rng_below(&rng, 6);
            env_batch_step(&a, actions);
            if (t % 100 == 0 && roundtrip(&a, &r, msg, sizeof msg) != 0 && !bad++)
                fprintf(stderr, "  %s step %d refused: %s", games[g], t, msg);
        }
        CHECK_INT(bad, 0);
        MinatarCopy *c = minatar_copies(&a) + 1;
        MinatarCopy keep = *c;
        switch (g) {
        case 0: c->g.breakout.ball_x = 100; break;
        case 1: c->g.asterix.y = 0; break;
        case 2: c->g.freeway.car_speed[3] = 9; break;
        case 3: c->g.seaquest.num_enemy_shots = 100; break;
        case 4: c->g.space_invaders.alien_dir = 0; break;
        }
        CHECK_INT(roundtrip(&a, &r, msg, sizeof msg), -1);
        CHECK(strstr(msg, "copy 1: ") && strstr(msg, games[g]));
        *c = keep;
        c->last_action = 6;
        CHECK_INT(roundtrip(&a, &r, msg, sizeof msg), -1);
        CHECK(strstr(msg, "copy 1: the sticky action is not an action") != NULL);
        *c = keep;
        a.obs[(size_t)spec.obs_dim + 55] = a.obs[(size_t)spec.obs_dim + 55] == 0 ? 1 : 0;
        CHECK_INT(roundtrip(&a, &r, msg, sizeof msg), -1);
        CHECK(strstr(msg, "copy 1: the observation does not match the game state") != NULL);
        env_batch_free(&a);
        env_batch_free(&r);
    }
}
