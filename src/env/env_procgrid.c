/* env_procgrid.c: procedural grid worlds. A file of kind "procedural_grid" (tabular agent) or
 * "procedural_random_grid" (MLP agent, objects redrawn every episode) describes a distribution
 * of grid worlds; every batch (every lifetime) draws one layout from it with its own seed and
 * then runs as a tabular or random grid of that layout. Sizes the agent sees are padded to the
 * largest layout the ranges allow, so one agent shape fits every draw.
 *
 * Keys (all optional but name, kind and gamma; each range a list [lo, hi] with lo <= hi):
 *   "width", "height": integers, uniform (default [4, 10]; 2..32);
 *   "object_types": how many types, one object each, uniform (default [1, 5]; 1..8);
 *   "reward": each type's reward, uniform (default [-1, 1]); the first type's is uniform in
 *             [max(lo, 0), hi], so every layout has something worth collecting;
 *   "p_end": log-uniform (default [0.01, 1]; > 0);
 *   "p_respawn": log-uniform (default [0.001, 0.1]; > 0);
 *   "walls": how many wall cells to try, uniform (default [0, 15]); a wall is kept only when
 *            every free cell stays reachable (4-neighbour moves) and the objects and the agent
 *            still fit, so a layout has at most that many;
 *   "max_steps": episode step limit, log-uniform integer (default [20, 750]);
 *   "moves": 4 or 9 (default 9).
 * The start cell is a free cell without an object, drawn with the layout. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "env_kinds.h"

/* Stream of a layout's generator, apart from the batch's other streams. */
#define LAYOUT_STREAM 0x6c61796f7574ULL

static const char *const procgrid_keys[] = {"name", "kind", "gamma", "width", "height",
                                            "object_types", "reward", "p_end", "p_respawn",
                                            "walls", "max_steps", "moves", NULL};

/* The default ranges of procedural grids. */
static void procgrid_defaults(EnvProcRanges *r)
{
    r->width[0] = r->height[0] = 4, r->width[1] = r->height[1] = 10;
    r->types[0] = 1, r->types[1] = 5;
    r->reward[0] = -1, r->reward[1] = 1;
    r->p_end[0] = 0.01, r->p_end[1] = 1;
    r->p_respawn[0] = 0.001, r->p_respawn[1] = 0.1;
    r->walls[0] = 0, r->walls[1] = 15;
    r->max_steps[0] = 20, r->max_steps[1] = 750;
}

/* Reads "key": [lo, hi] into out when present: numbers within [min, max], integers when
 * integer is set, lo <= hi, and lo > 0 when log is set. */
static int read_range(const cJSON *root, const char *key, double min, double max, int integer,
                      int log, double out[2], const char *path)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!item)
        return 0;
    if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) != 2 || !cJSON_IsNumber(item->child) ||
        !cJSON_IsNumber(item->child->next))
        return lpg_error("%s: key '%s': expected a range [lo, hi] of two numbers", path, key);
    double lo = item->child->valuedouble, hi = item->child->next->valuedouble;
    if (integer && (lo != floor(lo) || hi != floor(hi)))
        return lpg_error("%s: key '%s': expected integers, got [%g, %g]", path, key, lo, hi);
    if (lo < min || hi > max)
        return lpg_error("%s: key '%s': range [%g, %g] is outside [%g, %g]", path, key, lo, hi,
                         min, max);
    if (lo > hi)
        return lpg_error("%s: key '%s': range [%g, %g] is inverted (lo > hi)", path, key, lo, hi);
    if (log && lo <= 0)
        return lpg_error("%s: key '%s': range [%g, %g] is empty for a log-uniform draw (lo must "
                         "be > 0)", path, key, lo, hi);
    out[0] = lo, out[1] = hi;
    return 0;
}

static int read_int_range(const cJSON *root, const char *key, int min, int max, int out[2],
                          const char *path)
{
    double r[2] = {out[0], out[1]};
    if (read_range(root, key, min, max, 1, 0, r, path))
        return -1;
    out[0] = (int)r[0], out[1] = (int)r[1];
    return 0;
}

