/* env.c: reading environment files, and the batch life cycle (allocation, seeding, reset, step)
 * dispatched to the families in env_grid.c, env_procgrid.c, env_chain.c and env_minatar.c.
 *
 * An environment file is one JSON object. Every kind has
 *   "name": string, "kind": "tabular_grid" | "random_grid" | "procedural_grid" |
 *   "procedural_random_grid" | "chain" | "minatar",
 *   "gamma": discount in [0, 1], "max_steps": episode step limit in [1, 10^7].
 * Grid worlds (both kinds) add
 *   "width", "height": 2..32;  "moves": 4 or 9 (default 9: eight directions plus stay);
 *   "walls": [[x, y], ...] (optional; y = 0 is the top row);
 *   "start": [x, y] (optional; omitted: a random free cell each episode);
 *   "object_types": [{"reward": r, "p_end": p, "p_respawn": q}, ...] (1..8 types);
 *   "objects": tabular_grid: [{"type": t, "at": [x, y]}, ...], fixed cells;
 *              random_grid:  [{"type": t, "count": n}, ...], cells drawn every episode;
 *   at most 16 objects in all, and a tabular grid has at most 2^20 states.
 * Procedural grids (env_procgrid.c, whose top comment lists their keys) give ranges instead of
 *   one layout; every batch draws its layout from them and runs as a tabular or random grid.
 * Chains add
 *   "length_min", "length_max": range of the chain length L (1..1000), drawn per batch;
 *   "noisy": true/false (optional, default false): random +1/-1 on the intermediate steps;
 *   "distraction_bits": 0..30 (optional, default 0): > 0 makes the observation a bit vector
 *   (2 informative bits plus this many random ones) instead of a state index;
 *   "max_steps" must be at least length_max.
 * MinAtar games (env_minatar.c) add
 *   "game": "breakout" | "asterix" | "freeway" | "seaquest" | "space_invaders";
 *   "sticky": probability in [0, 1] that a step repeats the previous action (default 0.1);
 *   "ramping": true/false (optional, default true): difficulty rises within an episode.
 *
 * Grid dynamics (env_grid.c): a move into a wall or off the grid leaves the agent in place. A
 * step ends with the agent on a cell; a present object there is collected (its reward; with
 * probability p_end the episode ends). This includes staying, or bumping into a wall, on a cell
 * whose object has just reappeared. Then every object collected at an earlier step reappears
 * with probability p_respawn: tabular grids at its fixed cell (even under the agent), random
 * grids at a uniformly drawn free cell (not a wall, not the agent, not another object). An
 * object collected at step t is therefore absent in the observation after step t. Random grids
 * draw the agent's start first, then each object on a distinct free cell. */
#include "env.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "env_kinds.h"

/* ---- the kinds ----------------------------------------------------------------------------
 * One row per kind, at its EnvKind: its name in files, how its keys are read, and its batch
 * life cycle. A
 * procedural kind draws a layout per batch (env_procgrid.c) and then runs as the layout's kind,
 * so it has no life cycle of its own. A new kind is a row here and its own file. */
typedef struct {
    const char *name;
    int procedural;                 /* reads its own gamma and max_steps ranges */
    int (*load)(const struct cJSON *root, EnvSpec *spec, const char *path); /* its keys */
    int (*batch_init)(EnvBatch *batch);          /* NULL: the common arrays are all it needs */
    void (*seed)(EnvBatch *batch, Rng *master);  /* NULL: nothing drawn for the whole batch */
    void (*reset_copy)(EnvBatch *batch, int i);
    void (*step)(EnvBatch *batch, const int32_t *actions);
    void (*render)(const EnvBatch *batch, int i, FILE *out);
    const char *const *action_names;
} EnvKindRow;

static const char *const grid_actions[9] = {"up",        "right",      "down",
                                            "left",      "up-right",   "down-right",
                                            "down-left", "up-left",    "stay"};
static const char *const chain_actions[2] = {"0", "1"};
static const char *const minatar_actions[6] = {"no-op", "left", "up", "right", "down", "fire"};

