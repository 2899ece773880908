/* env_grid.c: the dynamics of the two grid worlds (the rules are at the top of env.c).
 *
 * Speed: a step is a few table lookups per copy. Moves go through a precomputed table (cell,
 * action) -> cell with walls and borders already applied; which object lies on a cell is a byte
 * map; which objects are present is a bit mask; probabilities are 32-bit thresholds compared
 * with one generator draw, and no draw is made for probabilities 0 or 1. Random grids keep their
 * observation planes up to date by writing only the cells that change. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "env_kinds.h"

static const int move_dx[9] = {0, 1, 0, -1, 1, 1, -1, -1, 0};
static const int move_dy[9] = {-1, 0, 1, 0, -1, 1, 1, -1, 0};

/* rng_u32() < threshold happens with probability p (for 0 < p < 1). Probabilities 0 and 1
 * take no draw; p = 1 still gets an in-range value (2^32 does not fit a uint32_t). */
static uint32_t probability_threshold(double p)
{
    if (p <= 0.0)
        return 0u;
    return p >= 1.0 ? UINT32_MAX : (uint32_t)(p * 4294967296.0);
}

static void build_moves(EnvBatch *batch)
{
    const EnvSpec *spec = batch->spec;
    int cells = spec->width * spec->height, actions = spec->num_actions;
    for (int c = 0; c < cells; c++)
        for (int a = 0; a < actions; a++) {
            int x = c % spec->width + move_dx[a], y = c / spec->width + move_dy[a];
            int to = y * spec->width + x;
            int blocked = x < 0 || x >= spec->width || y < 0 || y >= spec->height || spec->wall[to];
            batch->move_target[c * actions + a] = (int16_t)(blocked ? c : to);
        }
}

/* Open cells, and where episodes may start: tabular grids avoid the objects' cells. */
static void build_cell_lists(EnvBatch *batch)
{
    const EnvSpec *spec = batch->spec;
    int cells = spec->width * spec->height;
    for (int c = 0; c < cells; c++) {
        if (spec->wall[c])
            continue;
        batch->open_cells[batch->num_open_cells++] = (int16_t)c;
        int holds_object = spec->kind == ENV_TABULAR_GRID && batch->cell_object[c] >= 0;
        if (!holds_object)
            batch->start_cells[batch->num_start_cells++] = (int16_t)c;
    }
}

static void build_object_tables(EnvBatch *batch)
{
    const EnvSpec *spec = batch->spec;
    batch->all_objects = (uint32_t)((1ull << spec->num_objects) - 1);
    for (int j = 0; j < spec->num_objects; j++) {
        const ObjectType *type = &spec->type[spec->object_type[j]];
        uint32_t bit = 1u << j;
        batch->object_reward[j] = (real)type->reward;
        batch->end_threshold[j] = probability_threshold(type->p_end);
        batch->respawn_threshold[j] = probability_threshold(type->p_respawn);
        if (type->p_end >= 1.0)
            batch->end_always |= bit;
        else if (type->p_end > 0.0)
            batch->end_sometimes |= bit;
        if (type->p_respawn >= 1.0)
            batch->respawn_always |= bit;
        else if (type->p_respawn > 0.0)
            batch->respawn_sometimes |= bit;
        if (spec->kind == ENV_TABULAR_GRID)
            batch->cell_object[spec->object_cell[j]] = (int8_t)j;
    }
}

int grid_batch_init(EnvBatch *batch)
{
    const EnvSpec *spec = batch->spec;
    size_t cells = (size_t)spec->width * (size_t)spec->height;
    size_t maps = spec->kind == ENV_RANDOM_GRID ? (size_t)batch->n : 1;
    batch->move_target = lpg_calloc(cells * (size_t)spec->num_actions,
                                    sizeof *batch->move_target, "grid move table");
    batch->cell_object = lpg_calloc(cells * maps, sizeof *batch->cell_object, "grid object map");
    batch->open_cells = lpg_calloc(cells, sizeof *batch->open_cells, "grid open cells");
    batch->start_cells = lpg_calloc(cells, sizeof *batch->start_cells, "grid start cells");
    if (spec->kind == ENV_RANDOM_GRID) /* objects drawn per episode, so per copy */
        batch->object_cell = lpg_calloc((size_t)batch->n * ENV_MAX_OBJECTS,
                                        sizeof *batch->object_cell, "environment object cells");
    if (!batch->move_target || !batch->cell_object || !batch->open_cells || !batch->start_cells ||
        (spec->kind == ENV_RANDOM_GRID && !batch->object_cell))
        return -1;
    memset(batch->cell_object, -1, cells * maps);
    build_moves(batch);
    build_object_tables(batch);
    build_cell_lists(batch);
    return 0;
}