/* The agent's sizes for the largest layout the ranges allow. */
static int pad_sizes(EnvSpec *spec, const char *path)
{
    const EnvProcRanges *r = &spec->proc;
    int cells = r->width[1] * r->height[1];
    spec->num_actions = spec->moves;
    if (spec->kind == ENV_PROCEDURAL_RANDOM_GRID) {
        spec->obs_dim = (r->types[1] + 1) * cells;
        return 0;
    }
    long long states = (long long)cells << r->types[1];
    if (states > ENV_MAX_TABULAR_STATES)
        return lpg_error("%s: key 'object_types': %d cells x 2^%d object states = %lld states, "
                         "more than %d", path, cells, r->types[1], states, ENV_MAX_TABULAR_STATES);
    spec->num_states = (int)states;
    return 0;
}

int procgrid_load(const cJSON *root, EnvSpec *spec, const char *path)
{
    EnvProcRanges *r = &spec->proc;
    procgrid_defaults(r);
    spec->moves = 9;
    double max_steps[2] = {r->max_steps[0], r->max_steps[1]};
    if (config_check_keys(root, procgrid_keys, path) ||
        config_get_double(root, "gamma", 1, 0.0, 1.0, &spec->gamma, path) ||
        config_get_int(root, "moves", 0, 4, 9, &spec->moves, path) ||
        read_int_range(root, "width", 2, ENV_MAX_SIDE, r->width, path) ||
        read_int_range(root, "height", 2, ENV_MAX_SIDE, r->height, path) ||
        read_int_range(root, "object_types", 1, ENV_MAX_TYPES, r->types, path) ||
        read_range(root, "reward", -100, 100, 0, 0, r->reward, path) ||
        read_range(root, "p_end", 0, 1, 0, 1, r->p_end, path) ||
        read_range(root, "p_respawn", 0, 1, 0, 1, r->p_respawn, path) ||
        read_int_range(root, "walls", 0, ENV_MAX_CELLS, r->walls, path) ||
        read_range(root, "max_steps", 1, 10000000, 1, 1, max_steps, path))
        return -1;
    if (spec->moves != 4 && spec->moves != 9)
        return lpg_error("%s: key 'moves': expected 4 or 9, got %d", path, spec->moves);
    if (r->reward[1] < 0)
        return lpg_error("%s: key 'reward': range [%g, %g] leaves the first object type's "
                         "[max(lo, 0), hi] empty (hi must be >= 0)", path, r->reward[0],
                         r->reward[1]);
    if (r->width[0] * r->height[0] < r->types[1] + 1)
        return lpg_error("%s: key 'object_types': up to %d objects and the agent do not fit on "
                         "the smallest %dx%d grid", path, r->types[1], r->width[0], r->height[0]);
    r->max_steps[0] = (int)max_steps[0], r->max_steps[1] = (int)max_steps[1];
    spec->max_steps = r->max_steps[1];
    return pad_sizes(spec, path);
}

/* ---- the draw ------------------------------------------------------------------------- */

static int uniform_int(Rng *rng, const int range[2])
{
    return range[0] + (int)rng_below(rng, (uint32_t)(range[1] - range[0] + 1));
}

static double uniform(Rng *rng, double lo, double hi)
{
    return lo + (hi - lo) * rng_uniform_double(rng);
}

/* exp of a uniform draw between the logs, clamped: exp(log(x)) may miss x by a rounding. */
static double log_uniform(Rng *rng, const double range[2])
{
    double x = exp(uniform(rng, log(range[0]), log(range[1])));
    return x < range[0] ? range[0] : x > range[1] ? range[1] : x;
}

