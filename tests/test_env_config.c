/* test_env_config.c: the 15 shipped environment files load with the sizes they should have;
 * every malformed file under tests/configs/bad_env_*.json makes `lpg env` fail with a message
 * naming the file and the key; `lpg env` prints sizes and renders. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "env.h"
#include "test.h"

typedef struct {
    const char *name;
    EnvKind kind;
    int num_actions, num_states, obs_dim, max_steps;
} ShippedEnv;

static const ShippedEnv shipped[] = {
    {"tabular_dense", ENV_TABULAR_GRID, 9, 121 * 16, 0, 500},
    {"tabular_sparse", ENV_TABULAR_GRID, 9, 169 * 4, 0, 50},
    {"tabular_long_horizon", ENV_TABULAR_GRID, 9, 121 * 16, 0, 1000},
    {"tabular_longer", ENV_TABULAR_GRID, 9, 81 * 128, 0, 2000},
    {"tabular_long_dense", ENV_TABULAR_GRID, 9, 121 * 16, 0, 2000},
    {"random_dense", ENV_RANDOM_GRID, 9, 0, 4 * 121, 500},
    {"random_long_horizon", ENV_RANDOM_GRID, 9, 0, 3 * 121, 1000},
    {"random_small", ENV_RANDOM_GRID, 9, 0, 3 * 49, 500},
    {"random_sparse", ENV_RANDOM_GRID, 9, 0, 3 * 49, 50},
    {"random_very_dense", ENV_RANDOM_GRID, 9, 0, 2 * 121, 2000},
    {"chain_short", ENV_CHAIN, 2, 59, 0, 30},
    {"chain_short_noisy", ENV_CHAIN, 2, 59, 0, 30},
    {"chain_long", ENV_CHAIN, 2, 99, 0, 50},
    {"chain_long_noisy", ENV_CHAIN, 2, 99, 0, 50},
    {"chain_distraction", ENV_CHAIN, 2, 0, 22, 30},
};

TEST(env_shipped_files_load_with_expected_sizes)
{
    for (size_t k = 0; k < sizeof shipped / sizeof shipped[0]; k++) {
        const ShippedEnv *e = &shipped[k];
        char path[256];
        snprintf(path, sizeof path, "configs/envs/%s.json", e->name);
        EnvSpec spec;
        if (env_load(path, &spec) != 0) {
            fprintf(stderr, "  %s does not load\n", path);
            CHECK(0);
            continue;
        }
        CHECK(strcmp(spec.name, e->name) == 0);
        CHECK_INT(spec.kind, e->kind);
        CHECK_INT(spec.num_actions, e->num_actions);
        CHECK_INT(spec.num_states, e->num_states);
        CHECK_INT(spec.obs_dim, e->obs_dim);
        CHECK_INT(spec.max_steps, e->max_steps);
        CHECK(spec.gamma >= 0.99 && spec.gamma < 1);
    }
}

TEST(env_shipped_grids_match_the_design_table)
{
    EnvSpec spec;
    REQUIRE(env_load("configs/envs/tabular_dense.json", &spec) == 0);
    CHECK_INT(spec.num_objects, 4);
    CHECK_INT(spec.num_types, 3);
    CHECK_NEAR(spec.type[1].reward, -1, 0);
    CHECK_NEAR(spec.type[1].p_end, 0.5, 0);
    CHECK_NEAR(spec.type[1].p_respawn, 0.1, 0);
    REQUIRE(env_load("configs/envs/tabular_longer.json", &spec) == 0);
    CHECK_INT(spec.num_objects, 7);
    int walls = 0;
    for (int c = 0; c < 81; c++)
        walls += spec.wall[c];
    CHECK_INT(walls, 7); /* the middle column less two gaps */
    REQUIRE(env_load("configs/envs/tabular_long_dense.json", &spec) == 0);
    walls = 0;
    for (int c = 0; c < 121; c++)
        walls += spec.wall[c];
    CHECK_INT(walls, 11 + 11 - 1 - 4); /* a cross less four gaps */
    REQUIRE(env_load("configs/envs/random_sparse.json", &spec) == 0);
    CHECK_INT(spec.num_objects, 3);
    CHECK_INT(spec.start_cell, -1);
    REQUIRE(env_load("configs/envs/chain_short_noisy.json", &spec) == 0);
    CHECK_INT(spec.noisy, 1);
    CHECK_INT(spec.length_min, 5);
    CHECK_INT(spec.length_max, 30);
}

