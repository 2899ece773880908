/* meta_helpers.h: what the meta-training tests share. */
#ifndef LPG_TEST_META_HELPERS_H
#define LPG_TEST_META_HELPERS_H

#include <stddef.h>

#include "real.h"

/* η after steps meta-steps (ES: generations) of a fresh run of config with the overrides; a
 * copy the caller frees, its length in *count (when not NULL); NULL when the run cannot start. */
real *meta_eta_after(const char *config, int steps, int noverrides, char **over, size_t *count);

#endif
