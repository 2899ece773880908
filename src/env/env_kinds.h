/* env_kinds.h: what env.c needs from each environment family (env_grid_load.c, env_grid.c,
 * env_chain.c, env_minatar.c), and the episode bookkeeping their step loops share. Private to the
 * environment code: everyone else goes through env.h. */
#ifndef LPG_ENV_KINDS_H
#define LPG_ENV_KINDS_H

#include "env.h"

struct cJSON;

/* Largest tabular grid: cells * 2^num_objects states. */
#define ENV_MAX_TABULAR_STATES (1 << 20)
/* Longest chain. */
#define ENV_MAX_CHAIN 1000

/* Read the kind-specific keys of a file (root is its top-level object; path names it in
 * errors) into spec, and fill num_actions and num_states or obs_dim. */
int grid_load(const struct cJSON *root, EnvSpec *spec, const char *path);
int chain_load(const struct cJSON *root, EnvSpec *spec, const char *path);
int minatar_load(const struct cJSON *root, EnvSpec *spec, const char *path);
int procgrid_load(const struct cJSON *root, EnvSpec *spec, const char *path);

/* Builds the grid tables of a batch (move targets, object map, open cells, thresholds);
 * freed by env_batch_free. */
int grid_batch_init(EnvBatch *batch);
/* Allocates the per-copy game states of a MinAtar batch; freed by env_batch_free. */
int minatar_batch_init(EnvBatch *batch);

/* Draws a chain batch's length L and good action from the batch's master generator, before
 * the copies' generators are split from it. */
void chain_seed_batch(EnvBatch *batch, Rng *master);

/* Start a new episode in copy i. */
void tabular_grid_reset_copy(EnvBatch *batch, int i);
void random_grid_reset_copy(EnvBatch *batch, int i);
void chain_reset_copy(EnvBatch *batch, int i);
void minatar_reset_copy(EnvBatch *batch, int i);

/* One step of every copy, auto-resetting the finished ones (see env.h). */
void tabular_grid_step(EnvBatch *batch, const int32_t *actions);
void random_grid_step(EnvBatch *batch, const int32_t *actions);
void chain_step(EnvBatch *batch, const int32_t *actions);
void minatar_step(EnvBatch *batch, const int32_t *actions);

void grid_render(const EnvBatch *batch, int i, FILE *out);
void chain_render(const EnvBatch *batch, int i, FILE *out);
void minatar_render(const EnvBatch *batch, int i, FILE *out);

/* Stores copy i's reward and done and keeps the episode statistics; returns done, after
 * which the caller resets the copy. */
static inline int env_record_step(EnvBatch *batch, int i, real reward, int done)
{
    batch->reward[i] = reward;
    batch->done[i] = (uint8_t)done;
    double total = batch->running_return[i] + (double)reward;
    if (done) {
        batch->episodes_done++;
        batch->returns_done_sum += total;
        total = 0;
    }
    batch->running_return[i] = total;
    return done;
}

#endif
