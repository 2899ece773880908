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

const char *env_kind_name(EnvKind kind)
{
    switch (kind) {
    case ENV_TABULAR_GRID: return "tabular_grid";
    case ENV_RANDOM_GRID: return "random_grid";
    case ENV_CHAIN: return "chain";
    case ENV_MINATAR: return "minatar";
    case ENV_PROCEDURAL_GRID: return "procedural_grid";
    case ENV_PROCEDURAL_RANDOM_GRID: return "procedural_random_grid";
    }
    return "?";
}

const char *env_action_name(const EnvSpec *spec, int action)
{
    static const char *const grid_names[9] = {"up",         "right",     "down",
                                              "left",       "up-right",  "down-right",
                                              "down-left",  "up-left",   "stay"};
    static const char *const chain_names[2] = {"0", "1"};
    static const char *const minatar_names[6] = {"no-op", "left", "up", "right", "down", "fire"};
    if (action < 0 || action >= spec->num_actions)
        return "?";
    if (spec->kind == ENV_MINATAR)
        return minatar_names[action];
    return spec->kind == ENV_CHAIN ? chain_names[action] : grid_names[action];
}

static int read_kind(const cJSON *root, EnvKind *kind, const char *path)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, "kind");
    if (!item)
        return lpg_error("%s: missing required key 'kind'", path);
    if (!cJSON_IsString(item))
        return lpg_error("%s: key 'kind': expected a string", path);
    const EnvKind kinds[] = {ENV_TABULAR_GRID, ENV_RANDOM_GRID, ENV_CHAIN, ENV_MINATAR,
                             ENV_PROCEDURAL_GRID, ENV_PROCEDURAL_RANDOM_GRID};
    for (int k = 0; k < (int)(sizeof kinds / sizeof kinds[0]); k++)
        if (strcmp(item->valuestring, env_kind_name(kinds[k])) == 0) {
            *kind = kinds[k];
            return 0;
        }
    return lpg_error("%s: key 'kind': unknown kind '%s' (expected tabular_grid, random_grid, "
                     "chain, minatar, procedural_grid or procedural_random_grid)", path,
                     item->valuestring);
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
    if (spec->kind == ENV_PROCEDURAL_GRID || spec->kind == ENV_PROCEDURAL_RANDOM_GRID)
        return procgrid_load(root, spec, path);
    if (config_get_double(root, "gamma", 1, 0.0, 1.0, &spec->gamma, path) ||
        config_get_int(root, "max_steps", 1, 1, 10000000, &spec->max_steps, path))
        return -1;
    switch (spec->kind) {
    case ENV_CHAIN: return chain_load(root, spec, path);
    case ENV_MINATAR: return minatar_load(root, spec, path);
    default: return grid_load(root, spec, path);
    }
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
    if (ok && spec->kind == ENV_RANDOM_GRID) {
        batch->object_cell = lpg_calloc(n * ENV_MAX_OBJECTS, sizeof *batch->object_cell,
                                        "environment object cells");
        ok = batch->object_cell != NULL;
    }
    return ok ? 0 : -1;
}

/* Draws what is fixed for the batch's lifetime, then one generator per copy. */
static void seed_batch(EnvBatch *batch, uint64_t seed)
{
    const EnvSpec *spec = batch->spec;
    Rng master;
    rng_seed(&master, seed, RNG_STREAM_ENV); /* draws L, the good action, every copy's generator */
    if (spec->kind == ENV_CHAIN) {
        uint32_t span = (uint32_t)(spec->length_max - spec->length_min + 1);
        batch->chain_length = spec->length_min + (int)rng_below(&master, span);
        batch->chain_good_action = (int)rng_below(&master, 2);
    }
    for (int i = 0; i < batch->n; i++)
        batch->rng[i] = rng_split(&master);
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
    if (spec->kind == ENV_PROCEDURAL_GRID || spec->kind == ENV_PROCEDURAL_RANDOM_GRID) {
        if (!(batch->layout = lpg_calloc(1, sizeof *batch->layout, "grid layout")))
            return -1;
        env_draw_layout(spec, layout_seed, batch->layout);
        batch->family = spec;
        batch->layout_seed = layout_seed;
        spec = batch->spec = batch->layout;
    }
    int is_grid = spec->kind == ENV_TABULAR_GRID || spec->kind == ENV_RANDOM_GRID;
    if (allocate_copies(batch) || (is_grid && grid_batch_init(batch)) ||
        (spec->kind == ENV_MINATAR && minatar_batch_init(batch))) {
        env_batch_free(batch);
        return -1;
    }
    seed_batch(batch, seed);
    env_batch_reset(batch);
    return 0;
}

void env_batch_reset(EnvBatch *batch)
{
    for (int i = 0; i < batch->n; i++) {
        switch (batch->spec->kind) {
        case ENV_TABULAR_GRID: tabular_grid_reset_copy(batch, i); break;
        case ENV_RANDOM_GRID: random_grid_reset_copy(batch, i); break;
        case ENV_CHAIN: chain_reset_copy(batch, i); break;
        case ENV_MINATAR: minatar_reset_copy(batch, i); break;
        case ENV_PROCEDURAL_GRID: case ENV_PROCEDURAL_RANDOM_GRID: break; /* runs its layout */
        }
        batch->reward[i] = 0;
        batch->done[i] = 0;
        batch->running_return[i] = 0;
    }
}

void env_batch_step(EnvBatch *batch, const int32_t *actions)
{
    switch (batch->spec->kind) {
    case ENV_TABULAR_GRID: tabular_grid_step(batch, actions); break;
    case ENV_RANDOM_GRID: random_grid_step(batch, actions); break;
    case ENV_CHAIN: chain_step(batch, actions); break;
    case ENV_MINATAR: minatar_step(batch, actions); break;
    case ENV_PROCEDURAL_GRID: case ENV_PROCEDURAL_RANDOM_GRID: break; /* runs its layout */
    }
}

void env_render(const EnvBatch *batch, int i, FILE *out)
{
    if (batch->spec->kind == ENV_CHAIN)
        chain_render(batch, i, out);
    else if (batch->spec->kind == ENV_MINATAR)
        minatar_render(batch, i, out);
    else
        grid_render(batch, i, out);
}
