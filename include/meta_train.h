/* meta_train.h: the meta-training run (docs/method.md §8). Parallel lifetimes over the
 * config's environments each contribute dJ/dη from one window per meta-step; the mean goes to
 * Adam on η (ascending J). Lifetimes that end report their final return to their environment's
 * bandit and are replaced. A checkpoint holds everything, lifetimes included, so a resumed run
 * continues exactly where it stopped: same η as a run that never stopped. */
#ifndef LPG_META_TRAIN_H
#define LPG_META_TRAIN_H

#include <stdint.h>

#include "adam.h"
#include "bandit.h"
#include "env.h"
#include "level_sampler.h"
#include "lifetime.h"
#include "meta_config.h"
#include "rule.h"

#define META_FINAL_WINDOW 10 /* final returns kept per environment for the progress line */

/* What happened in one meta-step, for the log and the progress line. */
typedef struct {
    double J;                 /* mean meta-objective over lifetimes */
    double grad_norm;         /* ‖mean dJ/dη‖ before clipping */
    int64_t env_steps;        /* environment steps taken by all lifetimes */
    int lifetimes_finished;   /* in this step */
    int64_t episodes[CONFIG_LIST_MAX];   /* per environment: episodes ended in this step */
    double return_sum[CONFIG_LIST_MAX];  /* and the sum of their returns */
    double critic_fvu[CONFIG_LIST_MAX];  /* per environment: mean over its lifetimes of the
                                          * critic's unexplained fraction (lifetime.h; NaN: none) */
    double fitness_max, fitness_min;     /* meta_optimizer "es": the best and the worst member's
                                          * fitness (es_run.h; J is NaN then) */
} MetaStepStats;

typedef struct EsState EsState; /* es_run.h */

typedef struct {
    MetaConfig config;
    char config_path[LPG_PATH_MAX];
    char *config_text;        /* the config file as read (owned), saved in checkpoints */
    char *effective_config;   /* every key's value after defaults, file and overrides, as JSON (owned) */
    char *overrides_text;     /* the command-line overrides as given, one per line (owned; "" if none) */
    int provenance_changed;   /* resumed from a checkpoint another build or machine wrote (or one
                               * without a provenance record): its bits will not match either's */
    int num_envs;
    EnvSpec *specs;           /* [num_envs] */
    Bandit *bandits;          /* [num_envs] */
    RuleLayout layout;
    real *eta, *grad;         /* [layout.count] */
    Adam adam;
    Rng rng;                  /* draws environments, arms and lifetime seeds */
    LevelSampler levels;      /* levels of the procedural environments (level_sampler "regret") */
    int64_t step;             /* meta-steps done */
    int64_t lifetimes_finished;
    double final_returns[CONFIG_LIST_MAX][META_FINAL_WINDOW]; /* ring per environment */
    int64_t final_count[CONFIG_LIST_MAX];
    Lifetime *lives;          /* [config.lifetimes] */
    int *order;               /* [config.lifetimes] scratch: the order threads take lifetimes in */
    int64_t *window_episodes; /* [config.lifetimes] scratch: episodes ended in each one's window */
    double *window_return_sum; /* [config.lifetimes] scratch: the sum of their returns */
    /* The meta-step's exchange, summed over ranks by one allreduce (dist.h; with one rank as
     * is): the exact sum (exact_sum.h) of this rank's lifetimes' dJ/dη, layout.count
     * accumulators of EXACT_SUM_LIMBS limbs; a count of non-finite values in them; then each
     * lifetime's window results as the bits of doubles, filled by the rank that runs it and
     * zero on the others (a few per lifetime, meta_train.c). With several ranks each
     * runs only its block of lifetimes and keeps a stub of the others, filled from these. */
    int64_t *exchange;
    size_t exchange_count;
    EsState *es;              /* meta_optimizer "es": its generation's state (es_run.h), else
                               * NULL; such a run has no lifetimes between steps */
} MetaRun;

/* Loads the config (with overrides) and sets up a fresh run: η and lifetimes initialised from
 * the seed. Returns 0, or -1 after reporting. */
int meta_run_init(MetaRun *run, const char *config_path, int noverrides, char **overrides);

/* Continues from a checkpoint written by meta_run_save with the same config shape (lifetimes,
 * copies, unroll, K, rule_hidden, envs). meta_steps, threads and where and how often files are
 * written may differ; any other (learning) key that differs from the run that wrote the
 * checkpoint is named and refused unless allow_changes, when it is only noted. Every value read
 * is checked against the config before use. */
int meta_run_resume(MetaRun *run, const char *config_path, int noverrides, char **overrides,
                    const char *checkpoint_path, int allow_changes);

/* One meta-step: a window in every lifetime (on config.threads threads), Adam on η, lifetime
 * replacement; with meta_optimizer "es", one generation instead (es_run.h). Returns 0, or -1
 * after reporting (a non-finite meta-gradient or η: the run must stop without saving). */
int meta_run_step(MetaRun *run, MetaStepStats *stats);

/* Writes the whole run state to path atomically. Besides what resume reads, the file records
 * how the run was made: the config file's text ("config"), every key's effective value as JSON
 * ("effective_config") and the command-line overrides ("overrides"); the last two are optional
 * on load (older files lack them). */
int meta_run_save(const MetaRun *run, const char *path);

/* Writes only the rule (η, its width), the step and the config record (config text, effective
 * config, overrides) to path atomically: a small rule file for `lpg train` / `lpg eval`. */
int meta_run_save_rule(const MetaRun *run, const char *path);

/* A new lifetime's length on spec as the run draws it (one draw from run->rng when a range is
 * set, else none): the lifetimes of both meta-optimisers get theirs from here. */
int meta_run_life_length(MetaRun *run, const EnvSpec *spec);

/* Mean of the environment's recent final returns (NAN when none yet). */
double meta_run_final_return(const MetaRun *run, int env_index);

void meta_run_free(MetaRun *run);

#endif
