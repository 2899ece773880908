/* env_state.c: saving and restoring an EnvBatch's mutable state byte for byte, so that a
 * resumed meta-training run steps its environments exactly as an uninterrupted one would.
 * MinAtar batches add their per-copy game states. The derived tables (moves, thresholds) are
 * rebuilt by env_batch_init from the spec.
 *
 * A restored state is checked against the spec before it is used: positions on open cells,
 * object masks within the spec's objects, observations equal to what the state implies, step
 * counts below the episode limit, finite rewards. The step functions index tables with these
 * values and trust them, so a crafted checkpoint must be refused here. Reals (observations,
 * rewards) are stored in the writer's precision and converted on load. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "env_state.h"
#include "env_minatar.h"
#include "util.h"

typedef struct {
    void *ptr;
    size_t count; /* elements */
    size_t size;  /* bytes per element in memory */
    int is_real;  /* stored in the file's precision */
} Part;

#define STATE_PARTS_MAX 20

/* The mutable arrays and scalars of a batch, in a fixed order; returns how many parts. */
static int state_parts(const EnvBatch *b, Part *parts)
{
    const EnvSpec *s = b->spec;
    size_t n = (size_t)b->n;
    size_t cells = (size_t)s->width * (size_t)s->height;
    int k = 0;
#define PART(p, cnt, real_part)                                                               \
    parts[k++] = (Part){(void *)(p), (p) ? (size_t)(cnt) : 0, sizeof *(p), real_part}
    PART(b->obs_index, n, 0);
    PART(b->obs, n * (size_t)(s->obs_dim > 0 ? s->obs_dim : 0), 1);
    PART(b->reward, n, 1);
    PART(b->done, n, 0);
    PART(b->running_return, n, 0);
    PART(b->rng, n, 0);
    PART(b->agent_cell, n, 0);
    PART(b->present, n, 0);
    PART(b->object_cell, n * ENV_MAX_OBJECTS, 0);
    PART(b->steps, n, 0);
    PART(b->cell_object, s->kind == ENV_RANDOM_GRID ? n * cells : 0, 0);
    PART(b->game_state, b->game_state_bytes, 0);
    PART(&b->episodes_done, 1, 0);
    PART(&b->returns_done_sum, 1, 0);
    PART(&b->chain_length, 1, 0);
    PART(&b->chain_good_action, 1, 0);
#undef PART
    return k;
}

/* Bytes of a part in a file whose reals are real_size bytes. */
static size_t stored_bytes(const Part *p, size_t real_size)
{
    return p->count * (p->is_real ? real_size : p->size);
}

static size_t total_bytes(const Part *parts, int count, size_t real_size)
{
    size_t total = 0;
    for (int i = 0; i < count; i++)
        total += stored_bytes(&parts[i], real_size);
    return total;
}

/* The section holding a procedural batch's layout seed: "<name>_layout". */
static int layout_section(char *out, const char *name)
{
    int len = snprintf(out, CHECKPOINT_NAME_MAX, "%s_layout", name);
    return (len < 0 || len >= CHECKPOINT_NAME_MAX)
               ? lpg_error("section name %s_layout too long", name) : 0;
}

/* Saves the seed a procedural batch drew its layout from (the layout itself is redrawn). */
static int save_layout(const EnvBatch *batch, CheckpointWriter *writer, const char *name)
{
    char section[CHECKPOINT_NAME_MAX];
    int64_t seed = (int64_t)batch->layout_seed;
    if (!batch->family)
        return 0;
    return layout_section(section, name) || checkpoint_add_int64(writer, section, &seed, 1);
}

/* Makes a procedural batch run the layout the checkpoint drew: when its seed differs from the
 * batch's, the batch is made again for that seed (its other state is restored afterwards). Any
 * seed is a valid layout. */
static int load_layout(EnvBatch *batch, const Checkpoint *ck, const char *name)
{
    char section[CHECKPOINT_NAME_MAX];
    int64_t seed;
    if (!batch->family)
        return 0;
    if (layout_section(section, name) || checkpoint_get_int64(ck, section, &seed, 1))
        return -1;
    if ((uint64_t)seed == batch->layout_seed)
        return 0;
    const EnvSpec *family = batch->family;
    int n = batch->n;
    env_batch_free(batch);
    return env_batch_init(batch, family, n, (uint64_t)seed);
}

