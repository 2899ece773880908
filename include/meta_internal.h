/* meta_internal.h: what meta_train.c and meta_resume.c share about a run; private to them
 * (everyone else goes through meta_train.h). */
#ifndef LPG_META_INTERNAL_H
#define LPG_META_INTERNAL_H

#include "meta_train.h"

/* Zeroes run, loads the config (with the overrides) and environments, and allocates everything
 * a run holds: bandits, level buffers, η, its gradient and Adam, the exchange; seeds the run's
 * generator. η is left zero and no lifetime is started (meta_run_init or meta_run_resume do). */
int meta_run_setup(MetaRun *run, const char *config_path, int noverrides, char **overrides);

/* The longest life on spec, in agent updates: the fixed length (MLP agents:
 * mlp_lifetime_updates when set), or the range's top, rounded up to whole windows. */
int meta_longest_life(const MetaConfig *c, const EnvSpec *spec);

#endif