typedef struct {
    const char *file;    /* under tests/configs/ */
    const char *message; /* expected after "lpg: tests/configs/<file>: " */
} BadFile;

static const BadFile bad_files[] = {
    {"bad_env_unknown_key.json", "unknown key 'widht'"},
    {"bad_env_wrong_type.json", "key 'width': expected an integer"},
    {"bad_env_out_of_range.json", "key 'width': value 40 is out of range [2, 32]"},
    {"bad_env_object_on_wall.json", "objects[1]: key 'at': cell (2, 1) is a wall"},
    {"bad_env_object_outside.json", "objects[0]: key 'at': cell (11, 3) is outside the 11x11 grid"},
    {"bad_env_truncated.json", "invalid JSON: line 7, column 1: the text ends inside an object"},
    {"bad_env_top_level_list.json", "the top level must be a JSON object"},
    {"bad_env_unknown_kind.json", "key 'kind': unknown kind 'maze'"},
    {"bad_env_duplicate_object.json", "objects[1]: key 'at': cell (3, 3) already holds object 0"},
    {"bad_env_duplicate_wall.json", "walls[2]: key 'walls': duplicate cell (2, 1)"},
    {"bad_env_too_many_objects.json", "key 'objects': too many objects (17 > 16)"},
    {"bad_env_no_free_cell.json", "key 'objects': the agent and 1 object need 2 free cells"},
    {"bad_env_all_walls.json", "key 'walls': no free cell left"},
    {"bad_env_moves.json", "key 'moves': expected 4 or 9, got 5"},
    {"bad_env_probability.json", "object_types[0]: key 'p_end': value 1.5 is out of range [0, 1]"},
    {"bad_env_type_unknown_key.json", "object_types[0]: unknown key 'colour'"},
    {"bad_env_object_type_index.json", "objects[0]: key 'type': value 3 is out of range [0, 1]"},
    {"bad_env_start_on_wall.json", "key 'start': cell (2, 1) is a wall"},
    {"bad_env_start_on_object.json", "key 'start': cell (3, 3) holds object 0"},
    {"bad_env_cell_format.json", "objects[0]: key 'at': expected a cell [x, y]"},
    {"bad_env_cell_fraction.json", "key 'start': cell coordinates must be integers"},
    {"bad_env_missing_key.json", "missing required key 'gamma'"},
    {"bad_env_gamma.json", "key 'gamma': value 1.5 is out of range [0, 1]"},
    {"bad_env_name_type.json", "key 'name': expected a string"},
    {"bad_env_name_quote.json", "key 'name': \"a\"b\" may hold only letters, digits, '_', '-' and '.'"},
    {"bad_env_name_path.json", "key 'name': \"../../x\" may hold only letters, digits"},
    {"bad_env_name_nul.json", "invalid JSON: line 2, column 14: a NUL character (\\u0000) inside a "
                              "string is not allowed"},
    {"bad_env_no_objects.json", "key 'objects': list must have 1 to 16 items, has 0"},
    {"bad_env_tabular_count.json", "objects[0]: unknown key 'count'"},
    {"bad_env_random_at.json", "objects[0]: unknown key 'at'"},
    {"bad_env_too_many_states.json", "key 'objects': 1024 cells x 2^11 object states"},
    {"bad_env_chain_lengths.json", "key 'length_max': 5 is below length_min 30"},
    {"bad_env_chain_grid_key.json", "unknown key 'width'"},
    {"bad_env_chain_noisy_type.json", "key 'noisy': expected true or false"},
    {"bad_env_chain_max_steps.json", "key 'max_steps': 10 is below length_max 30"},
    {"bad_env_chain_bits.json", "key 'distraction_bits': value 40 is out of range [0, 30]"},
    {"bad_env_duplicate_key.json", "line 18, column 2: duplicate key \"objects\" (first at line 15)"},
};