static int draw_start_cell(const EnvBatch *batch, Rng *rng)
{
    int start = batch->spec->start_cell;
    if (start >= 0)
        return start;
    return batch->start_cells[rng_below(rng, (uint32_t)batch->num_start_cells)];
}

static int ends_episode(const EnvBatch *batch, Rng *rng, int j)
{
    uint32_t bit = 1u << j;
    if (batch->end_always & bit)
        return 1;
    return (batch->end_sometimes & bit) && rng_u32(rng) < batch->end_threshold[j];
}

/* Which of the objects in `away` reappear at this step. */
static uint32_t draw_respawns(const EnvBatch *batch, Rng *rng, uint32_t away)
{
    uint32_t back = away & batch->respawn_always;
    for (uint32_t m = away & batch->respawn_sometimes; m; m &= m - 1) {
        int j = __builtin_ctz(m);
        if (rng_u32(rng) < batch->respawn_threshold[j])
            back |= 1u << j;
    }
    return back;
}

/* ---- tabular grid: objects at fixed cells, the state index as observation ---- */

void tabular_grid_reset_copy(EnvBatch *batch, int i)
{
    int cell = draw_start_cell(batch, &batch->rng[i]);
    batch->agent_cell[i] = cell;
    batch->present[i] = batch->all_objects;
    batch->steps[i] = 0;
    batch->obs_index[i] = (int32_t)(((uint32_t)cell << batch->spec->num_objects) |
                                    batch->all_objects);
}

void tabular_grid_step(EnvBatch *batch, const int32_t *actions)
{
    const EnvSpec *spec = batch->spec;
    const int num_actions = spec->num_actions, shift = spec->num_objects;
    const int max_steps = spec->max_steps;
    for (int i = 0; i < batch->n; i++) {
        assert(actions[i] >= 0 && actions[i] < num_actions);
        Rng rng = batch->rng[i];
        int cell = batch->move_target[batch->agent_cell[i] * num_actions + actions[i]];
        uint32_t present = batch->present[i];
        uint32_t away = batch->all_objects & ~present; /* collected at earlier steps */
        real reward = 0;
        int done = 0;
        int j = batch->cell_object[cell];
        if (j >= 0 && ((present >> j) & 1u)) {
            present &= ~(1u << j);
            reward = batch->object_reward[j];
            done = ends_episode(batch, &rng, j);
        }
        if (away && !done)
            present |= draw_respawns(batch, &rng, away);
        batch->agent_cell[i] = cell;
        batch->present[i] = present;
        batch->rng[i] = rng;
        if (++batch->steps[i] >= max_steps)
            done = 1;
        if (env_record_step(batch, i, reward, done))
            tabular_grid_reset_copy(batch, i);
        else
            batch->obs_index[i] = (int32_t)(((uint32_t)cell << shift) | present);
    }
}

/* ---- random grid: objects drawn on free cells, binary planes as observation ---- */

/* A uniformly drawn cell that is open, not the agent's and holds no object. Validation
 * guarantees one exists; rejection is fast on our sparse grids, counting is the fallback. */
static int draw_free_cell(const EnvBatch *batch, Rng *rng, const int8_t *cell_object, int agent)
{
    uint32_t open = (uint32_t)batch->num_open_cells;
    for (int tries = 0; tries < 32; tries++) {
        int c = batch->open_cells[rng_below(rng, open)];
        if (cell_object[c] < 0 && c != agent)
            return c;
    }
    uint32_t free_cells = 0;
    for (uint32_t k = 0; k < open; k++) {
        int c = batch->open_cells[k];
        free_cells += cell_object[c] < 0 && c != agent;
    }
    uint32_t pick = rng_below(rng, free_cells);
    for (uint32_t k = 0; k < open; k++) {
        int c = batch->open_cells[k];
        if (cell_object[c] < 0 && c != agent && pick-- == 0)
            return c;
    }
    return -1; /* unreachable when the spec was validated */
}

