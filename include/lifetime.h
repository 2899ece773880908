/* lifetime.h: one lifetime of meta-training (docs/method.md §5, §8): one environment, one fresh
 * agent θ_0, one (α_lr, α_y) from the bandit, a critic for Â, and the window of K updates whose
 * meta-gradient it contributes each meta-step. Everything a lifetime needs is allocated when it
 * starts and freed when it ends; its randomness comes from its own generator. */
#ifndef LPG_LIFETIME_H
#define LPG_LIFETIME_H

#include <stdint.h>

#include "agent.h"
#include "checkpoint.h"
#include "critic.h"
#include "env.h"
#include "meta_config.h"
#include "metagrad.h"
#include "rule.h"

typedef struct {
    int alive;
    int env_index;          /* into the run's environment list */
    const EnvSpec *spec;
    int arm;                /* the bandit arm that chose α */
    int length;             /* agent updates this life lasts */
    int updates;            /* agent updates so far */
    int report;             /* feed its final return to the bandit (staggered first lives: no) */
    Rng rng;
    EnvBatch env;
    Agent agent;
    AgentWork awork;
    RuleWork *rwork;
    Window window;          /* window_theta(window, 0) holds the current θ between windows */
    Critic critic;
    WindowParams params;    /* with the critic's SGD step and GAE λ */
    double final_sum;       /* returns of episodes ending in the last fifth of the life */
    int64_t final_count;
    double J;               /* meta-objective of the last window */
    double critic_loss;     /* the critic's loss on the last window's last rollout */
    double critic_fvu;      /* that loss over half the variance of its targets: the fraction
                             * of the λ-returns' variance the critic leaves unexplained */
    real *d_eta;            /* [rule parameters] dJ/dη of the last window */
} Lifetime;

/* Zeroes life and records what every rank knows of it (environment, arm, length, whether it
 * reports); lifetime_start begins with it, and a lifetime another rank runs is only this. */
void lifetime_describe(Lifetime *life, const EnvSpec *spec, int env_index, int arm, int length,
                       int report);

/* Starts a life on spec (the env_index-th of the run) with (alpha_lr, alpha_y) from arm; all
 * randomness from seed. Returns 0, or -1 after reporting. */
int lifetime_start(Lifetime *life, const MetaConfig *config, const EnvSpec *spec, int env_index,
                   int arm, double alpha_lr, double alpha_y, int length, int report,
                   const RuleLayout *layout, uint64_t seed);

/* lifetime_start on a level: a procedural spec's layout is drawn from level (the seed the level
 * sampler chose) instead of from the lifetime's seed, which still draws everything else. */
int lifetime_start_on_level(Lifetime *life, const MetaConfig *config, const EnvSpec *spec,
                            int env_index, int arm, double alpha_lr, double alpha_y, int length,
                            int report, const RuleLayout *layout, uint64_t seed, uint64_t level);

/* Frees what lifetime_start allocated; life may be one lifetime_describe only set up. */
void lifetime_free(Lifetime *life);

/* Collects one window without differentiating it: K rollouts each followed by an inner update,
 * one more rollout with θ_K, the critic trained on all of them and Â from the last (computed
 * before the critic's step on it). θ_0..θ_K stay in life->window. */
void lifetime_collect(Lifetime *life, const real *eta, const RuleLayout *layout,
                      int64_t *episodes, double *return_sum);

/* One window: K inner updates, one more rollout, the critic's Â, and dJ/dη into life->d_eta
 * (overwritten). Episodes that end are added to *episodes and *return_sum. */
void lifetime_window(Lifetime *life, const real *eta, const RuleLayout *layout,
                     int64_t *episodes, double *return_sum);

/* One window forward without its meta-gradient, for a life that is only lived (ES,
 * es_run.h): the window's K updates and its extra rollout as lifetime_window takes them, then
 * on to the next window. The critic is trained only when the rule reads it (LPG-V); the agent's
 * steps are the same either way. Episodes that end are added to *episodes and *return_sum. */
void lifetime_forward(Lifetime *life, const real *eta, const RuleLayout *layout,
                      int64_t *episodes, double *return_sum);

/* True when the life has done its updates. */
int lifetime_finished(const Lifetime *life);

/* Mean return of the episodes that ended in the last fifth of the life, or of the episodes in
 * progress when none ended then. */
double lifetime_final_return(const Lifetime *life);

/* Saves / restores everything that changes during a life under names prefixed by prefix. The
 * restoring side first starts the life with the same config, env, arm and layout. */
int lifetime_save(const Lifetime *life, CheckpointWriter *writer, const char *prefix);
int lifetime_load(Lifetime *life, const Checkpoint *ck, const char *prefix);

#endif