/* env_load with its error message sent to /dev/null. */
static int load_quietly(const char *path, EnvSpec *spec)
{
    fflush(stderr);
    int saved = dup(2), null = open("/dev/null", O_WRONLY);
    if (saved >= 0 && null >= 0)
        dup2(null, 2);
    int rc = env_load(path, spec);
    fflush(stderr);
    if (saved >= 0) {
        dup2(saved, 2);
        close(saved);
    }
    if (null >= 0)
        close(null);
    return rc;
}

TEST(env_bad_files_fail_naming_file_and_key)
{
    for (size_t k = 0; k < sizeof bad_files / sizeof bad_files[0]; k++) {
        const BadFile *bad = &bad_files[k];
        char args[256], expected[512], out[4096];
        snprintf(args, sizeof args, "env tests/configs/%s", bad->file);
        snprintf(expected, sizeof expected, "lpg: tests/configs/%s: %s", bad->file, bad->message);
        int status = run_lpg(args, out, sizeof out);
        if (status == 0 || !strstr(out, expected)) {
            fprintf(stderr, "  lpg %s: exit %d, output: %s  expected: %s\n", args, status, out,
                    expected);
            CHECK(0);
        }
        /* The library itself refuses it too. */
        EnvSpec spec;
        char path[256];
        snprintf(path, sizeof path, "tests/configs/%s", bad->file);
        CHECK_INT(load_quietly(path, &spec), -1);
    }
}

TEST(env_command_prints_sizes_and_renders)
{
    char out[16384];
    CHECK_INT(run_lpg("env configs/envs/tabular_dense.json", out, sizeof out), 0);
    CHECK(strstr(out, "kind: tabular_grid") != NULL);
    CHECK(strstr(out, "name: tabular_dense") != NULL);
    CHECK(strstr(out, "num_actions: 9") != NULL);
    CHECK(strstr(out, "num_states: 1936") != NULL);
    CHECK(strstr(out, "gamma: 0.99") != NULL);
    CHECK(strstr(out, "max_steps: 500") != NULL);

    CHECK_INT(run_lpg("env configs/envs/random_small.json --render --steps 3 --seed 2", out,
                      sizeof out), 0);
    CHECK(strstr(out, "obs_dim: 147") != NULL);
    CHECK(strstr(out, "step 3: action ") != NULL);
    CHECK(strstr(out, "step 4") == NULL);
    CHECK(strstr(out, "A") != NULL);
    CHECK(strstr(out, "#") != NULL);

    CHECK_INT(run_lpg("env configs/envs/chain_long.json --seed 5", out, sizeof out), 0);
    EnvSpec spec;
    EnvBatch b;
    REQUIRE(env_load("configs/envs/chain_long.json", &spec) == 0);
    if (env_batch_init(&b, &spec, 1, 5) == 0) {
        char expected[128];
        snprintf(expected, sizeof expected, "chain_length: %d (drawn for seed 5 from [5, 50])",
                 b.chain_length);
        CHECK(strstr(out, expected) != NULL);
        env_batch_free(&b);
    }

    CHECK_INT(run_lpg("env --help", out, sizeof out), 0);
    CHECK(strstr(out, "usage: lpg env <file.json>") != NULL);
}

TEST(env_command_rejects_bad_arguments)
{
    char out[4096];
    CHECK(run_lpg("env tests/configs/no_such_file.json", out, sizeof out) != 0);
    CHECK(strstr(out, "lpg: tests/configs/no_such_file.json: cannot open") != NULL);
    CHECK(run_lpg("env", out, sizeof out) != 0);
    CHECK(strstr(out, "lpg: env: no environment file given") != NULL);
    CHECK(run_lpg("env configs/envs/chain_short.json --steps x", out, sizeof out) != 0);
    CHECK(strstr(out, "lpg: env: --steps: expected an integer") != NULL);
    CHECK(run_lpg("env configs/envs/chain_short.json --bogus", out, sizeof out) != 0);
    CHECK(strstr(out, "lpg: env: unknown option '--bogus'") != NULL);
}
