/* test_env_procgrid.c: procedural grid worlds (env_procgrid.c): every drawn layout keeps its
 * values in their ranges and every free cell reachable; the same seed draws the same layout and
 * different seeds different ones; batches run the drawn layout within the padded sizes and
 * restore it from a checkpoint; meta-training mixes them with fixed grids and resumes exactly;
 * malformed ranges are errors naming the file and the key. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "env.h"
#include "env_state.h"
#include "meta_train.h"
#include "test.h"

#define PROCGRID "configs/envs/procgrid.json"
#define DRAWS 300

/* Open cells reachable from the first open one by 4-neighbour moves, counted independently of
 * the library. */
static int count_reachable(const EnvSpec *s)
{
    int cells = s->width * s->height;
    int seen[ENV_MAX_CELLS] = {0}, stack[ENV_MAX_CELLS], top = 0, count = 0;
    for (int c = 0; c < cells && !top; c++)
        if (!s->wall[c])
            stack[top++] = c, seen[c] = 1;
    while (top) {
        int c = stack[--top], x = c % s->width, y = c / s->width;
        count++;
        for (int d = 0; d < 4; d++) {
            int nx = x + (d == 1) - (d == 3), ny = y + (d == 2) - (d == 0);
            int n = ny * s->width + nx;
            if (nx >= 0 && nx < s->width && ny >= 0 && ny < s->height && !s->wall[n] && !seen[n])
                seen[n] = 1, stack[top++] = n;
        }
    }
    return count;
}

static int count_walls(const EnvSpec *s)
{
    int walls = 0;
    for (int c = 0; c < ENV_MAX_CELLS; c++)
        walls += s->wall[c];
    return walls;
}

/* Checks one layout of configs/envs/procgrid.json (the default ranges); returns its walls. */
static int check_layout(const EnvSpec *family, const EnvSpec *s)
{
    CHECK_INT(s->kind, ENV_TABULAR_GRID);
    CHECK(strcmp(s->name, family->name) == 0 && s->gamma == family->gamma);
    CHECK(s->width >= 4 && s->width <= 10 && s->height >= 4 && s->height <= 10);
    CHECK(s->num_types >= 1 && s->num_types <= 5 && s->num_objects == s->num_types);
    CHECK(s->max_steps >= 20 && s->max_steps <= 750);
    CHECK_INT(s->num_states, 3200); /* padded: 10 x 10 cells x 2^5 */
    CHECK_INT(s->num_actions, 9);
    for (int t = 0; t < s->num_types; t++) {
        const ObjectType *type = &s->type[t];
        CHECK(type->reward >= (t == 0 ? 0 : -1) && type->reward <= 1);
        CHECK(type->p_end >= 0.01 && type->p_end <= 1);
        CHECK(type->p_respawn >= 0.001 && type->p_respawn <= 0.1);
    }
    int cells = s->width * s->height, walls = count_walls(s);
    CHECK(walls <= 15);
    CHECK_INT(count_reachable(s), cells - walls); /* every free cell reachable */
    for (int j = 0; j < s->num_objects; j++) {
        int c = s->object_cell[j];
        CHECK(c >= 0 && c < cells && !s->wall[c] && c != s->start_cell);
        CHECK_INT(s->object_type[j], j);
        for (int k = 0; k < j; k++)
            CHECK(s->object_cell[k] != c);
    }
    CHECK(s->start_cell >= 0 && s->start_cell < cells && !s->wall[s->start_cell]);
    return walls;
}

