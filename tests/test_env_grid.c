/* test_env_grid.c: the grid worlds stepped on small known layouts: positions, walls, borders,
 * collection, p_end and p_respawn at 0, 1 and in between, the step limit, the state index,
 * the observation planes, and determinism under a seed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "test.h"

enum { UP, RIGHT, DOWN, LEFT, UP_RIGHT, DOWN_RIGHT, DOWN_LEFT, UP_LEFT, STAY };

/* Writes a layout to build/ and loads it. */
static int load_layout(const char *json, EnvSpec *spec)
{
    const char *path = "build/test_env_grid_layout.json";
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(json, f);
    fclose(f);
    return env_load(path, spec);
}

/* 5x4, 9 moves, start (1,1), a wall at (2,1):
 *   a . . . .     a (0,0): object 0, type 0: +1, p_end 0, p_respawn 0
 *   . S # c .     c (3,1): object 2, type 2: +0.5, p_end 0, p_respawn 1
 *   . . . . .
 *   . . . . b     b (4,3): object 1, type 1: -1, p_end 1, p_respawn 0 */
static const char *layout_tabular =
    "{\"name\": \"t\", \"kind\": \"tabular_grid\", \"gamma\": 0.9, \"max_steps\": 100,"
    " \"width\": 5, \"height\": 4, \"moves\": 9, \"walls\": [[2, 1]], \"start\": [1, 1],"
    " \"object_types\": [{\"reward\": 1, \"p_end\": 0, \"p_respawn\": 0},"
    "                    {\"reward\": -1, \"p_end\": 1, \"p_respawn\": 0},"
    "                    {\"reward\": 0.5, \"p_end\": 0, \"p_respawn\": 1}],"
    " \"objects\": [{\"type\": 0, \"at\": [0, 0]}, {\"type\": 1, \"at\": [4, 3]},"
    "             {\"type\": 2, \"at\": [3, 1]}]}";

/* Steps the one-copy batch with action a. */
static void step1(EnvBatch *batch, int action)
{
    int32_t a = action;
    env_batch_step(batch, &a);
}

static int state_index(int cell, int present) { return cell * 8 + present; }

TEST(env_tabular_moves_walls_borders_and_collects)
{
    EnvSpec spec;
    EnvBatch b;
    REQUIRE(load_layout(layout_tabular, &spec) == 0);
    CHECK_INT(spec.num_actions, 9);
    CHECK_INT(spec.num_states, 20 * 8);
    CHECK_INT(spec.obs_dim, 0);
    if (env_batch_init(&b, &spec, 1, 3) != 0) {
        CHECK(0);
        return;
    }
    CHECK_INT(b.obs_index[0], state_index(6, 7));
    step1(&b, RIGHT); /* into the wall: stays */
    CHECK_INT(b.agent_cell[0], 6);
    CHECK_INT(b.obs_index[0], state_index(6, 7));
    CHECK_NEAR(b.reward[0], 0, 0);
    step1(&b, UP);
    CHECK_INT(b.agent_cell[0], 1);
    step1(&b, UP); /* the top border: stays */
    CHECK_INT(b.agent_cell[0], 1);
    CHECK_INT(b.obs_index[0], state_index(1, 7));
    step1(&b, LEFT); /* onto object 0: +1, not the end, gone for good (p_respawn 0) */
    CHECK_INT(b.agent_cell[0], 0);
    CHECK_NEAR(b.reward[0], 1, 0);
    CHECK_INT(b.done[0], 0);
    CHECK_INT(b.present[0], 6);
    CHECK_INT(b.obs_index[0], state_index(0, 6));
    double reward_sum = 0;
    for (int t = 0; t < 40; t++) {
        step1(&b, STAY);
        reward_sum += b.reward[0];
    }
    CHECK_NEAR(reward_sum, 0, 0);
    CHECK_INT(b.present[0], 6);
    step1(&b, DOWN_RIGHT);
    CHECK_INT(b.agent_cell[0], 6);
    step1(&b, UP_LEFT); /* back onto the empty cell */
    CHECK_INT(b.agent_cell[0], 0);
    CHECK_NEAR(b.reward[0], 0, 0);
    step1(&b, UP_RIGHT); /* the top border blocks the diagonal */
    CHECK_INT(b.agent_cell[0], 0);
    step1(&b, DOWN_LEFT); /* the left border blocks the diagonal */
    CHECK_INT(b.agent_cell[0], 0);
    CHECK_NEAR(b.running_return[0], 1, 0);
    env_batch_free(&b);
}