int env_batch_save_state(const EnvBatch *batch, CheckpointWriter *writer, const char *name)
{
    if (save_layout(batch, writer, name))
        return -1;
    Part parts[STATE_PARTS_MAX];
    int count = state_parts(batch, parts);
    size_t total = total_bytes(parts, count, sizeof(real));
    unsigned char *buf = lpg_calloc(total, 1, "environment state");
    if (!buf)
        return -1;
    size_t at = 0;
    for (int i = 0; i < count; i++) {
        size_t bytes = stored_bytes(&parts[i], sizeof(real));
        if (bytes)
            memcpy(buf + at, parts[i].ptr, bytes);
        at += bytes;
    }
    int rc = checkpoint_add_bytes(writer, name, buf, total);
    free(buf);
    return rc;
}

/* Copies one part out of the stored bytes, converting reals from the file's precision. */
static void restore_part(const Part *p, const unsigned char *src, size_t real_size)
{
    if (p->count == 0)
        return;
    if (!p->is_real || real_size == sizeof(real)) {
        memcpy(p->ptr, src, stored_bytes(p, real_size));
        return;
    }
    real *out = p->ptr;
    for (size_t i = 0; i < p->count; i++) {
        if (real_size == 4) {
            float f;
            memcpy(&f, src + 4 * i, 4);
            out[i] = (real)f;
        } else {
            double d;
            memcpy(&d, src + 8 * i, 8);
            /* a double beyond float range is not converted; it fails the checks below */
            out[i] = fabs(d) <= 3.0e38 ? (real)d : (real)NAN;
        }
    }
}

/* ---- checks: each returns NULL when copy i is consistent, else what is wrong ---- */

static int on_open_cell(const EnvSpec *s, int32_t cell)
{
    return cell >= 0 && cell < s->width * s->height && !s->wall[cell];
}

static const char *check_tabular_grid(const EnvBatch *b, int i)
{
    const EnvSpec *s = b->spec;
    if (!on_open_cell(s, b->agent_cell[i]))
        return "the agent is not on an open cell";
    if (b->present[i] & ~b->all_objects)
        return "the object mask names objects the environment lacks";
    int32_t index = (int32_t)(((uint32_t)b->agent_cell[i] << s->num_objects) | b->present[i]);
    if (b->obs_index[i] != index)
        return "the observation index does not match the agent's cell and objects";
    return NULL;
}

/* Random grids: the object map and the observation planes must be what the positions imply. */
static const char *check_random_grid(const EnvBatch *b, int i)
{
    const EnvSpec *s = b->spec;
    int cells = s->width * s->height, agent = b->agent_cell[i];
    if (!on_open_cell(s, agent))
        return "the agent is not on an open cell";
    if (b->present[i] & ~b->all_objects)
        return "the object mask names objects the environment lacks";
    const int32_t *where = b->object_cell + (size_t)i * ENV_MAX_OBJECTS;
    const int8_t *map = b->cell_object + (size_t)i * (size_t)cells;
    const real *obs = b->obs + (size_t)i * (size_t)s->obs_dim;
    int on_map = 0;
    for (int j = 0; j < s->num_objects; j++) {
        if (where[j] < 0 || where[j] >= cells)
            return "an object lies outside the grid";
        if (!((b->present[i] >> j) & 1u))
            continue;
        if (!on_open_cell(s, where[j]) || where[j] == agent || map[where[j]] != j)
            return "a present object is not where the object map says";
        on_map++;
    }
    for (int c = 0; c < cells; c++) {
        if (map[c] < -1 || map[c] >= s->num_objects)
            return "the object map holds an invalid entry";
        if (map[c] >= 0)
            on_map--;
        for (int t = 0; t <= s->num_types; t++) {
            int j = map[c];
            real want = t == s->num_types ? (real)(c == agent)
                                          : (real)(j >= 0 && s->object_type[j] == t);
            if (obs[t * cells + c] != want)
                return "the observation does not match the grid";
        }
    }
    return on_map == 0 ? NULL : "the object map holds objects that are not present";
}

