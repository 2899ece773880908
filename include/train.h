/* train.h: training fresh agents on one environment over several seeds, with A2C (a2c.h) or with
 * a saved rule η (LPG, inner_update.h), logging a learning curve. `lpg train` is a
 * thin command around this; `lpg eval` reuses train_run per environment and method.
 *
 * Each seed is one independent run: its own RNG (from seed + index), environment batch, agent and
 * learner, all allocated when the seed starts. Seeds run on `threads` pthreads; nothing depends
 * on which thread runs a seed, so results are identical for any thread count. The curve has
 * num_points points evenly spaced in updates; a point's value for a seed is the mean undiscounted
 * return of the episodes that ended since the previous point (NaN when none did), and the reward
 * per environment step since the previous point (always defined).
 *
 * The final score of a seed is its reward per step over the last TRAIN_FINAL_PERCENT % of its
 * steps (its last ceil(updates / 10) updates): every step counts, so it is defined however long
 * the episodes are, unlike a mean of episode returns, which needs episodes to end. It ranks runs
 * on one environment as returns do when episodes have a fixed length; with episodes that end
 * early it also rewards reaching reward sooner. */
#ifndef LPG_TRAIN_H
#define LPG_TRAIN_H

#include <stdint.h>

#include "a2c.h"
#include "config.h"
#include "env.h"
#include "inner_update.h"
#include "rule.h"

#define TRAIN_MAX_THREADS 256 /* threads running seeds, at most (lpg train and lpg eval) */

typedef enum { TRAIN_A2C, TRAIN_LPG /* methods lpg and lpg_v: a saved rule */ } TrainMethod;

/* The values of the key method, in the order of the config's int method. */
enum { TRAIN_METHOD_A2C, TRAIN_METHOD_LPG, TRAIN_METHOD_LPG_V };
extern const char *const train_method_names[];

/* The final score's window: the last TRAIN_FINAL_PERCENT % of each seed's updates. */
#define TRAIN_FINAL_PERCENT 10

typedef struct {
    char env[LPG_PATH_MAX];        /* environment file */
    int method;                    /* train_method_names: "a2c", "lpg" or "lpg_v" (LPG-V) */
    char rule[LPG_PATH_MAX];       /* lpg, lpg_v: the rule (checkpoint) file */
    int seed;                      /* first seed; seeds are seed, seed+1, ... */
    int seeds;                     /* how many */
    int steps;                     /* environment steps per seed, counting every copy */
    int copies;                    /* environment copies (n) */
    int unroll;                    /* steps per rollout (T) */
    int threads;                   /* pthreads running seeds */
    double max_memory;             /* GiB the run may need (0: the machine's memory) */
    ConfigIntList mlp_hidden;      /* hidden widths of MLP agents */
    int agent;                     /* AgentChoice: "mlp" or "conv" (a convolution first) */
    int conv_filters;              /* from agent: 0 or AGENT_CONV_FILTERS */
    double tabular_init_std;       /* std of a tabular agent's initial rows */
    A2cParams a2c;                 /* a2c: its settings (optimizer too); the keys point into it */
    double alpha_lr, alpha_y;      /* lpg: inner step size and KL weight (Eq. 2) */
    int log_points;                /* points of the learning curve */
    char output[LPG_PATH_MAX];     /* the learning curve CSV */
    char stats_output[LPG_PATH_MAX]; /* lpg: CSV of the rule's statistics per point ("": off) */

    InnerOptimizer inner_kind;     /* key inner_optimizer, lpg: "sgd" or "adam", MLP agents' step */

    /* Derived by train_config_finish. */
    TrainMethod method_kind;       /* from method */
} TrainConfig;

extern const ConfigField train_config_fields[];
extern const int train_config_num_fields;

/* Writes the defaults into config. */
void train_config_defaults(TrainConfig *config);

/* Defaults, then the file, then overrides ("key=value"); then the cross-key checks and the
 * derived fields. Returns 0, or -1 after reporting "lpg: <file>: key '<k>': ...". */
int train_config_load(TrainConfig *config, const char *path, int noverrides, char **overrides);

/* Checks the keys against each other and fills method_kind and conv_filters (train_config_load calls it;
 * call it after changing fields by hand). where names the config in errors. */