TEST(env_tabular_p_end_one_ends_and_resets)
{
    EnvSpec spec;
    EnvBatch b;
    REQUIRE(load_layout(layout_tabular, &spec) == 0);
    if (env_batch_init(&b, &spec, 1, 3) != 0) {
        CHECK(0);
        return;
    }
    step1(&b, DOWN_RIGHT);
    CHECK_INT(b.agent_cell[0], 12);
    step1(&b, DOWN_RIGHT);
    CHECK_INT(b.agent_cell[0], 18);
    CHECK_INT(b.done[0], 0);
    step1(&b, RIGHT); /* onto object 1: -1 and the end */
    CHECK_NEAR(b.reward[0], -1, 0);
    CHECK_INT(b.done[0], 1);
    CHECK_INT(b.obs_index[0], state_index(6, 7)); /* already the next episode's start */
    CHECK_INT(b.agent_cell[0], 6);
    CHECK_INT(b.steps[0], 0);
    CHECK_INT(b.episodes_done, 1);
    CHECK_NEAR(b.returns_done_sum, -1, 0);
    CHECK_NEAR(b.running_return[0], 0, 0);
    step1(&b, STAY);
    CHECK_INT(b.done[0], 0);
    env_batch_free(&b);
}

TEST(env_tabular_p_respawn_one_returns_next_step)
{
    EnvSpec spec;
    EnvBatch b;
    REQUIRE(load_layout(layout_tabular, &spec) == 0);
    if (env_batch_init(&b, &spec, 1, 3) != 0) {
        CHECK(0);
        return;
    }
    step1(&b, DOWN_RIGHT);
    step1(&b, UP_RIGHT); /* onto object 2 at (3,1): +0.5, absent after this step */
    CHECK_INT(b.agent_cell[0], 8);
    CHECK_NEAR(b.reward[0], 0.5, 0);
    CHECK_INT(b.present[0], 3);
    CHECK_INT(b.obs_index[0], state_index(8, 3));
    step1(&b, STAY); /* nothing to collect; it reappears at the end of this step */
    CHECK_NEAR(b.reward[0], 0, 0);
    CHECK_INT(b.present[0], 7);
    CHECK_INT(b.obs_index[0], state_index(8, 7));
    step1(&b, STAY); /* staying on it collects it again */
    CHECK_NEAR(b.reward[0], 0.5, 0);
    CHECK_INT(b.present[0], 3);
    step1(&b, RIGHT);
    CHECK_INT(b.agent_cell[0], 9);
    CHECK_NEAR(b.reward[0], 0, 0);
    CHECK_INT(b.present[0], 7);
    CHECK_NEAR(b.running_return[0], 1.0, 1e-12);
    env_batch_free(&b);
}