/* Counts the open cells reachable from the first open one by 4-neighbour moves. */
static int reachable_cells(const EnvSpec *s)
{
    int cells = s->width * s->height, first = 0;
    while (first < cells && s->wall[first])
        first++;
    if (first == cells)
        return 0;
    int16_t queue[ENV_MAX_CELLS];
    uint8_t seen[ENV_MAX_CELLS] = {0};
    int head = 0, tail = 0;
    queue[tail++] = (int16_t)first;
    seen[first] = 1;
    while (head < tail) {
        int c = queue[head++], x = c % s->width, y = c / s->width;
        int next[4] = {y > 0 ? c - s->width : -1, x + 1 < s->width ? c + 1 : -1,
                       y + 1 < s->height ? c + s->width : -1, x > 0 ? c - 1 : -1};
        for (int k = 0; k < 4; k++)
            if (next[k] >= 0 && !s->wall[next[k]] && !seen[next[k]]) {
                seen[next[k]] = 1;
                queue[tail++] = (int16_t)next[k];
            }
    }
    return tail;
}

/* The index of a uniformly drawn cell among those with wall == 0 and no mark in taken. */
static int draw_open_cell(Rng *rng, const EnvSpec *s, const uint8_t *taken, int count)
{
    int pick = (int)rng_below(rng, (uint32_t)count);
    for (int c = 0; c < s->width * s->height; c++)
        if (!s->wall[c] && !taken[c] && pick-- == 0)
            return c;
    return -1; /* unreachable: count is the number of such cells */
}

/* Tries `tries` walls one at a time, keeping each that leaves the open cells connected and
 * room for the objects and the agent. */
static void draw_walls(Rng *rng, EnvSpec *s, int tries, int objects)
{
    uint8_t none[ENV_MAX_CELLS] = {0};
    int open = s->width * s->height;
    for (int t = 0; t < tries && open > objects + 1; t++) {
        int c = draw_open_cell(rng, s, none, open);
        s->wall[c] = 1;
        if (reachable_cells(s) == open - 1)
            open--;
        else
            s->wall[c] = 0;
    }
}

static void draw_types(Rng *rng, const EnvProcRanges *r, EnvSpec *s)
{
    s->num_types = uniform_int(rng, r->types);
    for (int t = 0; t < s->num_types; t++) {
        ObjectType *type = &s->type[t];
        double lo = t == 0 && r->reward[0] < 0 ? 0 : r->reward[0];
        type->reward = uniform(rng, lo, r->reward[1]);
        type->p_end = log_uniform(rng, r->p_end);
        type->p_respawn = log_uniform(rng, r->p_respawn);
    }
}

/* One object per type on distinct open cells, then the start cell on another. */
static void draw_places(Rng *rng, EnvSpec *s)
{
    uint8_t taken[ENV_MAX_CELLS] = {0};
    int open = 0;
    for (int c = 0; c < s->width * s->height; c++)
        open += !s->wall[c];
    s->num_objects = s->num_types;
    for (int j = 0; j < s->num_objects; j++) {
        int c = draw_open_cell(rng, s, taken, open - j);
        s->object_type[j] = j;
        s->object_cell[j] = c;
        taken[c] = 1;
    }
    s->start_cell = draw_open_cell(rng, s, taken, open - s->num_objects);
    if (s->kind == ENV_RANDOM_GRID)
        for (int j = 0; j < s->num_objects; j++)
            s->object_cell[j] = -1; /* drawn every episode */
}

void env_draw_layout(const EnvSpec *family, uint64_t seed, EnvSpec *layout)
{
    const EnvProcRanges *r = &family->proc;
    Rng rng;
    rng_seed(&rng, seed, LAYOUT_STREAM);
    *layout = *family;
    memset(layout->wall, 0, sizeof layout->wall);
    layout->kind = family->kind == ENV_PROCEDURAL_GRID ? ENV_TABULAR_GRID : ENV_RANDOM_GRID;
    layout->width = uniform_int(&rng, r->width);
    layout->height = uniform_int(&rng, r->height);
    draw_types(&rng, r, layout);
    draw_walls(&rng, layout, uniform_int(&rng, r->walls), layout->num_types);
    draw_places(&rng, layout);
    double steps[2] = {r->max_steps[0], r->max_steps[1] + 1.0};
    int limit = (int)floor(log_uniform(&rng, steps));
    layout->max_steps = limit > r->max_steps[1] ? r->max_steps[1] : limit;
}