int train_config_finish(TrainConfig *config, const char *where);

typedef struct {
    int num_seeds, num_points;
    int64_t *point_steps; /* [num_points] steps per seed done at each point */
    double *curve;        /* [num_seeds x num_points] seed s, point k at s * num_points + k:
                             mean return of the episodes ended since the last point, or NaN */
    double *reward_curve; /* [num_seeds x num_points] reward per step since the last point */
    double *final_reward; /* [num_seeds] reward per step over the final window (the score) */
    double *final_return; /* [num_seeds] mean return of the episodes ending in it, or NaN */
    int64_t *final_episodes; /* [num_seeds] episodes ending in the final window */
    int64_t final_steps;  /* steps per seed in the final window */
    double seconds;       /* wall-clock time of the run */
    double *stats;        /* stats_output set: [num_seeds x num_points x train_stats_num_columns]
                           * (train_stats.h), else NULL */
} TrainResult;

/* Trains config->seeds agents on spec. For method lpg, layout and eta are the rule (not owned;
 * ignored for a2c). progress: 1 prints a progress line on stderr while it runs (overwritten in
 * place on a terminal, every few seconds otherwise), 0 is silent. Fills result (free with
 * train_result_free). Returns 0, or -1 after reporting (including non-finite parameters,
 * naming the seed and step). */
int train_run(const TrainConfig *config, const EnvSpec *spec, const RuleLayout *layout,
              const real *eta, int progress, TrainResult *result);
void train_result_free(TrainResult *result);

/* An empty result sized as train_run fills it for config (its points and their steps, the
 * final window, rule statistics when asked); every value NaN. Returns 0, or -1 after
 * reporting. */
int train_result_init(TrainResult *result, const TrainConfig *config);

/* One seed's values as bytes, for results made in pieces (lpg eval across MPI ranks): its
 * curve points, final reward, final return and episodes (not the rule statistics).
 * train_seed_bytes is their size; pack writes seed s of result into out, unpack reads them
 * into seed s. The bytes hold the doubles exactly, so a result put together from packed seeds
 * is the one a single run would have made. */
size_t train_seed_bytes(const TrainResult *result);
void train_seed_pack(const TrainResult *result, int s, unsigned char *out);
void train_seed_unpack(TrainResult *result, int s, const unsigned char *in);

/* A run's final score over seeds (see the top of this file). */
typedef struct {
    double mean, se;   /* of the seeds' final reward per step; NaN when no seed has one */
    int seeds;         /* seeds with a finite final reward per step */
    double return_mean, return_se; /* of the seeds' final mean return, over return_seeds */
    int return_seeds;  /* seeds that saw an episode end in their final window */
    int64_t episodes;  /* episodes that ended in the final windows, over all seeds */
    int64_t steps;     /* steps per seed in the final window */
} TrainScore;

void train_final_score(const TrainResult *result, TrainScore *score);

/* Mean and standard error over seeds of point k of the return curve, over the seeds with a
 * finite value (*count of them); NaN when none, standard error 0 with one. */
void train_point_stats(const TrainResult *result, int k, double *mean, double *se, int *count);

/* The curve as CSV text, one row per point: "steps,mean_return,se_return,
 * mean_reward_per_step,se_reward_per_step,seed_<s>...,reward_per_step_seed_<s>..." (the seed_<s>
 * columns hold returns). Missing values (no episode ended) are written "nan", which pandas,
 * numpy and gnuplot read as NaN. Returns a new string the caller frees, or NULL after
 * reporting. */
char *train_curve_csv(const TrainResult *result, const TrainConfig *config);

/* Writes the curve CSV to path atomically, creating missing parent folders. Returns 0 or -1. */
int train_write_csv(const TrainResult *result, const TrainConfig *config, const char *path);

/* The rule statistics (result->stats, not NULL) as CSV text: "steps,<train_stats_columns>",
 * one row per point, each value the mean over the seeds where it is finite. The caller frees
 * it; NULL after reporting. train_write_stats_csv writes it as train_write_csv does. */
char *train_stats_csv(const TrainResult *result);
int train_write_stats_csv(const TrainResult *result, const char *path);

#endif