TEST(env_tabular_four_moves_and_step_limit)
{
    EnvSpec spec;
    EnvBatch b;
    CHECK_INT(load_layout("{\"name\": \"t4\", \"kind\": \"tabular_grid\", \"gamma\": 0.9,"
                          " \"max_steps\": 3, \"width\": 3, \"height\": 2, \"moves\": 4,"
                          " \"start\": [0, 1], \"object_types\": [{\"reward\": 2, \"p_end\": 0,"
                          " \"p_respawn\": 0}], \"objects\": [{\"type\": 0, \"at\": [2, 0]}]}",
                          &spec), 0);
    CHECK_INT(spec.num_actions, 4);
    CHECK_INT(spec.num_states, 6 * 2);
    if (env_batch_init(&b, &spec, 1, 0) != 0) {
        CHECK(0);
        return;
    }
    CHECK_INT(b.obs_index[0], 3 * 2 + 1);
    step1(&b, LEFT); /* border */
    CHECK_INT(b.agent_cell[0], 3);
    CHECK_INT(b.done[0], 0);
    step1(&b, RIGHT);
    CHECK_INT(b.agent_cell[0], 4);
    CHECK_INT(b.done[0], 0);
    step1(&b, UP); /* third step: the limit */
    CHECK_INT(b.done[0], 1);
    CHECK_NEAR(b.reward[0], 0, 0);
    CHECK_INT(b.obs_index[0], 3 * 2 + 1);
    CHECK_INT(b.episodes_done, 1);
    CHECK_NEAR(b.returns_done_sum, 0, 0);
    step1(&b, RIGHT);
    step1(&b, RIGHT);
    step1(&b, UP); /* collects the +2 on the limit's step: paid, then the end */
    CHECK_NEAR(b.reward[0], 2, 0);
    CHECK_INT(b.done[0], 1);
    CHECK_INT(b.episodes_done, 2);
    CHECK_NEAR(b.returns_done_sum, 2, 0);
    env_batch_free(&b);
}

/* Fraction of copies, over `copies`, for which stepping right onto a (p_end, p_respawn) object
 * ends the episode; and fraction for which it has reappeared one step later. */
static void collect_rates(double p_end, double p_respawn, double *ended, double *back)
{
    char json[1024];
    snprintf(json, sizeof json,
             "{\"name\": \"p\", \"kind\": \"tabular_grid\", \"gamma\": 0.9, \"max_steps\": 9,"
             " \"width\": 3, \"height\": 2, \"start\": [0, 0], \"object_types\": [{\"reward\": 1,"
             " \"p_end\": %g, \"p_respawn\": %g}], \"objects\": [{\"type\": 0, \"at\": [1, 0]}]}",
             p_end, p_respawn);
    EnvSpec spec;
    EnvBatch b;
    *ended = *back = -1;
    const int copies = 20000;
    if (load_layout(json, &spec) || env_batch_init(&b, &spec, copies, 11))
        return;
    int32_t *actions = calloc(copies, sizeof *actions);
    for (int i = 0; i < copies; i++)
        actions[i] = RIGHT;
    env_batch_step(&b, actions);
    int n_ended = 0, n_alive = 0, n_back = 0;
    for (int i = 0; i < copies; i++)
        n_ended += b.done[i];
    for (int i = 0; i < copies; i++)
        actions[i] = DOWN;
    env_batch_step(&b, actions);
    for (int i = 0; i < copies; i++)
        if (b.agent_cell[i] == 4) { /* still in the first episode */
            n_alive++;
            n_back += (int)b.present[i];
        }
    *ended = (double)n_ended / copies;
    *back = n_alive ? (double)n_back / n_alive : -1;
    free(actions);
    env_batch_free(&b);
}

TEST(env_grid_probabilities_match_p_end_and_p_respawn)
{
    double ended, back;
    collect_rates(0.0, 0.0, &ended, &back);
    CHECK_NEAR(ended, 0, 0);
    CHECK_NEAR(back, 0, 0);
    collect_rates(1.0, 0.0, &ended, &back);
    CHECK_NEAR(ended, 1, 0);
    collect_rates(0.0, 1.0, &ended, &back);
    CHECK_NEAR(ended, 0, 0);
    CHECK_NEAR(back, 1, 0);
    collect_rates(0.3, 0.7, &ended, &back); /* 20000 copies: standard errors below 0.004 */
    CHECK_NEAR(ended, 0.3, 0.02);
    CHECK_NEAR(back, 0.7, 0.02);
}