static const EnvKindRow env_kinds[ENV_KINDS] = {
    [ENV_TABULAR_GRID] = {"tabular_grid", 0, grid_load, grid_batch_init, NULL,
                          tabular_grid_reset_copy, tabular_grid_step, grid_render, grid_actions},
    [ENV_RANDOM_GRID] = {"random_grid", 0, grid_load, grid_batch_init, NULL,
                         random_grid_reset_copy, random_grid_step, grid_render, grid_actions},
    [ENV_CHAIN] = {"chain", 0, chain_load, NULL, chain_seed_batch, chain_reset_copy, chain_step,
                   chain_render, chain_actions},
    [ENV_MINATAR] = {"minatar", 0, minatar_load, minatar_batch_init, NULL, minatar_reset_copy,
                     minatar_step, minatar_render, minatar_actions},
    [ENV_PROCEDURAL_GRID] = {"procedural_grid", 1, procgrid_load, NULL, NULL, NULL, NULL, NULL,
                             grid_actions},
    [ENV_PROCEDURAL_RANDOM_GRID] = {"procedural_random_grid", 1, procgrid_load, NULL, NULL, NULL,
                                    NULL, NULL, grid_actions},
};

/* The row of a kind, or NULL for a value outside EnvKind. */
static const EnvKindRow *kind_row(EnvKind kind)
{
    return (unsigned)kind < ENV_KINDS ? &env_kinds[kind] : NULL;
}

const char *env_kind_name(EnvKind kind)
{
    const EnvKindRow *row = kind_row(kind);
    return row ? row->name : "?";
}

const char *env_action_name(const EnvSpec *spec, int action)
{
    if (action < 0 || action >= spec->num_actions)
        return "?";
    return kind_row(spec->kind)->action_names[action];
}

static int read_kind(const cJSON *root, EnvKind *kind, const char *path)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, "kind");
    if (!item)
        return lpg_error("%s: missing required key 'kind'", path);
    if (!cJSON_IsString(item))
        return lpg_error("%s: key 'kind': expected a string", path);
    const char *names[ENV_KINDS];
    for (int k = 0; k < ENV_KINDS; k++) {
        if (strcmp(item->valuestring, env_kinds[k].name) == 0) {
            *kind = (EnvKind)k;
            return 0;
        }
        names[k] = env_kinds[k].name;
    }
    char expected[256];
    config_join_words(names, ENV_KINDS, " or ", 0, expected, sizeof expected);
    return lpg_error("%s: key 'kind': unknown kind '%s' (expected %s)", path, item->valuestring,
                     expected);
}

static int read_name(const cJSON *root, EnvSpec *spec, const char *path)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, "name");
    if (!item)
        return lpg_error("%s: missing required key 'name'", path);
    if (!cJSON_IsString(item))
        return lpg_error("%s: key 'name': expected a string", path);
    size_t len = strlen(item->valuestring);
    if (len == 0 || len >= ENV_NAME_MAX)
        return lpg_error("%s: key 'name': must have 1 to %d characters", path, ENV_NAME_MAX - 1);
    if (!lpg_name_is_safe(item->valuestring)) /* it names output files and log keys */
        return lpg_error("%s: key 'name': \"%s\" may hold only letters, digits, '_', '-' and '.', "
                         "and must not start with '.'", path, item->valuestring);
    memcpy(spec->name, item->valuestring, len + 1);
    return 0;
}

static int load_root(const cJSON *root, EnvSpec *spec, const char *path)
{
    if (read_kind(root, &spec->kind, path) || read_name(root, spec, path))
        return -1;
    const EnvKindRow *row = kind_row(spec->kind);
    if (!row->procedural &&
        (config_get_double(root, "gamma", 1, 0.0, 1.0, &spec->gamma, path) ||
         config_get_int(root, "max_steps", 1, 1, 10000000, &spec->max_steps, path)))
        return -1;
    return row->load(root, spec, path);
}

int env_load(const char *path, EnvSpec *spec)
{
    memset(spec, 0, sizeof *spec);
    if (strlen(path) >= sizeof spec->path)
        return lpg_error("%s: path too long", path);
    strcpy(spec->path, path);
    cJSON *root = config_parse_file(path);
    if (!root)
        return -1;
    int rc = load_root(root, spec, path);
    cJSON_Delete(root);
    return rc;
}

