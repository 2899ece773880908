/* meta_config.h: the config of `lpg meta-train` (and of `lpg gradcheck`, which checks the
 * meta-gradient of the same setup). Defaults are sized for a 2-core CPU (docs/method.md §8, §10). */
#ifndef LPG_META_CONFIG_H
#define LPG_META_CONFIG_H

#include "config.h"
#include "inner_update.h"
#include "rule.h"

#define META_STEPS_MAX 100000000 /* largest meta_steps; also bounds a checkpoint's step */
#define META_LIFETIMES_MAX 4096  /* largest lifetimes */
#define META_MAX_THREADS 256     /* worker threads of a meta-step, at most */
#define META_ES_LIFETIMES_MAX 1048576 /* largest ES generation: 2 x es_population x es_lifetimes_per_member */

typedef struct {
    ConfigPathList envs;        /* environment files; lifetimes draw from them uniformly */
    int seed;
    int lifetimes;              /* parallel lifetimes */
    int copies;                 /* environment copies per lifetime (trajectories per batch) */
    int unroll;                 /* T, steps per trajectory */
    int K;                      /* agent updates per meta-gradient window */
    int lifetime_updates;       /* agent updates in one lifetime, then it is reset */
    int mlp_lifetime_updates;   /* the same for MLP agents (vector observations); 0: lifetime_updates */
    int meta_steps;             /* total meta-steps of the run */
    int rule_hidden;            /* LSTM width of the rule */
    ConfigIntList mlp_hidden;   /* hidden widths of MLP agents */
    int agent;                  /* AgentChoice: "mlp" or "conv" (a convolution first on images) */
    int conv_filters;           /* from agent: 0 or AGENT_CONV_FILTERS */
    double meta_lr, meta_clip;  /* Adam on η; global-norm clip (0 = off) */
    double beta0, beta1, beta2, beta3;
    ConfigDoubleList tabular_lrs, mlp_lrs, alpha_ys; /* the bandit grid per agent kind */
    double critic_lr;           /* SGD step of the meta-objective's value function (MLP) */
    double critic_tabular_lr;   /* the same for tabular critics (a row sees few of the samples) */
    double gae_lambda;          /* λ of the critic's GAE advantages */
    int threads;                /* worker threads (lifetimes are split among them) */
    double max_memory;          /* GiB the run may need (0: the machine's memory) */
    char run_dir[LPG_PATH_MAX]; /* where checkpoint.lpg and log.jsonl go */
    int checkpoint_every;       /* meta-steps between checkpoints */
    int log_every;              /* meta-steps between progress lines */
    int rule_every;             /* meta-steps between rule snapshots in <run_dir>/rules (0 = off) */
    int input_grad;             /* meta-gradient also through the rule's inputs (metagrad.h) */
    InnerOptimizer optimizer;   /* key inner_optimizer, "sgd" or "adam": MLP agents' inner step */
    RuleMethod method;          /* "lpg" or "lpg_v" (rule.h: the kind of rule learned) */
    int y_softmax;              /* lpg: 0 for unconstrained y and ŷ with an L2 loss (an ablation) */
    int lifetime_inputs;        /* the rule reads n/N and log N (rule.h, docs/method.md §10.4) */
    ConfigDoubleList lifetime_range;     /* [min, max] updates, log-uniform per life; absent: fixed */
    ConfigDoubleList mlp_lifetime_range; /* the same for MLP agents; absent: lifetime_range */
    /* Levels of the procedural environments (level_sampler.h, docs/method.md §10.6). */
    int level_regret;           /* key level_sampler: "uniform" (a fresh layout per life, 0) or
                                 * "regret" (1) */
    int level_buffer_size;      /* levels kept per procedural environment */
    double level_replay_prob;   /* probability that a life replays a buffered level */
    double level_temperature;   /* β of the rank weights (1/rank)^(1/β) */
    double level_staleness;     /* ρ: the staleness share of the replay distribution */
    char level_a2c_tabular_grid[LPG_PATH_MAX]; /* tuned A2C (lpg train config) for procedural_grid */
    char level_a2c_random_grid[LPG_PATH_MAX];  /* ... for procedural_random_grid */
    int use_es;                 /* key meta_optimizer: "metagrad" (the exact meta-gradient, 0)
                                 * or "es" (1; es_run.h) */
    double es_sigma;            /* ES: std of the perturbations of η */
    int es_population;          /* ES: antithetic pairs per generation (2x members) */
    double es_lr;               /* ES: Adam learning rate on η */
    int es_lifetimes_per_member;/* ES: lifetimes (tasks) per generation, each run by every member */
    char init_rule[LPG_PATH_MAX]; /* a rule file η starts from ("": the seeded initialisation) */
} MetaConfig;

extern const ConfigField meta_config_fields[];
extern const int meta_config_num_fields;

/* Writes the defaults into config. */
void meta_config_defaults(MetaConfig *config);

/* Defaults, then the file, then overrides; then cross-key checks. Returns 0 or -1 (reported). */
int meta_config_load(MetaConfig *config, const char *path, int noverrides, char **overrides);

/* The layout of the rule config learns: its width, lifetime inputs and kind (method, y_softmax; for LPG-V the
 * value settings critic_lr, critic_tabular_lr and gae_lambda, the critic being the agent's
 * value). */
void meta_config_rule_layout(const MetaConfig *config, RuleLayout *layout);

#endif
