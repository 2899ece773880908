/* eval.h: `lpg eval`, saved rules against tuned A2C (the paper's Figure 3). For every listed
 * environment it trains fresh agents with each rule (one method per rule, named in the config)
 * and with A2C over the same seeds, step budget, copies and unroll, by calling train_run once per
 * method; it writes one learning-curve CSV per environment and method and the results: a
 * Markdown table (results.md), a long-format CSV (results.csv) and JSON (results.json).
 *
 * A2C's learning keys (optimizer, lr, entropy_cost, value_cost, gae_lambda, grad_clip,
 * rmsprop_decay, optimizer_eps) come from a tuned `lpg train` config per environment family
 * (configs/a2c/: tabular grids, random grids, chains, chains with distraction bits); every other
 * key of those files is ignored. A rule's inner step size depends on the agent kind:
 * tabular_alpha_lr for tabular agents (tabular grids, chains without distraction bits; on chains
 * chain_alpha_lr where it is set), mlp_alpha_lr for MLP agents; a rule entry may set its own, and
 * its own alpha_y.
 *
 * Final score: train.h's, each seed's reward per step over its last TRAIN_FINAL_PERCENT % of
 * steps, then mean and standard error over seeds.
 *
 * The work is a list of (environment, method, seed) jobs. In build/lpg-mpi they are split
 * across the MPI ranks (dist.h) in contiguous blocks of nearly equal estimated cost; rank 0
 * gathers every seed's values and puts each method's result together as one train_run over all
 * seeds makes it, so every file is the same, byte for byte, for any number of ranks and threads
 * (results.json's wall-clock "seconds" aside). */
#ifndef LPG_EVAL_H
#define LPG_EVAL_H

#include "config.h"
#include "env.h"
#include "train.h"

#define EVAL_MAX_RULES 8
#define EVAL_MAX_METHODS (EVAL_MAX_RULES + 1) /* the rules, then A2C */
#define EVAL_NAME_MAX 32

/* One rule to evaluate: its method name (curve files <env>.<name>.csv) and file. */
typedef struct {
    char name[EVAL_NAME_MAX];
    char path[LPG_PATH_MAX];
    double tabular_alpha_lr, mlp_alpha_lr; /* its inner steps (the config's unless set) */
    double chain_alpha_lr;                 /* its tabular agents' step on chains (the config's
                                            * unless set; 0: tabular_alpha_lr) */
    double alpha_y;                        /* its weight of the KL term on y (the config's unless
                                            * set) */
    char inner_optimizer[CONFIG_STR_MAX]; /* "sgd" or "adam": its MLP agents' inner step (the
                                           * config's unless set) */
} EvalRule;

/* The families of environment that get their own step budget and tuned A2C config. */
typedef enum {
    EVAL_TABULAR_GRID,       /* tabular and procedural grids */
    EVAL_RANDOM_GRID,        /* random and procedural random grids: MLP or conv agents */
    EVAL_CHAIN,              /* chains without distraction bits: tabular agents */
    EVAL_CHAIN_DISTRACTION,  /* chains with distraction bits: MLP agents */
    EVAL_MINATAR,
    EVAL_FAMILIES
} EvalFamily;

/* One row per family: its keys (steps_<name>, a2c_<name>), what it covers in words, and the
 * default A2C config (relative to the eval config's folder). */
typedef struct {
    const char *steps_key, *a2c_key, *what, *a2c_default;
} EvalFamilyRow;
extern const EvalFamilyRow eval_families[EVAL_FAMILIES];