TEST(procgrid_draws_stay_in_their_ranges_and_connected)
{
    EnvSpec family, layout;
    CHECK_INT(env_load(PROCGRID, &family), 0);
    CHECK_INT(family.kind, ENV_PROCEDURAL_GRID);
    int widths[11] = {0}, types[6] = {0}, walled = 0, most_walls = 0, short_limit = 0;
    int long_limit = 0, negative = 0;
    for (uint64_t seed = 0; seed < DRAWS; seed++) {
        env_draw_layout(&family, seed, &layout);
        int walls = check_layout(&family, &layout);
        widths[layout.width]++;
        types[layout.num_types]++;
        walled += walls > 0;
        most_walls = walls > most_walls ? walls : most_walls;
        short_limit += layout.max_steps < 60;
        long_limit += layout.max_steps > 300;
        for (int t = 1; t < layout.num_types; t++)
            negative += layout.type[t].reward < 0;
    }
    /* The draws cover the ranges: every width and type count, walls, short and long limits
     * (log-uniform: about 30% below 60, 22% above 300), negative rewards after the first. */
    for (int w = 4; w <= 10; w++)
        CHECK(widths[w] > DRAWS / 7 / 2);
    for (int t = 1; t <= 5; t++)
        CHECK(types[t] > DRAWS / 5 / 2);
    CHECK(walled > DRAWS * 9 / 10 && most_walls >= 12);
    CHECK(short_limit > DRAWS / 6 && long_limit > DRAWS / 8);
    CHECK(negative > 0);
}

TEST(procgrid_same_seed_same_layout_other_seed_other_layout)
{
    EnvSpec family, a, b;
    CHECK_INT(env_load(PROCGRID, &family), 0);
    env_draw_layout(&family, 42, &a);
    env_draw_layout(&family, 42, &b);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    /* 100 seeds: all layouts differ (walls, sizes, rewards, places). */
    static EnvSpec many[100];
    int same = 0;
    for (int i = 0; i < 100; i++) {
        env_draw_layout(&family, (uint64_t)i, &many[i]);
        for (int j = 0; j < i; j++)
            same += memcmp(&many[i], &many[j], sizeof many[i]) == 0;
    }
    CHECK_INT(same, 0);
    /* A batch draws from its own seed: the same seed, the same layout. */
    EnvBatch x, y, z;
    CHECK_INT(env_batch_init(&x, &family, 2, 7), 0);
    CHECK_INT(env_batch_init(&y, &family, 2, 7), 0);
    CHECK_INT(env_batch_init(&z, &family, 2, 8), 0);
    CHECK(x.spec == x.layout && x.family == &family && x.layout_seed == 7);
    CHECK(memcmp(x.layout, y.layout, sizeof *x.layout) == 0);
    CHECK(memcmp(x.layout, z.layout, sizeof *x.layout) != 0);
    env_batch_free(&x), env_batch_free(&y), env_batch_free(&z);
}

TEST(procgrid_fixed_ranges_give_that_grid)
{
    EnvSpec family, s;
    CHECK_INT(env_load("tests/configs/procgrid_fixed.json", &family), 0);
    CHECK_INT(family.num_states, 5 * 6 * 4);
    CHECK_INT(family.num_actions, 4);
    CHECK_INT(family.max_steps, 40);
    for (uint64_t seed = 0; seed < 20; seed++) {
        env_draw_layout(&family, seed, &s);
        CHECK(s.width == 5 && s.height == 6 && s.num_types == 2 && s.max_steps == 40);
        CHECK(count_walls(&s) == 0 && s.moves == 4 && s.gamma == 0.9);
        CHECK(s.type[0].reward == 0.5 && s.type[1].p_end == 1 && s.type[1].p_respawn == 0.05);
    }
    /* The random-object variant pads its planes: (5 types + agent) x 10 x 10. */
    CHECK_INT(env_load("configs/envs/procgrid_random.json", &family), 0);
    CHECK_INT(family.kind, ENV_PROCEDURAL_RANDOM_GRID);
    CHECK_INT(family.obs_dim, 6 * 100);
    CHECK_INT(family.num_states, 0);
    env_draw_layout(&family, 3, &s);
    CHECK_INT(s.kind, ENV_RANDOM_GRID);
    CHECK_INT(s.obs_dim, 600);
    CHECK_INT(s.object_cell[0], -1); /* placed every episode */
}

/* Steps both batches with the same actions; returns 1 when they stay identical. */
static int step_alike(EnvBatch *a, EnvBatch *b, int steps, uint64_t seed)
{
    Rng rng;
    rng_seed(&rng, seed, 1);
    int32_t actions[4];
    int same = 1;
    for (int t = 0; t < steps; t++) {
        for (int i = 0; i < a->n; i++)
            actions[i] = (int32_t)rng_below(&rng, (uint32_t)a->spec->num_actions);
        env_batch_step(a, actions);
        env_batch_step(b, actions);
        for (int i = 0; i < a->n; i++) {
            same &= a->reward[i] == b->reward[i] && a->done[i] == b->done[i];
            if (a->obs_index)
                same &= a->obs_index[i] == b->obs_index[i];
        }
        if (a->obs)
            same &= memcmp(a->obs, b->obs, (size_t)a->n * a->spec->obs_dim * sizeof(real)) == 0;
    }
    return same;
}