/* Puts object j of copy i on a free cell and marks it in the observation. */
static void place_object(EnvBatch *batch, int i, Rng *rng, int j)
{
    const EnvSpec *spec = batch->spec;
    int cells = spec->width * spec->height;
    int8_t *cell_object = batch->cell_object + (size_t)i * cells;
    int c = draw_free_cell(batch, rng, cell_object, batch->agent_cell[i]);
    cell_object[c] = (int8_t)j;
    batch->object_cell[i * ENV_MAX_OBJECTS + j] = c;
    batch->obs[(size_t)i * spec->obs_dim + spec->object_type[j] * cells + c] = 1;
}

void random_grid_reset_copy(EnvBatch *batch, int i)
{
    const EnvSpec *spec = batch->spec;
    int cells = spec->width * spec->height, agent_plane = spec->num_types * cells;
    real *obs = batch->obs + (size_t)i * spec->obs_dim;
    int8_t *cell_object = batch->cell_object + (size_t)i * cells;
    /* Erase the last episode's marks (a fresh batch has none: agent_cell and present are 0). */
    obs[agent_plane + batch->agent_cell[i]] = 0;
    for (uint32_t m = batch->present[i]; m; m &= m - 1) {
        int j = __builtin_ctz(m);
        int c = batch->object_cell[i * ENV_MAX_OBJECTS + j];
        cell_object[c] = -1;
        obs[spec->object_type[j] * cells + c] = 0;
    }
    Rng rng = batch->rng[i];
    int agent = draw_start_cell(batch, &rng);
    batch->agent_cell[i] = agent;
    obs[agent_plane + agent] = 1;
    for (int j = 0; j < spec->num_objects; j++)
        place_object(batch, i, &rng, j);
    batch->rng[i] = rng;
    batch->present[i] = batch->all_objects;
    batch->steps[i] = 0;
}

void random_grid_step(EnvBatch *batch, const int32_t *actions)
{
    const EnvSpec *spec = batch->spec;
    const int num_actions = spec->num_actions, cells = spec->width * spec->height;
    const int agent_plane = spec->num_types * cells, max_steps = spec->max_steps;
    for (int i = 0; i < batch->n; i++) {
        assert(actions[i] >= 0 && actions[i] < num_actions);
        real *obs = batch->obs + (size_t)i * spec->obs_dim;
        int8_t *cell_object = batch->cell_object + (size_t)i * cells;
        int from = batch->agent_cell[i];
        int cell = batch->move_target[from * num_actions + actions[i]];
        obs[agent_plane + from] = 0;
        obs[agent_plane + cell] = 1;
        batch->agent_cell[i] = cell;
        Rng rng = batch->rng[i];
        uint32_t present = batch->present[i];
        uint32_t away = batch->all_objects & ~present;
        real reward = 0;
        int done = 0;
        int j = cell_object[cell]; /* only present objects are on the map */
        if (j >= 0) {
            present &= ~(1u << j);
            cell_object[cell] = -1;
            obs[spec->object_type[j] * cells + cell] = 0;
            reward = batch->object_reward[j];
            done = ends_episode(batch, &rng, j);
        }
        if (away && !done) {
            uint32_t back = draw_respawns(batch, &rng, away);
            present |= back;
            for (; back; back &= back - 1)
                place_object(batch, i, &rng, __builtin_ctz(back));
        }
        batch->present[i] = present;
        batch->rng[i] = rng;
        if (++batch->steps[i] >= max_steps)
            done = 1;
        if (env_record_step(batch, i, reward, done))
            random_grid_reset_copy(batch, i);
    }
}

/* ---- text ---- */

static char cell_char(const EnvBatch *batch, int i, int c)
{
    const EnvSpec *spec = batch->spec;
    if (spec->wall[c])
        return '#';
    if (c == batch->agent_cell[i])
        return 'A';
    int cells = spec->width * spec->height;
    int j = spec->kind == ENV_RANDOM_GRID ? batch->cell_object[(size_t)i * cells + c]
                                          : batch->cell_object[c];
    if (j >= 0 && ((batch->present[i] >> j) & 1u))
        return (char)('a' + spec->object_type[j]);
    return '.';
}

void grid_render(const EnvBatch *batch, int i, FILE *out)
{
    const EnvSpec *spec = batch->spec;
    for (int y = 0; y < spec->height; y++) {
        char line[ENV_MAX_SIDE + 2];
        for (int x = 0; x < spec->width; x++)
            line[x] = cell_char(batch, i, y * spec->width + x);
        line[spec->width] = '\n';
        line[spec->width + 1] = '\0';
        fputs(line, out);
    }
    fprintf(out, "step %d of %d, return so far %g\n", batch->steps[i], spec->max_steps,
            batch->running_return[i]);
}
