/* run_keys.h: the config keys every command that trains agents shares (meta-train, train, eval,
 * analyse), each written once: RUN_KEY_<KEY>(Struct) is its row in that command's field table
 * (config.h), for a struct with a member of the key's name. What differs between commands is a
 * parameter: the largest copy count, the thread limit, where the inner optimiser is stored. */
#ifndef LPG_RUN_KEYS_H
#define LPG_RUN_KEYS_H

#include <stddef.h>

#include "agent.h"
#include "config.h"
#include "inner_update.h"

#define RUN_KEY_COPIES(T, max) \
    {"copies", CONFIG_INT, offsetof(T, copies), 1, max, "environment copies per agent (n)", \
     CONFIG_LEARNING, NULL}
#define RUN_KEY_UNROLL(T) \
    {"unroll", CONFIG_INT, offsetof(T, unroll), 1, 1000, "steps per rollout (T)", \
     CONFIG_LEARNING, NULL}
#define RUN_KEY_THREADS(T, max) \
    {"threads", CONFIG_INT, offsetof(T, threads), 1, max, \
     "worker threads (the numbers are the same for any count)", CONFIG_OUTPUT, NULL}
#define RUN_KEY_MAX_MEMORY(T) \
    {"max_memory", CONFIG_DOUBLE, offsetof(T, max_memory), 0, 1e6, \
     "refuse to start when the run needs more than this many GiB (estimated first; 0: the " \
     "machine's memory)", CONFIG_OUTPUT, NULL}
#define RUN_KEY_MLP_HIDDEN(T) \
    {"mlp_hidden", CONFIG_INT_LIST, offsetof(T, mlp_hidden), 1, 4096, \
     "hidden widths of MLP agents", CONFIG_LEARNING, NULL}
#define RUN_KEY_AGENT(T) \
    {"agent", CONFIG_ENUM, offsetof(T, agent), 0, 0, \
     "\"mlp\", or \"conv\": 16 3x3 filters (no padding) before mlp_hidden where the " \
     "observation is an image (MinAtar, random grids)", CONFIG_LEARNING, agent_choice_names}
#define RUN_KEY_INNER_OPTIMIZER(T, member) \
    {"inner_optimizer", CONFIG_ENUM, offsetof(T, member), 0, 0, \
     "inner step of MLP agents under a rule: \"sgd\" (theta -= alpha_lr grad L) or \"adam\" " \
     "(Adam on grad L with step alpha_lr, of order 0.001-0.01); tabular agents always take " \
     "the per-state mean SGD step", CONFIG_LEARNING, inner_optimizer_names}
#define RUN_KEY_ALPHA_Y(T) \
    {"alpha_y", CONFIG_DOUBLE, offsetof(T, alpha_y), 0, 1e3, \
     "weight of the KL term on y in the agent's update (Eq. 2)", CONFIG_LEARNING, NULL}

#endif
