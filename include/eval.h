/* eval.h: `lpg eval`, a saved rule against tuned A2C (the paper's Figure 3). For every listed
 * environment it trains fresh agents with the rule (method lpg) and with A2C over the same seeds,
 * step budget, copies and unroll, by calling train_run twice; it writes one learning-curve CSV
 * per environment and method and a results table of final returns (results.md, results.csv).
 *
 * A2C's learning keys (optimizer, lr, entropy_cost, value_cost, gae_lambda, grad_clip,
 * rmsprop_decay, optimizer_eps) come from a tuned `lpg train` config per environment family
 * (configs/a2c/: tabular grids, random grids, chains, chains with distraction bits); every other
 * key of those files is ignored. LPG's inner step size depends on
 * the agent kind: tabular_alpha_lr for tabular agents (tabular grids, chains without
 * distraction bits), mlp_alpha_lr for MLP agents. */
#ifndef LPG_EVAL_H
#define LPG_EVAL_H

#include "config.h"
#include "env.h"
#include "train.h"

/* "Final return": each seed's mean over the last EVAL_FINAL_PERCENT % of the curve points
 * (rounded up, at least one), then the mean and standard error of that over seeds. */
#define EVAL_FINAL_PERCENT 10

typedef struct {
    char rule[LPG_PATH_MAX];       /* rule or meta-training checkpoint file */
    ConfigPathList envs;           /* environment files, one table row each */
    int seed, seeds;               /* seeds seed .. seed+seeds-1, the same for both methods */
    int steps;                     /* environment steps per seed (all copies), both methods */
    int copies, unroll, threads;
    double max_memory;             /* GiB one run may need (0: the machine's memory) */
    ConfigDoubleList mlp_hidden;   /* hidden widths of MLP agents, both methods */
    double tabular_alpha_lr;       /* lpg: inner step of tabular agents */
    double mlp_alpha_lr;           /* lpg: inner step of MLP agents */
    double alpha_y;                /* lpg: weight of the KL term on y */
    char a2c_tabular_grid[LPG_PATH_MAX]; /* tuned A2C train configs, per family */
    char a2c_random_grid[LPG_PATH_MAX];
    char a2c_chain[LPG_PATH_MAX];  /* chains without distraction bits (tabular agents) */
    char a2c_chain_distraction[LPG_PATH_MAX]; /* chains with distraction bits (MLP agents) */
    int log_points;                /* points of each learning curve */
    char output_dir[LPG_PATH_MAX]; /* curves, results.md, results.csv */

    char source[LPG_PATH_MAX];     /* the config file, named in errors (eval_config_load sets it) */
} EvalConfig;

extern const ConfigField eval_config_fields[];
extern const int eval_config_num_fields;

/* Writes the defaults into config; default paths are relative to the config file's folder
 * (eval_config_load resolves them). */
void eval_config_defaults(EvalConfig *config);

/* Defaults (paths resolved against path's folder), then the file, then overrides ("key=value",
 * relative to the working folder); then the cross-key checks. Returns 0, or -1 after reporting
 * "lpg: <file>: key '<k>': ...". */
int eval_config_load(EvalConfig *config, const char *path, int noverrides, char **overrides);

/* The final return of one method on one environment, over seeds. */
typedef struct {
    double mean, se; /* NaN when no seed has a finite value */
    int count;       /* seeds with a finite final value */
    int failed;      /* the run stopped with an error (non-finite parameters, say) */
    double seconds;  /* wall-clock time of the run */
} EvalScore;

typedef struct {
    char name[ENV_NAME_MAX];  /* the environment's name */
    char path[LPG_PATH_MAX];  /* its file */
    EnvKind kind;
    int points, final_points; /* curve points, and how many the final return averages */
    EvalScore lpg, a2c;
} EvalRow;

typedef enum { EVAL_TIE, EVAL_LPG, EVAL_A2C, EVAL_UNKNOWN } EvalWinner;

/* Which method is better: the one with the larger mean when the difference of the means exceeds
 * two standard errors of the difference, sqrt(se_lpg^2 + se_a2c^2); else a tie. EVAL_UNKNOWN
 * when either mean or standard error is NaN. */
EvalWinner eval_better(double lpg_mean, double lpg_se, double a2c_mean, double a2c_se);

/* "LPG", "A2C", "tie" or "-". */
const char *eval_winner_name(EvalWinner winner);

/* The final return of a training result (see EVAL_FINAL_PERCENT); *final_points gets how many
 * points each seed's value averages. */
void eval_final_return(const TrainResult *result, EvalScore *score, int *final_points);

/* The path of the learning curve of env_name and method ("lpg", "a2c"):
 * <output_dir>/<env_name>.<method>.csv. Returns -1 if it does not fit. */
int eval_curve_path(const EvalConfig *config, const char *env_name, const char *method,
                    char *out, size_t outsize);

/* Runs the whole evaluation: loads the rule, every environment and the A2C configs first (any
 * error stops it before training), then for each environment trains LPG and A2C, writes their
 * curves and fills rows[i] (rows holds config->envs.count rows, caller-owned). Prints one line
 * per (environment, method) on stderr. Returns 0; 1 when some runs failed (reported, marked in
 * their rows, the others done); -1 when nothing could run (reported). */
int eval_run(const EvalConfig *config, EvalRow *rows);

/* The results table as Markdown (with a header saying how the numbers were made) or CSV
 * ("environment,kind,seeds,steps,lpg_mean,lpg_se,lpg_seeds,a2c_mean,a2c_se,a2c_seeds,better").
 * Return new strings the caller frees, or NULL after reporting. */
char *eval_table_markdown(const EvalConfig *config, const EvalRow *rows, int num_rows);
char *eval_table_csv(const EvalConfig *config, const EvalRow *rows, int num_rows);

/* Writes results.md and results.csv into output_dir, each atomically. Returns 0 or -1. */
int eval_write_tables(const EvalConfig *config, const EvalRow *rows, int num_rows);

#endif