typedef struct {
    char rule[LPG_PATH_MAX];       /* "rule": one rule file, method name "lpg" */
    ConfigPathList envs;           /* environment files, one table row each */
    int seed, seeds;               /* seeds seed .. seed+seeds-1, the same for every method */
    int steps;                     /* environment steps per seed (all copies), every method */
    int family_steps[EVAL_FAMILIES]; /* per-family budgets that replace steps (0: steps) */
    int copies, unroll, threads;
    double max_memory;             /* GiB one run may need (0: the machine's memory) */
    ConfigIntList mlp_hidden;      /* hidden widths of MLP agents, every method */
    int agent;                     /* AgentChoice: "mlp" or "conv", every method */
    int conv_filters;              /* from agent: 0 or AGENT_CONV_FILTERS */
    double tabular_alpha_lr;       /* rules: inner step of tabular agents */
    double chain_alpha_lr;         /* rules: tabular agents' step on chains (0: tabular_alpha_lr) */
    double mlp_alpha_lr;           /* rules: inner step of MLP agents */
    InnerOptimizer inner_optimizer; /* rules: "sgd" or "adam", the MLP agents' inner step */
    double alpha_y;                /* rules: weight of the KL term on y */
    char a2c[EVAL_FAMILIES][LPG_PATH_MAX]; /* tuned A2C train configs, per family */
    int log_points;                /* points of each learning curve */
    char output_dir[LPG_PATH_MAX]; /* curves, results.md, results.csv, results.json */

    /* The rules evaluated: "rules" in the file ([{"name", "path"[, "tabular_alpha_lr",
     * "mlp_alpha_lr", "inner_optimizer"]}, ...]), or else the single "rule" named "lpg"
     * (eval_config_load). */
    EvalRule rules[EVAL_MAX_RULES];
    int num_rules;
    char source[LPG_PATH_MAX];     /* the config file, named in errors (eval_config_load sets it) */
} EvalConfig;

/* Method m's name: rule m's for m < num_rules, then "a2c". */
const char *eval_method_name(const EvalConfig *c, int m);

/* The environment steps per seed on spec: its family's steps_* key, or else steps. */
int eval_env_steps(const EvalConfig *c, const EnvSpec *spec);

extern const ConfigField eval_config_fields[];
extern const int eval_config_num_fields;

/* Writes the defaults into config; default paths are relative to the config file's folder
 * (eval_config_load resolves them). */
void eval_config_defaults(EvalConfig *config);

/* Defaults (paths resolved against path's folder), then the file, then overrides ("key=value",
 * relative to the working folder; "rule=<file>" evaluates that one rule, "rules=<name>:<file>,..."
 * those); then the cross-key checks. Returns 0, or -1 after reporting
 * "lpg: <file>: key '<k>': ...". */
int eval_config_load(EvalConfig *config, const char *path, int noverrides, char **overrides);

/* The final score of one method on one environment, over seeds. */
typedef struct {
    TrainScore score; /* mean NaN when no seed has a finite value */
    int failed;       /* the run stopped with an error (non-finite parameters, say) */
    double seconds;   /* wall-clock time of the run (summed over the ranks' shares) */
} EvalScore;

typedef struct {
    char name[ENV_NAME_MAX];  /* the environment's name */
    char path[LPG_PATH_MAX];  /* its file */
    EnvKind kind;
    int steps;                /* environment steps per seed here (eval_env_steps) */
    EvalScore method[EVAL_MAX_METHODS]; /* config->rules in order, then A2C */
} EvalRow;

typedef enum { EVAL_TIE, EVAL_LPG, EVAL_A2C, EVAL_UNKNOWN } EvalWinner;

/* Which method is better: the one with the larger mean when the difference of the means exceeds
 * two standard errors of the difference, sqrt(se_lpg^2 + se_a2c^2); else a tie. EVAL_UNKNOWN
 * when either mean or standard error is NaN. */
EvalWinner eval_better(double lpg_mean, double lpg_se, double a2c_mean, double a2c_se);

/* "LPG", "A2C", "tie" or "-". */
const char *eval_winner_name(EvalWinner winner);

/* Runs the whole evaluation: loads the rules, every environment and the A2C configs first (any
 * error stops it before training), then trains this rank's jobs (every job in build/lpg), and
 * on rank 0 writes every curve and fills rows[i] (rows holds config->envs.count rows,
 * caller-owned; other ranks leave them alone). Prints one line per (environment, method), or
 * per rank's share of one, on stderr. Collective in build/lpg-mpi. Returns 0; 1 on rank 0 when
 * some runs failed (reported, marked in their rows, the others done); -1 when nothing could
 * run, or the ranks' results do not fit together (reported). */
int eval_run(const EvalConfig *config, EvalRow *rows);

/* The results as Markdown, with a header saying how the numbers were made (results.md; the
 * CSV and JSON tables are eval_report.c's own). Returns a new string the caller frees, or NULL
 * after reporting. */
char *eval_table_markdown(const EvalConfig *config, const EvalRow *rows, int num_rows);

/* Writes results.md, results.csv and results.json into output_dir, each atomically. Returns 0
 * or -1. */
int eval_write_tables(const EvalConfig *config, const EvalRow *rows, int num_rows);

#endif
