/* level_a2c.h: the tuned A2C's return on one level of a procedural environment: the reference
 * a level's regret is measured against (level_sampler.h, docs/method.md §10.6). A level is the
 * seed that draws one layout; A2C with the settings of an `lpg train` config (configs/a2c/)
 * trains a fresh agent on that layout, and its return is measured as a lifetime's is
 * (lifetime_final_return): the mean return of the episodes that end in the last fifth of its
 * updates, or of the episodes in progress when none did. Everything is drawn from the level's
 * seed, so the same level gives the same return on any thread or rank. */
#ifndef LPG_LEVEL_A2C_H
#define LPG_LEVEL_A2C_H

#include <stdint.h>

#include "env.h"
#include "train.h"

/* Loads the `lpg train` config at path (named by key of the config where, in errors) and checks
 * that its method is "a2c". Returns 0, or -1 after reporting. */
int level_a2c_load(TrainConfig *a2c, const char *path, const char *key, const char *where);

/* Trains A2C (a2c's learner settings, copies x unroll steps per update, `updates` updates) on
 * the layout that procedural spec `family` draws for seed level, and writes its return to *out:
 * NaN when its parameters or loss stopped being finite. Returns 0, or -1 after reporting (out of
 * memory). Thread-safe: it allocates everything it uses. */
int level_a2c_return(const TrainConfig *a2c, const EnvSpec *family, uint64_t level, int copies,
                     int unroll, int updates, double *out);

#endif
