/* memory_estimate.h: how much memory a run will need, estimated from its config before anything
 * big is allocated, so an enormous config (every key in range, the whole too large) is refused
 * up front with the figure instead of growing until the kernel kills it.
 *
 * The estimates add up the buffers the run allocates (agents' parameters and work space,
 * rollouts, the meta-gradient window, the rule's activations, critics, environment batches,
 * checkpoint buffers), computed from the same layouts (agent_setup, rule_layout); they are
 * within a small factor of the peak resident size (meta-training: lifetimes spread evenly over
 * the environments, as they are drawn). */
#ifndef LPG_MEMORY_ESTIMATE_H
#define LPG_MEMORY_ESTIMATE_H

#include "env.h"
#include "meta_config.h"
#include "train.h"

/* Peak bytes of a meta-training run of c over specs[0..num_envs) (meta_optimizer "es": of its
 * generations). */
double memory_meta_train(const MetaConfig *c, const EnvSpec *specs, int num_envs);

/* Peak bytes of `lpg train` with c on spec; rule_hidden is the rule's width (lpg method) or 0. */
double memory_train(const TrainConfig *c, const EnvSpec *spec, int rule_hidden);

/* The machine's physical memory in bytes (0 if unknown). */
double memory_machine_bytes(void);

/* Refuses (returns -1 after reporting, naming where and the figures) when need bytes exceed
 * max_memory_gib (when > 0) or the machine's memory. */
int memory_check(double need, double max_memory_gib, const char *where);

#endif