TEST(env_tabular_random_start_avoids_walls_and_objects)
{
    EnvSpec spec;
    EnvBatch b;
    CHECK_INT(load_layout("{\"name\": \"r\", \"kind\": \"tabular_grid\", \"gamma\": 0.9,"
                          " \"max_steps\": 5, \"width\": 3, \"height\": 3, \"walls\": [[1, 1]],"
                          " \"object_types\": [{\"reward\": 1, \"p_end\": 0, \"p_respawn\": 0}],"
                          " \"objects\": [{\"type\": 0, \"at\": [0, 0]}]}", &spec), 0);
    CHECK_INT(spec.start_cell, -1);
    if (env_batch_init(&b, &spec, 200, 5) != 0) {
        CHECK(0);
        return;
    }
    int seen[9] = {0};
    for (int i = 0; i < 200; i++) {
        int c = b.agent_cell[i];
        CHECK(c >= 0 && c < 9 && c != 4 && c != 0);
        CHECK_INT(b.obs_index[i], c * 2 + 1);
        seen[c >= 0 && c < 9 ? c : 0]++;
    }
    for (int c = 1; c < 9; c++)
        if (c != 4)
            CHECK(seen[c] > 0); /* 7 start cells, 200 draws */
    env_batch_free(&b);
}

TEST(env_tabular_state_index_formula_on_shipped_grid)
{
    EnvSpec spec;
    EnvBatch b;
    REQUIRE(env_load("configs/envs/tabular_longer.json", &spec) == 0);
    CHECK_INT(spec.num_states, 81 * 128);
    if (env_batch_init(&b, &spec, 32, 9) != 0) {
        CHECK(0);
        return;
    }
    Rng rng;
    rng_seed(&rng, 1, 1);
    int32_t actions[32];
    int bad = 0, collected = 0;
    for (int t = 0; t < 3000; t++) {
        for (int i = 0; i < 32; i++)
            actions[i] = (int32_t)rng_below(&rng, 9);
        env_batch_step(&b, actions);
        for (int i = 0; i < 32; i++) {
            int32_t expected = b.agent_cell[i] * 128 + (int32_t)b.present[i];
            bad += b.obs_index[i] != expected || b.obs_index[i] >= spec.num_states ||
                   spec.wall[b.agent_cell[i]];
            collected += b.reward[i] != 0;
        }
    }
    CHECK_INT(bad, 0);
    CHECK(collected > 0);
    env_batch_free(&b);
}

/* A corridor: the top row of 4x2 is open, the bottom row is wall; start (0,0); one object. */
static int load_corridor(double p_end, double p_respawn, EnvSpec *spec)
{
    char json[1024];
    snprintf(json, sizeof json,
             "{\"name\": \"c\", \"kind\": \"random_grid\", \"gamma\": 0.9, \"max_steps\": 50,"
             " \"width\": 4, \"height\": 2, \"walls\": [[0, 1], [1, 1], [2, 1], [3, 1]],"
             " \"start\": [0, 0], \"object_types\": [{\"reward\": 1, \"p_end\": %g,"
             " \"p_respawn\": %g}], \"objects\": [{\"type\": 0, \"count\": 1}]}",
             p_end, p_respawn);
    return load_layout(json, spec);
}

/* The object's cell according to the observation's object plane, or -1 (-2 if several). */
static int object_plane_cell(const EnvBatch *b, int i)
{
    int cells = b->spec->width * b->spec->height, found = -1;
    const real *obs = b->obs + (size_t)i * b->spec->obs_dim;
    for (int c = 0; c < cells; c++)
        if (obs[c] != 0)
            found = found == -1 ? c : -2;
    return found;
}