/* Saves batch a (after some steps) and restores it into a batch drawn for another seed. */
static void check_restore(const char *env_path)
{
    EnvSpec family;
    CHECK_INT(env_load(env_path, &family), 0);
    EnvBatch a, b;
    CHECK_INT(env_batch_init(&a, &family, 4, 11), 0);
    CHECK_INT(env_batch_init(&b, &family, 4, 12), 0);
    CHECK(memcmp(a.layout, b.layout, sizeof *a.layout) != 0);
    Rng rng;
    rng_seed(&rng, 5, 2);
    for (int t = 0; t < 50; t++) {
        int32_t actions[4];
        for (int i = 0; i < 4; i++)
            actions[i] = (int32_t)rng_below(&rng, (uint32_t)a.spec->num_actions);
        env_batch_step(&a, actions);
    }
    CheckpointWriter w;
    checkpoint_writer_init(&w);
    CHECK_INT(env_batch_save_state(&a, &w, "life0_env"), 0);
    CHECK_INT(checkpoint_write(&w, "build/test_procgrid_state.lpg"), 0);
    checkpoint_writer_free(&w);
    Checkpoint ck;
    CHECK_INT(checkpoint_open(&ck, "build/test_procgrid_state.lpg"), 0);
    CHECK(checkpoint_find(&ck, "life0_env_layout") != NULL);
    CHECK_INT(env_batch_load_state(&b, &ck, "life0_env"), 0);
    checkpoint_close(&ck);
    CHECK(b.layout_seed == 11 && b.family == &family && b.spec == b.layout);
    CHECK(memcmp(a.layout, b.layout, sizeof *a.layout) == 0);
    CHECK(a.episodes_done == b.episodes_done && a.returns_done_sum == b.returns_done_sum);
    CHECK(memcmp(a.agent_cell, b.agent_cell, 4 * sizeof *a.agent_cell) == 0);
    CHECK(step_alike(&a, &b, 200, 9));
    env_batch_free(&a), env_batch_free(&b);
}

TEST(procgrid_batches_run_the_layout_and_restore_it)
{
    check_restore(PROCGRID);
    check_restore("configs/envs/procgrid_random.json");
    /* Observations stay inside the padded sizes over many layouts and steps. */
    EnvSpec family;
    CHECK_INT(env_load(PROCGRID, &family), 0);
    int inside = 1;
    for (uint64_t seed = 0; seed < 20; seed++) {
        EnvBatch b;
        CHECK_INT(env_batch_init(&b, &family, 4, seed), 0);
        int32_t actions[4] = {0, 1, 4, 8};
        for (int t = 0; t < 200; t++) {
            env_batch_step(&b, actions);
            for (int i = 0; i < 4; i++)
                inside &= b.obs_index[i] >= 0 && b.obs_index[i] < family.num_states;
            actions[t % 4] = (actions[t % 4] + 3) % 9;
        }
        env_batch_free(&b);
    }
    CHECK(inside);
}

TEST(procgrid_meta_training_mixes_and_resumes_exactly)
{
    const char *cfg = "tests/configs/meta_procgrid.json", *path = "build/test_procgrid.lpg";
    MetaRun run;
    MetaStepStats st;
    CHECK_INT(meta_run_init(&run, cfg, 0, NULL), 0);
    for (int s = 0; s < 8; s++)
        CHECK_INT(meta_run_step(&run, &st), 0);
    size_t n = run.layout.count;
    real *straight = malloc(n * sizeof(real));
    memcpy(straight, run.eta, n * sizeof(real));
    meta_run_free(&run);
    CHECK_INT(meta_run_init(&run, cfg, 0, NULL), 0);
    for (int s = 0; s < 5; s++) /* crosses lifetime ends (lifetime_updates 6, K 2) */
        CHECK_INT(meta_run_step(&run, &st), 0);
    CHECK_INT(meta_run_save(&run, path), 0);
    meta_run_free(&run);
    CHECK_INT(meta_run_resume(&run, cfg, 0, NULL, path, 0), 0);
    for (int s = 0; s < 3; s++)
        CHECK_INT(meta_run_step(&run, &st), 0);
    CHECK(memcmp(run.eta, straight, n * sizeof(real)) == 0);
    int finite = 1;
    for (size_t i = 0; i < n; i++)
        finite &= isfinite(straight[i]) != 0;
    CHECK(finite);
    meta_run_free(&run);
    free(straight);
}

