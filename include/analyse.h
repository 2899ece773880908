/* analyse.h: `lpg analyse`, what a learned rule's predictions y hold (the paper's Figures 4-6).
 * Every analysis holds an agent's policy fixed (ε-greedy on the optimal values that value
 * iteration finds, grid_mdp.h) on tabular grids and updates only y with the rule
 * (fixed_policy.h); the true values come from the exact model.
 *
 *   ymap      one grid: after `updates` y updates, the states' y beside v_π at gamma; the y
 *             dimensions that correlate most with v_π (|Pearson r| over states visited at least
 *             min_visits times), drawn over the grid. ymap.csv (a row per visited state),
 *             ymap_dims.csv (every dimension's r), ymap.png.
 *   values    `instances` grids for training and `heldout` more for testing (procedural grids
 *             give a new layout per instance): y at gamma and a TD(λ) value at gamma learned on
 *             the same rollouts; for each γ of value_gammas a one-hidden-layer MLP g: y → v_γ
 *             and h: v̂_TD → v_γ, fitted alike; mean squared error on the held-out states.
 *             values.csv (a row per γ), values.png (bars).
 *   converge  `instances` grids, each with two agents of the same policy and differently drawn
 *             y (init_std), updated by the rule on the same rollouts; KL(y0 ‖ y1) over each
 *             rollout's states before every update, averaged over instances. converge.csv (a
 *             row per update), converge.png.
 *
 * Results depend only on the config and seed. Each writes its files into output_dir
 * atomically, then draws the PNG with gnuplot (plot: false skips it). */
#ifndef LPG_ANALYSE_H
#define LPG_ANALYSE_H

#include <stddef.h>

#include "config.h"
#include "real.h"
#include "rule.h"

/* The stream of an instance's generator (rng.h). */
#define RNG_STREAM_ANALYSE 0x616e616c797365ULL /* "analyse" */

typedef enum { ANALYSE_YMAP, ANALYSE_VALUES, ANALYSE_CONVERGE } AnalyseKind;

typedef struct {
    char rule[LPG_PATH_MAX];       /* the rule file */
    char env[LPG_PATH_MAX];        /* a tabular_grid or procedural_grid file */
    char output_dir[LPG_PATH_MAX];
    int seed;                      /* instance k uses seed + k */
    double gamma;                  /* the rule's γ input, value iteration's and the TD value's */
    double epsilon;                /* the fixed policy: ε-greedy on the optimal values */
    int random_start;              /* episodes start at random free cells (coverage) */
    int copies, unroll, updates;   /* n, T, y updates per instance */
    double alpha_lr, alpha_y;      /* the inner step (tabular: per-state mean) and KL weight */
    double init_std;               /* std of the initial y logits (0: uniform y) */
    int min_visits;                /* states visited less often are left out */
    int dims;                      /* ymap: y dimensions drawn */
    int mask;                      /* ymap: which objects are present in the maps (-1: the
                                      most visited combination) */
    int instances, heldout;        /* values: training and held-out grids; converge: grids */
    ConfigDoubleList value_gammas; /* values: the discounts regressed */
    int fit_hidden, fit_steps;     /* values: MLP width, full-batch Adam steps */
    double fit_lr;                 /* values: Adam's step */
    double td_lambda, td_lr;       /* values: the TD(λ) baseline (per-state mean step) */
    double vi_tol;                 /* value iteration stops when no value moves more */
    int plot;                      /* draw the PNG with gnuplot */
} AnalyseConfig;

extern const ConfigField analyse_config_fields[];
extern const int analyse_config_num_fields;

/* "ymap", "values" or "converge" into *kind; -1 (not reported) for another name. */
int analyse_kind_parse(const char *name, AnalyseKind *kind);

void analyse_config_defaults(AnalyseConfig *config);

/* Defaults, the file, the overrides, then the checks the analysis needs. Returns 0, or -1
 * after reporting "lpg: <file>: key '<k>': ...". */
int analyse_config_load(AnalyseConfig *config, AnalyseKind kind, const char *path,
                        int noverrides, char **overrides);

/* Runs one analysis with the rule (layout, eta); progress 1 prints a progress line on stderr
 * and a summary on stdout, 0 is silent. Returns 0, or -1 after reporting. */
int analyse_ymap(const AnalyseConfig *config, const RuleLayout *layout, const real *eta,
                 int progress);
int analyse_values(const AnalyseConfig *config, const RuleLayout *layout, const real *eta,
                   int progress);
int analyse_converge(const AnalyseConfig *config, const RuleLayout *layout, const real *eta,
                     int progress);

/* KL(softmax(u0) ‖ softmax(u1)) over m logits, in double. */
double analyse_kl_logits(const real *u0, const real *u1, int m);

/* Pearson correlation of x and y (n values each, stride apart); 0 when either is constant. */
double analyse_correlation(const double *x, size_t x_stride, const double *y, size_t y_stride,
                           int n);

/* Text built piece by piece (a CSV, a gnuplot script); an allocation failure sticks in failed
 * and is reported once by analyse_text_write. */
typedef struct {
    char *data;
    size_t len, cap;
    int failed;
} AnalyseText;

void analyse_text_add(AnalyseText *text, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Writes the text to <dir>/<name> atomically and frees it. Returns 0 or -1 (reported). */
int analyse_text_write(AnalyseText *text, const char *dir, const char *name);

/* Writes script to <dir>/<name>.gp and runs gnuplot on it, which draws <dir>/<name>.png
 * (written as .png.tmp, renamed when gnuplot succeeded). Returns 0 or -1 (reported). */
int analyse_plot(const char *dir, const char *name, int width, int height, AnalyseText *script);

/* A progress line on stderr, "analyse <what>: <done>/<total> <unit>, <s>s": on a terminal it
 * overwrites itself, otherwise it is printed every 10 s; the last (done == total) always. */
typedef struct {
    const char *what, *unit;
    int enabled, tty;
    double started, last;
} AnalyseProgress;

void analyse_progress_start(AnalyseProgress *p, const char *what, const char *unit, int enabled);
void analyse_progress(AnalyseProgress *p, int done, int total);

#endif