void env_batch_free(EnvBatch *batch)
{
    free(batch->obs_index);
    free(batch->obs);
    free(batch->reward);
    free(batch->done);
    free(batch->running_return);
    free(batch->rng);
    free(batch->agent_cell);
    free(batch->present);
    free(batch->object_cell);
    free(batch->steps);
    free(batch->move_target);
    free(batch->cell_object);
    free(batch->open_cells);
    free(batch->start_cells);
    free(batch->game_state);
    free(batch->layout);
    memset(batch, 0, sizeof *batch);
}

static int allocate_copies(EnvBatch *batch)
{
    const EnvSpec *spec = batch->spec;
    size_t n = (size_t)batch->n;
    if (spec->num_states > 0)
        batch->obs_index = lpg_calloc(n, sizeof *batch->obs_index, "environment observations");
    else
        batch->obs = lpg_calloc(n * (size_t)spec->obs_dim, sizeof *batch->obs,
                                "environment observations");
    batch->reward = lpg_calloc(n, sizeof *batch->reward, "environment rewards");
    batch->done = lpg_calloc(n, sizeof *batch->done, "environment done flags");
    batch->running_return = lpg_calloc(n, sizeof *batch->running_return, "environment returns");
    batch->rng = lpg_calloc(n, sizeof *batch->rng, "environment generators");
    batch->agent_cell = lpg_calloc(n, sizeof *batch->agent_cell, "environment positions");
    batch->present = lpg_calloc(n, sizeof *batch->present, "environment objects");
    batch->steps = lpg_calloc(n, sizeof *batch->steps, "environment step counts");
    int ok = (batch->obs_index || batch->obs) && batch->reward && batch->done &&
             batch->running_return && batch->rng && batch->agent_cell && batch->present &&
             batch->steps;
    return ok ? 0 : -1;
}

/* Draws what is fixed for the batch's lifetime, then one generator per copy. */
static void seed_batch(EnvBatch *batch, uint64_t seed)
{
    const EnvSpec *spec = batch->spec;
    Rng master;
    rng_seed(&master, seed, RNG_STREAM_ENV); /* the kind's draws, then every copy's generator */
    const EnvKindRow *row = kind_row(spec->kind);
    if (row->seed)
        row->seed(batch, &master);
    for (int i = 0; i < batch->n; i++)
        batch->rng[i] = rng_split(&master);
}

/* Starts a new episode in every copy (statistics are kept). */
static void env_batch_reset(EnvBatch *batch)
{
    const EnvKindRow *row = kind_row(batch->spec->kind); /* a procedural batch runs its layout */
    for (int i = 0; i < batch->n; i++) {
        row->reset_copy(batch, i);
        batch->reward[i] = 0;
        batch->done[i] = 0;
        batch->running_return[i] = 0;
    }
}

int env_batch_init(EnvBatch *batch, const EnvSpec *spec, int n, uint64_t seed)
{
    return env_batch_init_layout(batch, spec, n, seed, seed);
}

int env_batch_init_layout(EnvBatch *batch, const EnvSpec *spec, int n, uint64_t seed,
                          uint64_t layout_seed)
{
    memset(batch, 0, sizeof *batch);
    if (n < 1)
        return lpg_error("%s: a batch needs at least one copy, got %d", spec->path, n);
    batch->spec = spec;
    batch->n = n;
    if (kind_row(spec->kind)->procedural) {
        if (!(batch->layout = lpg_calloc(1, sizeof *batch->layout, "grid layout")))
            return -1;
        env_draw_layout(spec, layout_seed, batch->layout);
        batch->family = spec;
        batch->layout_seed = layout_seed;
        spec = batch->spec = batch->layout;
    }
    const EnvKindRow *row = kind_row(spec->kind);
    if (allocate_copies(batch) || (row->batch_init && row->batch_init(batch))) {
        env_batch_free(batch);
        return -1;
    }
    seed_batch(batch, seed);
    env_batch_reset(batch);
    return 0;
}

void env_batch_step(EnvBatch *batch, const int32_t *actions)
{
    kind_row(batch->spec->kind)->step(batch, actions);
}

void env_render(const EnvBatch *batch, int i, FILE *out)
{
    kind_row(batch->spec->kind)->render(batch, i, out);
}