TEST(procgrid_bad_ranges_fail_naming_file_and_key)
{
    static const struct {
        const char *file, *message;
    } bad[] = {
        {"inverted", "key 'width': range [8, 5] is inverted (lo > hi)"},
        {"log_zero", "key 'p_end': range [0, 0.5] is empty for a log-uniform draw"},
        {"outside", "key 'height': range [1, 10] is outside [2, 32]"},
        {"not_range", "key 'walls': expected a range [lo, hi] of two numbers"},
        {"fraction", "key 'max_steps': expected integers, got [20.5, 100]"},
        {"reward", "key 'reward': range [-1, -0.5] leaves the first object type's"},
        {"unknown_key", "unknown key 'objects'"},
        {"crowded", "key 'object_types': up to 5 objects and the agent do not fit on the "
                    "smallest 2x2 grid"},
        {"gamma", "missing required key 'gamma'"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char args[256], expected[512], out[4096];
        snprintf(args, sizeof args, "env tests/configs/bad_procgrid_%s.json", bad[k].file);
        snprintf(expected, sizeof expected, "lpg: tests/configs/bad_procgrid_%s.json: %s",
                 bad[k].file, bad[k].message);
        int status = run_lpg(args, out, sizeof out);
        if (status == 0 || !strstr(out, expected)) {
            fprintf(stderr, "  lpg %s: exit %d, output: %s  expected: %s\n", args, status, out,
                    expected);
            CHECK(0);
        }
    }
}

TEST(procgrid_env_command_shows_several_draws)
{
    char out[65536];
    CHECK_INT(run_lpg("env " PROCGRID " --render --steps 2 --seed 5", out, sizeof out), 0);
    CHECK(strstr(out, "kind: procedural_grid") != NULL);
    CHECK(strstr(out, "num_states: 3200") != NULL);
    CHECK(strstr(out, "ranges: width [4, 10], height [4, 10], object types [1, 5]") != NULL);
    const char *seeds[] = {"layout drawn for seed 5: grid: ", "layout drawn for seed 6: grid: ",
                           "layout drawn for seed 7: grid: ", "layout drawn for seed 8: grid: "};
    for (int i = 0; i < 4; i++)
        CHECK(strstr(out, seeds[i]) != NULL);
    CHECK(strstr(out, "random steps in the layout of seed 5:") != NULL);
    CHECK(strstr(out, "step 2: action ") != NULL);
}

TEST(procgrid_heldout_distributions_are_larger_than_the_training_one)
{
    /* configs/envs/heldout/procgrid*_large.json: layouts no training draw can produce (every
     * side above the training files' 10), padded sizes to match. */
    const char *files[] = {"configs/envs/heldout/procgrid_large.json",
                           "configs/envs/heldout/procgrid_random_large.json"};
    for (int f = 0; f < 2; f++) {
        EnvSpec family, s;
        REQUIRE(env_load(files[f], &family) == 0);
        CHECK(family.proc.width[0] > 10 && family.proc.height[0] > 10);
        CHECK_INT(f == 0 ? family.num_states : family.obs_dim, f == 0 ? 196 * 32 : 6 * 196);
        for (uint64_t seed = 0; seed < 50; seed++) {
            env_draw_layout(&family, seed, &s);
            int walls = count_walls(&s);
            CHECK(s.width >= 11 && s.width <= 14 && walls >= 1 && walls <= 30);
            CHECK_INT(count_reachable(&s), s.width * s.height - walls);
            CHECK(s.max_steps >= 100 && s.max_steps <= 1500);
        }
    }
}
