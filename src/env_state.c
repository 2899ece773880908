/* env_state.c: saving and restoring an EnvBatch's mutable state byte for byte, so that a
 * resumed meta-training run steps its environments exactly as an uninterrupted one would.
 * MinAtar batches add their per-copy game states. The derived tables (moves, thresholds) are
 * rebuilt by env_batch_init from the spec. */
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "env.h"
#include "util.h"

typedef struct {
    void *ptr;
    size_t bytes;
} Part;

/* The mutable arrays and scalars of a batch, in a fixed order; returns how many parts. */
static int state_parts(const EnvBatch *b, Part *parts)
{
    const EnvSpec *s = b->spec;
    size_t n = (size_t)b->n;
    size_t cells = (size_t)s->width * (size_t)s->height;
    int k = 0;
#define PART(p, count) parts[k++] = (Part){(void *)(p), (p) ? (size_t)(count) * sizeof *(p) : 0}
    PART(b->obs_index, n);
    PART(b->obs, n * (size_t)(s->obs_dim > 0 ? s->obs_dim : 0));
    PART(b->reward, n);
    PART(b->done, n);
    PART(b->running_return, n);
    PART(b->rng, n);
    PART(b->agent_cell, n);
    PART(b->present, n);
    PART(b->object_cell, n * ENV_MAX_OBJECTS);
    PART(b->steps, n);
    PART(b->cell_object, s->kind == ENV_RANDOM_GRID ? n * cells : 0);
#undef PART
    parts[k++] = (Part){(void *)b->game_state, b->game_state_bytes};
    parts[k++] = (Part){(void *)&b->episodes_done, sizeof b->episodes_done};
    parts[k++] = (Part){(void *)&b->returns_done_sum, sizeof b->returns_done_sum};
    parts[k++] = (Part){(void *)&b->chain_length, sizeof b->chain_length};
    parts[k++] = (Part){(void *)&b->chain_good_action, sizeof b->chain_good_action};
    return k;
}

static size_t total_bytes(const Part *parts, int count)
{
    size_t total = 0;
    for (int i = 0; i < count; i++)
        total += parts[i].bytes;
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

int env_batch_save_state(const EnvBatch *batch, void *checkpoint_writer, const char *name)
{
    if (save_layout(batch, checkpoint_writer, name))
        return -1;
    Part parts[20];
    int count = state_parts(batch, parts);
    size_t total = total_bytes(parts, count);
    unsigned char *buf = lpg_calloc(total, 1, "environment state");
    if (!buf)
        return -1;
    size_t at = 0;
    for (int i = 0; i < count; i++) {
        if (parts[i].bytes)
            memcpy(buf + at, parts[i].ptr, parts[i].bytes);
        at += parts[i].bytes;
    }
    int rc = checkpoint_add_bytes(checkpoint_writer, name, buf, total);
    free(buf);
    return rc;
}

int env_batch_load_state(EnvBatch *batch, const void *checkpoint, const char *name)
{
    const Checkpoint *ck = checkpoint;
    if (load_layout(batch, ck, name))
        return -1;
    Part parts[20];
    int count = state_parts(batch, parts);
    size_t total = total_bytes(parts, count);
    unsigned char *buf = lpg_calloc(total, 1, "environment state");
    if (!buf)
        return -1;
    if (checkpoint_get_bytes(ck, name, buf, total)) {
        free(buf);
        return -1;
    }
    size_t at = 0;
    for (int i = 0; i < count; i++) {
        if (parts[i].bytes)
            memcpy(parts[i].ptr, buf + at, parts[i].bytes);
        at += parts[i].bytes;
    }
    free(buf);
    return 0;
}
