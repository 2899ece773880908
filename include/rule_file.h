/* rule_file.h: a learned rule on disk. A rule is the sections "rule_hidden" (int64) and "eta"
 * (reals) of a checkpoint file (checkpoint.h), so a meta-training checkpoint is itself a rule
 * file that `lpg train` and `lpg eval` can use directly. */
#ifndef LPG_RULE_FILE_H
#define LPG_RULE_FILE_H

#include "checkpoint.h"
#include "rule.h"

/* Adds the rule's sections to a checkpoint being written. */
int rule_file_add(CheckpointWriter *writer, const RuleLayout *layout, const real *eta);

/* Reads a rule from an open checkpoint (either precision, converted): fills layout and returns
 * a new eta array (the caller frees it), or NULL after reporting. rule_hidden must be in
 * [1, 4096] and every element of eta finite and at most 1e3 in magnitude. */
real *rule_file_read(const Checkpoint *ck, RuleLayout *layout);

/* Opens path and reads its rule (see rule_file_read). */
real *rule_file_load(const char *path, RuleLayout *layout);

#endif
