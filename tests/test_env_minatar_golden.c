/* test_env_minatar_golden.c: the MinAtar games' trajectories are frozen. Each game runs 8 copies
 * under a fixed seed and a fixed pseudo-random action sequence (sticky 0.1, ramping on), and a
 * hash of every observation, reward, done flag and copy's random-generator state after every step
 * must equal the value recorded from the code that produced the committed MinAtar results. A
 * change to any rule, to the order or number of random draws, or to the observation fails here;
 * a speed change must leave all of it as it was. A second run with a short step limit covers the
 * episodes cut by max_steps. */
#include <stdio.h>
#include <string.h>

#include "env.h"
#include "../src/env/env_minatar.h"
#include "test.h"

#define GOLDEN_COPIES 8

typedef struct {
    uint64_t h;
    int non_binary; /* observation elements that are neither 0 nor 1 */
} Fnv;

static void fnv_bytes(Fnv *f, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t k = 0; k < len; k++) {
        f->h ^= p[k];
        f->h *= 0x100000001b3ULL;
    }
}

/* The observation as bits, 8 elements a byte (the elements are checked to be 0 or 1, so the bits
 * say all of it, whatever the precision of real). */
static void fnv_obs(Fnv *f, const real *obs, int len)
{
    for (int k = 0; k < len; k += 8) {
        unsigned char byte = 0;
        for (int j = 0; j < 8 && k + j < len; j++) {
            real v = obs[k + j];
            f->non_binary += v != 0 && v != 1;
            byte |= (unsigned char)((v != 0) << j);
        }
        fnv_bytes(f, &byte, 1);
    }
}

static void fnv_step(Fnv *f, const EnvBatch *b)
{
    fnv_obs(f, b->obs, b->n * b->spec->obs_dim);
    for (int i = 0; i < b->n; i++) {
        float reward = (float)b->reward[i];
        fnv_bytes(f, &reward, sizeof reward);
        fnv_bytes(f, &b->done[i], 1);
        fnv_bytes(f, &b->rng[i].state, sizeof b->rng[i].state);
    }
}

/* The hash of game's run: steps batch steps from env_batch_init with seed 2026 + game. */
static uint64_t run_hash(int game, int max_steps, int steps, int *non_binary, long *episodes)
{
    const char *path = "build/test_env_minatar_golden.json";
    FILE *file = fopen(path, "w");
    REQUIRE_OR(file != NULL, 0);
    fprintf(file, "{\"name\": \"golden\", \"kind\": \"minatar\", \"game\": \"%s\", \"gamma\": 0.99,"
                  " \"max_steps\": %d, \"sticky\": 0.1, \"ramping\": true}",
            minatar_game(game)->name, max_steps);
    fclose(file);
    EnvSpec spec;
    EnvBatch b;
    REQUIRE_OR(env_load(path, &spec) == 0, 0);
    REQUIRE_OR(env_batch_init(&b, &spec, GOLDEN_COPIES, 2026 + (uint64_t)game) == 0, 0);
    Fnv f = {0xcbf29ce484222325ULL, 0};
    fnv_step(&f, &b);
    Rng rng;
    rng_seed(&rng, 12, 34);
    for (int t = 0; t < steps; t++) {
        int32_t actions[GOLDEN_COPIES];
        for (int i = 0; i < GOLDEN_COPIES; i++)
            actions[i] = (int32_t)rng_below(&rng, MINATAR_NUM_ACTIONS);
        env_batch_step(&b, actions);
        fnv_step(&f, &b);
    }
    fnv_bytes(&f, b.game_state, b.game_state_bytes);
    *non_binary = f.non_binary;
    *episodes = (long)b.episodes_done;
    env_batch_free(&b);
    return f.h;
}

/* Recorded at ff5ef9a, the binary of the committed MinAtar evaluations. */
static const uint64_t golden_long[MINATAR_NUM_GAMES] = {
    0x593784ccc27f6198ULL, 0x29c7a8fb89608c81ULL, 0xb34cf082f3395327ULL, 0xea8c1b91de353f4aULL,
    0xbc9553897a59fb97ULL,
};
static const uint64_t golden_short[MINATAR_NUM_GAMES] = {
    0x7804cc419b9fa84dULL, 0x2cde7ffb562399baULL, 0x8c61520dae69100eULL, 0x1b953097f634e4d7ULL,
    0x07297c58910c0620ULL,
};

/* Runs game (max_steps, steps) and checks its hash against golden, printing the hash found when
 * it differs (to record a new one on purpose). */
static void check_run(int game, int max_steps, int steps, uint64_t golden)
{
    int non_binary;
    long episodes;
    uint64_t h = run_hash(game, max_steps, steps, &non_binary, &episodes);
    if (h != golden)
        fprintf(stderr, "  %s, %d steps, max_steps %d: hash 0x%016llxULL\n",
                minatar_game(game)->name, steps, max_steps, (unsigned long long)h);
    CHECK(h == golden);
    CHECK_INT(non_binary, 0);
    CHECK(episodes >= GOLDEN_COPIES);
}

TEST(minatar_trajectories_equal_the_recorded_ones)
{
    for (int g = 0; g < MINATAR_NUM_GAMES; g++) {
        check_run(g, 10000, 20000, golden_long[g]);
        check_run(g, 300, 2000, golden_short[g]);
    }
}
