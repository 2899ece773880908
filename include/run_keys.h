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
    CONFIG_KEY(T, "copies", CONFIG_INT, copies, 1, max, "environment copies per agent (n)")
#define RUN_KEY_UNROLL(T) CONFIG_KEY(T, "unroll", CONFIG_INT, unroll, 1, 1000, "steps per rollout (T)")
#define RUN_KEY_THREADS(T, max) \
    CONFIG_OUTPUT_KEY(T, "threads", CONFIG_INT, threads, 1, max, \
                      "worker threads (the numbers are the same for any count)")
#define RUN_KEY_MAX_MEMORY(T) \
    CONFIG_OUTPUT_KEY(T, "max_memory", CONFIG_DOUBLE, max_memory, 0, 1e6, \
                      "refuse to start when the run needs more than this many GiB (estimated " \
                      "first; 0: the machine's memory)")
#define RUN_KEY_MLP_HIDDEN(T) \
    CONFIG_KEY(T, "mlp_hidden", CONFIG_INT_LIST, mlp_hidden, 1, 4096, "hidden widths of MLP agents")
#define RUN_KEY_AGENT(T) \
    CONFIG_CHOICE(T, "agent", agent, agent_choice_names, \
                  "\"mlp\", or \"conv\": 16 3x3 filters (no padding) before mlp_hidden where " \
                  "the observation is an image (MinAtar, random grids)")
#define RUN_KEY_INNER_OPTIMIZER(T, member) \
    CONFIG_CHOICE(T, "inner_optimizer", member, inner_optimizer_names, \
                  "inner step of MLP agents under a rule: \"sgd\" (theta -= alpha_lr grad L) or " \
                  "\"adam\" (Adam on grad L with step alpha_lr, of order 0.001-0.01); tabular " \
                  "agents always take the per-state mean SGD step")
#define RUN_KEY_ALPHA_Y(T) \
    CONFIG_KEY(T, "alpha_y", CONFIG_DOUBLE, alpha_y, 0, 1e3, \
               "weight of the KL term on y in the agent's update (Eq. 2)")

#endif
