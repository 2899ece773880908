/* env_state.h: an EnvBatch's mutable state in a checkpoint (observations, per-copy state and
 * generators, episode statistics, the chain drawn for this lifetime, MinAtar game states), saved
 * and restored byte for byte so that a resumed run steps its environments exactly as an
 * uninterrupted one. */
#ifndef LPG_ENV_STATE_H
#define LPG_ENV_STATE_H

#include "checkpoint.h"
#include "env.h"

/* Adds the batch's whole mutable state to a checkpoint as one section `name` (and, for
 * procedural grids, the seed of the batch's layout as `name`_layout). */
int env_batch_save_state(const EnvBatch *batch, CheckpointWriter *writer, const char *name);

/* Restores what env_batch_save_state wrote into a batch made by env_batch_init with the same
 * spec and copies, checking it against the spec. A procedural batch first redraws the layout
 * whose seed the section `name`_layout holds. Returns 0, or -1 after reporting (missing
 * section, wrong size, a state the spec cannot produce). */
int env_batch_load_state(EnvBatch *batch, const Checkpoint *ck, const char *name);

#endif
