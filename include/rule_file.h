/* rule_file.h: a learned rule on disk. A rule is the sections "rule_hidden" (int64) and "eta"
 * (reals) of a checkpoint file (checkpoint.h), so a meta-training checkpoint is itself a rule
 * file that `lpg train` and `lpg eval` can use directly. Its kind (rule.h) is the section
 * "rule_kind" (int64 [2]: method 0 LPG or 1 LPG-V, y_raw 0 or 1; a file without it is an LPG
 * rule, as every file was before LPG-V) and, for LPG-V, "rule_value" (3 doubles: the value's
 * value_lr, value_tabular_lr, value_lambda). */
#ifndef LPG_RULE_FILE_H
#define LPG_RULE_FILE_H

#include "checkpoint.h"
#include "rule.h"

/* Adds the rule's sections to a checkpoint being written. */
int rule_file_add(CheckpointWriter *writer, const RuleLayout *layout, const real *eta);

/* Reads a rule from an open checkpoint (either precision, converted): fills layout (width and
 * kind) and returns a new eta array (the caller frees it), or NULL after reporting. rule_hidden
 * must be in [1, 4096], every element of eta finite and at most 1e3 in magnitude, the kind one
 * of LPG, LPG with y_raw or LPG-V, and LPG-V's value settings finite, value_lr in [0, 1e6],
 * value_tabular_lr and value_lambda in [0, 1]. */
real *rule_file_read(const Checkpoint *ck, RuleLayout *layout);

/* Opens path and reads its rule (see rule_file_read). */
real *rule_file_load(const char *path, RuleLayout *layout);

#endif