TEST(env_random_grid_corridor_collects_once)
{
    EnvSpec spec;
    EnvBatch b;
    REQUIRE(load_corridor(0, 0, &spec) == 0);
    CHECK_INT(spec.obs_dim, 2 * 8);
    for (uint64_t seed = 0; seed < 6; seed++) {
        if (env_batch_init(&b, &spec, 1, seed) != 0) {
            CHECK(0);
            return;
        }
        int object = object_plane_cell(&b, 0);
        CHECK(object >= 1 && object <= 3);
        CHECK_NEAR(b.obs[8 + 0], 1, 0); /* the agent plane */
        double total = 0;
        for (int t = 1; t <= 4; t++) {
            step1(&b, RIGHT);
            int cell = t < 3 ? t : 3;
            CHECK_INT(b.agent_cell[0], cell);
            CHECK_NEAR(b.obs[8 + cell], 1, 0);
            CHECK_NEAR(b.obs[8 + cell - 1], 0, 0); /* the agent left it */
            CHECK_NEAR(b.reward[0], t == object ? 1 : 0, 0);
            CHECK_INT(b.done[0], 0);
            total += b.reward[0];
        }
        CHECK_NEAR(total, 1, 0);
        CHECK_INT(object_plane_cell(&b, 0), -1); /* collected, never back */
        env_batch_free(&b);
    }
}

TEST(env_random_grid_respawns_on_a_free_cell_and_ends)
{
    EnvSpec spec;
    EnvBatch b;
    REQUIRE(load_corridor(0, 1, &spec) == 0);
    if (env_batch_init(&b, &spec, 1, 4) != 0) {
        CHECK(0);
        return;
    }
    int collections = 0, limits = 0;
    for (int t = 0; t < 200; t++) {
        step1(&b, (t / 3) % 2 ? LEFT : RIGHT);
        int object = object_plane_cell(&b, 0);
        if (b.done[0]) { /* the step limit (50): already the next episode's first state */
            limits++;
            CHECK_INT(b.agent_cell[0], 0);
            CHECK(object >= 1 && object < 4);
        } else if (b.reward[0] != 0) {
            collections++;
            CHECK_INT(object, -1); /* absent right after collection */
            CHECK_INT(b.present[0], 0);
        } else {
            CHECK(object >= 0 && object < 4 && object != b.agent_cell[0]);
            CHECK_INT(b.present[0], 1);
        }
    }
    CHECK(collections > 10);
    CHECK_INT(limits, 4);
    env_batch_free(&b);

    REQUIRE(load_corridor(1, 0, &spec) == 0);
    if (env_batch_init(&b, &spec, 1, 4) != 0) {
        CHECK(0);
        return;
    }
    int object = object_plane_cell(&b, 0);
    for (int t = 1; t <= object; t++)
        step1(&b, RIGHT);
    CHECK_NEAR(b.reward[0], 1, 0);
    CHECK_INT(b.done[0], 1);
    CHECK_INT(b.agent_cell[0], 0); /* the next episode's start */
    CHECK_NEAR(b.obs[8 + 0], 1, 0);
    CHECK_NEAR(b.obs[8 + object], 0, 0);
    CHECK(object_plane_cell(&b, 0) >= 1);
    CHECK_INT(b.episodes_done, 1);
    env_batch_free(&b);
}

/* Rebuilds copy i's observation from its state and compares it with the incremental one. */
static int planes_mismatch(const EnvBatch *b, int i, real *expected)
{
    const EnvSpec *spec = b->spec;
    int cells = spec->width * spec->height;
    memset(expected, 0, sizeof *expected * (size_t)spec->obs_dim);
    expected[spec->num_types * cells + b->agent_cell[i]] = 1;
    int errors = 0;
    for (int j = 0; j < spec->num_objects; j++) {
        if (!((b->present[i] >> j) & 1u))
            continue;
        int c = b->object_cell[i * ENV_MAX_OBJECTS + j];
        errors += spec->wall[c] || c == b->agent_cell[i];
        errors += expected[spec->object_type[j] * cells + c] != 0; /* two objects on a cell */
        expected[spec->object_type[j] * cells + c] = 1;
    }
    const real *obs = b->obs + (size_t)i * spec->obs_dim;
    for (int k = 0; k < spec->obs_dim; k++)
        errors += obs[k] != expected[k];
    return errors;
}