static const char *check_chain(const EnvBatch *b, int i)
{
    const EnvSpec *s = b->spec;
    int position = b->agent_cell[i];
    uint32_t branch = b->present[i];
    if (position < 0 || position >= b->chain_length)
        return "the position is outside the chain";
    if (branch > 1)
        return "the branch is not 0 or 1";
    if (s->num_states > 0) {
        int32_t index = position == 0 ? 0 : 1 + 2 * (position - 1) + (int32_t)branch;
        return b->obs_index[i] == index ? NULL : "the observation index does not match the position";
    }
    const real *obs = b->obs + (size_t)i * (size_t)s->obs_dim;
    if (obs[0] != (real)(position > 0 && branch == 0) || obs[1] != (real)(position > 0 && branch == 1))
        return "the observation does not match the branch";
    for (int k = 2; k < s->obs_dim; k++)
        if (obs[k] != 0 && obs[k] != 1)
            return "a distraction bit is not 0 or 1";
    return NULL;
}

/* What every kind shares: step counts, flags, rewards, generators. */
static const char *check_copy_common(const EnvBatch *b, int i)
{
    if (b->steps[i] < 0 || b->steps[i] >= b->spec->max_steps)
        return "the step count is outside [0, max_steps)";
    if (b->done[i] > 1)
        return "the done flag is not 0 or 1";
    if (!isfinite(b->reward[i]) || !isfinite(b->running_return[i]))
        return "a reward is not finite";
    if ((b->rng[i].inc & 1u) == 0)
        return "the generator's stream selector is even";
    return NULL;
}

static const char *check_copy(const EnvBatch *b, int i)
{
    const char *why = check_copy_common(b, i);
    if (why)
        return why;
    switch (b->spec->kind) {
    case ENV_TABULAR_GRID: return check_tabular_grid(b, i);
    case ENV_RANDOM_GRID: return check_random_grid(b, i);
    case ENV_CHAIN: return check_chain(b, i);
    case ENV_MINATAR: return minatar_check_copy(b, i);
    case ENV_PROCEDURAL_GRID: case ENV_PROCEDURAL_RANDOM_GRID: break; /* runs its drawn layout */
    }
    return "unknown environment kind";
}

static int check_state(const EnvBatch *b, const char *path, const char *name)
{
    const EnvSpec *s = b->spec;
    if (b->episodes_done < 0 || !isfinite(b->returns_done_sum))
        return lpg_error("%s: section '%s': episode statistics out of range", path, name);
    if (s->kind == ENV_CHAIN &&
        (b->chain_length < s->length_min || b->chain_length > s->length_max ||
         b->chain_good_action < 0 || b->chain_good_action > 1))
        return lpg_error("%s: section '%s': chain length %d or good action %d does not fit %s",
                         path, name, b->chain_length, b->chain_good_action, s->path);
    for (int i = 0; i < b->n; i++) {
        const char *why = check_copy(b, i);
        if (why)
            return lpg_error("%s: section '%s': copy %d: %s (environment %s)", path, name, i,
                             why, s->path);
    }
    return 0;
}

int env_batch_load_state(EnvBatch *batch, const Checkpoint *ck, const char *name)
{
    if (load_layout(batch, ck, name))
        return -1;
    Part parts[STATE_PARTS_MAX];
    int count = state_parts(batch, parts);
    size_t total = total_bytes(parts, count, ck->real_size);
    unsigned char *buf = lpg_calloc(total, 1, "environment state");
    if (!buf)
        return -1;
    if (checkpoint_get_bytes(ck, name, buf, total)) {
        free(buf);
        return -1;
    }
    size_t at = 0;
    for (int i = 0; i < count; i++) {
        restore_part(&parts[i], buf + at, ck->real_size);
        at += stored_bytes(&parts[i], ck->real_size);
    }
    free(buf);
    return check_state(batch, ck->path, name);
}