static void check_planes_over_play(const char *path)
{
    EnvSpec spec;
    EnvBatch b;
    REQUIRE(env_load(path, &spec) == 0);
    CHECK_INT(spec.obs_dim, (spec.num_types + 1) * spec.width * spec.height);
    if (env_batch_init(&b, &spec, 16, 21) != 0) {
        CHECK(0);
        return;
    }
    real *expected = calloc((size_t)spec.obs_dim, sizeof *expected);
    Rng rng;
    rng_seed(&rng, 3, 3);
    int32_t actions[16];
    int errors = 0;
    for (int i = 0; i < 16; i++)
        errors += planes_mismatch(&b, i, expected);
    for (int t = 0; t < 3000; t++) {
        for (int i = 0; i < 16; i++)
            actions[i] = (int32_t)rng_below(&rng, 9);
        env_batch_step(&b, actions);
        for (int i = 0; i < 16; i++)
            errors += planes_mismatch(&b, i, expected);
    }
    CHECK_INT(errors, 0);
    CHECK(b.episodes_done > 0);
    free(expected);
    env_batch_free(&b);
}

TEST(env_random_grid_planes_stay_exact_over_play)
{
    check_planes_over_play("configs/envs/random_small.json");
    check_planes_over_play("configs/envs/random_dense.json");
    check_planes_over_play("configs/envs/random_sparse.json");
}

/* Plays `steps` random steps in two batches and counts differences in what they output. */
static long count_differences(const char *path, uint64_t seed_a, uint64_t seed_b, int steps)
{
    EnvSpec spec;
    EnvBatch a, b;
    if (env_load(path, &spec) || env_batch_init(&a, &spec, 8, seed_a))
        return -1;
    if (env_batch_init(&b, &spec, 8, seed_b)) {
        env_batch_free(&a);
        return -1;
    }
    Rng rng;
    rng_seed(&rng, 99, 0);
    int32_t actions[8];
    long differences = 0;
    for (int t = 0; t < steps; t++) {
        for (int i = 0; i < 8; i++)
            actions[i] = (int32_t)rng_below(&rng, (uint32_t)spec.num_actions);
        env_batch_step(&a, actions);
        env_batch_step(&b, actions);
        for (int i = 0; i < 8; i++) {
            differences += a.reward[i] != b.reward[i] || a.done[i] != b.done[i];
            if (spec.num_states > 0)
                differences += a.obs_index[i] != b.obs_index[i];
        }
        if (spec.obs_dim > 0)
            differences += memcmp(a.obs, b.obs, sizeof *a.obs * 8 * (size_t)spec.obs_dim) != 0;
    }
    env_batch_free(&a);
    env_batch_free(&b);
    return differences;
}

TEST(env_grid_same_seed_same_trajectory)
{
    CHECK_INT(count_differences("configs/envs/tabular_dense.json", 42, 42, 2000), 0);
    CHECK_INT(count_differences("configs/envs/random_dense.json", 42, 42, 2000), 0);
    CHECK(count_differences("configs/envs/tabular_dense.json", 42, 43, 2000) > 0);
    CHECK(count_differences("configs/envs/random_dense.json", 42, 43, 2000) > 0);
}

TEST(env_grid_render_draws_walls_agent_objects)
{
    EnvSpec spec;
    EnvBatch b;
    REQUIRE(load_layout(layout_tabular, &spec) == 0);
    if (env_batch_init(&b, &spec, 1, 3) != 0) {
        CHECK(0);
        return;
    }
    char text[512] = "";
    FILE *f = fmemopen(text, sizeof text - 1, "w");
    env_render(&b, 0, f);
    fclose(f);
    CHECK(strncmp(text, "a....\n.A#c.\n.....\n....b\n", 24) == 0);
    env_batch_free(&b);
}
