/* eval.c: `lpg eval` (see eval.h): a saved rule and tuned A2C trained side by side on each
 * environment through train_run, final returns over seeds, and the results tables. */
#include "eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule_file.h"
#include "stats.h"
#include "util.h"

/* The environment families that have their own tuned A2C config. */
typedef enum {
    FAMILY_TABULAR_GRID,
    FAMILY_RANDOM_GRID,
    FAMILY_CHAIN,             /* chains without distraction bits: tabular agents */
    FAMILY_CHAIN_DISTRACTION, /* chains with distraction bits: MLP agents */
    NUM_FAMILIES
} A2cFamily;

/* ---- scores --------------------------------------------------------------------------- */

EvalWinner eval_better(double lpg_mean, double lpg_se, double a2c_mean, double a2c_se)
{
    if (isnan(lpg_mean) || isnan(lpg_se) || isnan(a2c_mean) || isnan(a2c_se))
        return EVAL_UNKNOWN;
    double margin = 2 * sqrt(lpg_se * lpg_se + a2c_se * a2c_se);
    if (lpg_mean - a2c_mean > margin)
        return EVAL_LPG;
    if (a2c_mean - lpg_mean > margin)
        return EVAL_A2C;
    return EVAL_TIE;
}

const char *eval_winner_name(EvalWinner winner)
{
    switch (winner) {
    case EVAL_LPG: return "LPG";
    case EVAL_A2C: return "A2C";
    case EVAL_TIE: return "tie";
    case EVAL_UNKNOWN: break;
    }
    return "-";
}

void eval_final_return(const TrainResult *r, EvalScore *score, int *final_points)
{
    int points = r->num_points;
    int last = (points * EVAL_FINAL_PERCENT + 99) / 100;
    last = last < 1 ? 1 : last > points ? points : last;
    *final_points = last;
    double *value = lpg_calloc((size_t)r->num_seeds + 1, sizeof(double), "final returns");
    for (int s = 0; value && s < r->num_seeds; s++)
        mean_se_skip_nan(r->curve + (size_t)s * points + (points - last), last, 1, &value[s], NULL);
    score->count = value ? mean_se_skip_nan(value, r->num_seeds, 1, &score->mean, &score->se) : 0;
    if (!value)
        score->mean = score->se = NAN;
    free(value);
}

int eval_curve_path(const EvalConfig *c, const char *env_name, const char *method, char *out,
                    size_t outsize)
{
    if (!lpg_name_is_safe(env_name) || !lpg_name_is_safe(method)) /* never a path of its own */
        return lpg_error("%s: environment name \"%s\" cannot name a file", c->source, env_name);
    int n = snprintf(out, outsize, "%s/%s.%s.csv", c->output_dir, env_name, method);
    return (n < 0 || (size_t)n >= outsize) ? -1 : 0;
}

/* ---- setup: rule, environments, A2C configs ------------------------------------------ */

typedef struct {
    RuleLayout layout;
    real *eta;
    EnvSpec *specs;              /* [envs.count] */
    TrainConfig a2c[NUM_FAMILIES]; /* tuned A2C keys of each listed family */
} EvalSetup;

static void setup_free(EvalSetup *setup)
{
    free(setup->eta);
    free(setup->specs);
    memset(setup, 0, sizeof *setup);
}

/* Which tuned A2C config an environment uses. */
static A2cFamily a2c_family(const EnvSpec *spec)
{
    switch (spec->kind) {
    case ENV_TABULAR_GRID: return FAMILY_TABULAR_GRID;
    case ENV_RANDOM_GRID: return FAMILY_RANDOM_GRID;
    case ENV_MINATAR: return FAMILY_RANDOM_GRID; /* vector observations, until MinAtar has its own */
    case ENV_CHAIN: break;
    }
    return spec->distraction_bits > 0 ? FAMILY_CHAIN_DISTRACTION : FAMILY_CHAIN;
}

/* The tuned A2C config of a family, and its key. */
static const char *a2c_config_path(const EvalConfig *c, A2cFamily family, const char **key)
{
    switch (family) {
    case FAMILY_TABULAR_GRID: *key = "a2c_tabular_grid"; return c->a2c_tabular_grid;
    case FAMILY_RANDOM_GRID: *key = "a2c_random_grid"; return c->a2c_random_grid;
    case FAMILY_CHAIN_DISTRACTION: *key = "a2c_chain_distraction"; return c->a2c_chain_distraction;
    case FAMILY_CHAIN: case NUM_FAMILIES: break;
    }
    *key = "a2c_chain";
    return c->a2c_chain;
}

/* Reads a tuned `lpg train` config for its A2C keys; the file must be a valid train config. */
static int load_a2c_keys(const EvalConfig *c, A2cFamily family, TrainConfig *out)
{
    const char *key;
    const char *path = a2c_config_path(c, family, &key);
    train_config_defaults(out);
    if (config_load(path, train_config_fields, train_config_num_fields, out, 0, NULL))
        return lpg_error("%s: key '%s': cannot use the A2C config %s", c->source, key, path);
    OptimizerKind optimizer;
    if (optimizer_parse(out->optimizer, &optimizer))
        return lpg_error("%s: key 'optimizer': expected \"sgd\", \"rmsprop\" or \"adam\", got \"%s\"",
                         path, out->optimizer);
    return 0;
}

/* Loads every environment, refusing two with one name (their curves would share a file). */
static int load_envs(const EvalConfig *c, EnvSpec *specs)
{
    for (int i = 0; i < c->envs.count; i++) {
        if (env_load(c->envs.item[i], &specs[i]))
            return lpg_error("%s: key 'envs': item %d cannot be used", c->source, i);
        for (int j = 0; j < i; j++)
            if (strcmp(specs[i].name, specs[j].name) == 0)
                return lpg_error("%s: key 'envs': %s and %s are both named \"%s\"", c->source,
                                 specs[j].path, specs[i].path, specs[i].name);
    }
    return 0;
}

/* Everything the runs need, checked before the first one starts. */
static int setup_load(const EvalConfig *c, EvalSetup *setup)
{
    memset(setup, 0, sizeof *setup);
    if (!(setup->eta = rule_file_load(c->rule, &setup->layout)))
        return -1;
    setup->specs = lpg_calloc((size_t)c->envs.count, sizeof(EnvSpec), "environments");
    if (!setup->specs || load_envs(c, setup->specs))
        return -1;
    int loaded[NUM_FAMILIES] = {0};
    for (int i = 0; i < c->envs.count; i++) {
        A2cFamily family = a2c_family(&setup->specs[i]);
        if (!loaded[family] && load_a2c_keys(c, family, &setup->a2c[family]))
            return -1;
        loaded[family] = 1;
    }
    char curve[LPG_PATH_MAX];
    for (int i = 0; i < c->envs.count; i++)
        if (!lpg_name_is_safe(setup->specs[i].name) ||
            eval_curve_path(c, setup->specs[i].name, "lpg", curve, sizeof curve))
            return lpg_error("%s: key 'output_dir': path too long", c->source);
    return make_dirs(c->output_dir);
}

/* ---- the runs ------------------------------------------------------------------------- */

/* The train config both methods share on spec: seeds, budget, sizes, curve points. */
static TrainConfig shared_train_config(const EvalConfig *c, const EnvSpec *spec)
{
    TrainConfig t;
    train_config_defaults(&t);
    snprintf(t.env, sizeof t.env, "%s", spec->path);
    t.seed = c->seed, t.seeds = c->seeds, t.steps = c->steps;
    t.copies = c->copies, t.unroll = c->unroll, t.threads = c->threads;
    t.mlp_hidden = c->mlp_hidden;
    t.log_points = c->log_points;
    return t;
}

static TrainConfig lpg_train_config(const EvalConfig *c, const EnvSpec *spec)
{
    TrainConfig t = shared_train_config(c, spec);
    strcpy(t.method, "lpg");
    snprintf(t.rule, sizeof t.rule, "%s", c->rule);
    t.alpha_lr = spec->num_states > 0 ? c->tabular_alpha_lr : c->mlp_alpha_lr;
    t.alpha_y = c->alpha_y;
    return t;
}

static TrainConfig a2c_train_config(const EvalConfig *c, const EnvSpec *spec,
                                    const TrainConfig *tuned)
{
    TrainConfig t = shared_train_config(c, spec);
    strcpy(t.method, "a2c");
    strcpy(t.optimizer, tuned->optimizer);
    t.a2c = tuned->a2c;
    return t;
}

/* Trains one method on one environment, writes its curve and scores it. Returns 0 or -1
 * (reported; score->failed is set). */
static int run_method(const EvalConfig *c, TrainConfig *t, const EnvSpec *spec,
                      const EvalSetup *setup, EvalRow *row, EvalScore *score)
{
    memset(score, 0, sizeof *score);
    score->mean = score->se = NAN;
    score->failed = 1;
    TrainResult result;
    if (eval_curve_path(c, spec->name, t->method, t->output, sizeof t->output) ||
        train_config_finish(t, c->source))
        return -1;
    double start = now_seconds();
    int rc = train_run(t, spec, &setup->layout, setup->eta, 0, &result);
    score->seconds = now_seconds() - start;
    if (rc) {
        fprintf(stderr, "eval: %s %s: failed after %.1fs\n", spec->name, t->method, score->seconds);
        return -1;
    }
    rc = train_write_csv(&result, t, t->output);
    eval_final_return(&result, score, &row->final_points);
    row->points = result.num_points;
    score->failed = rc != 0;
    train_result_free(&result);
    fprintf(stderr, "eval: %s %s: final return %.4g +- %.2g over %d seeds (%.1fs)\n", spec->name,
            t->method, score->mean, score->se, score->count, score->seconds);
    return rc;
}

int eval_run(const EvalConfig *c, EvalRow *rows)
{
    EvalSetup setup;
    if (setup_load(c, &setup)) {
        setup_free(&setup);
        return -1;
    }
    fprintf(stderr, "eval: %s against A2C on %d environments, %d seeds, %d steps per seed\n",
            c->rule, c->envs.count, c->seeds, c->steps);
    int failed = 0;
    for (int i = 0; i < c->envs.count; i++) {
        const EnvSpec *spec = &setup.specs[i];
        EvalRow *row = &rows[i];
        memset(row, 0, sizeof *row);
        snprintf(row->name, sizeof row->name, "%s", spec->name);
        snprintf(row->path, sizeof row->path, "%s", spec->path);
        row->kind = spec->kind;
        TrainConfig lpg = lpg_train_config(c, spec);
        TrainConfig a2c = a2c_train_config(c, spec, &setup.a2c[a2c_family(spec)]);
        failed |= run_method(c, &lpg, spec, &setup, row, &row->lpg) != 0;
        failed |= run_method(c, &a2c, spec, &setup, row, &row->a2c) != 0;
    }
    setup_free(&setup);
    return failed ? 1 : 0;
}

/* ---- tables --------------------------------------------------------------------------- */

/* "12.3 ± 0.45", with "(n=3)" when fewer seeds than run have a value; "failed" or "-". */
static void format_score(const EvalScore *s, int seeds, char *out, size_t size)
{
    if (s->failed)
        snprintf(out, size, "failed");
    else if (isnan(s->mean))
        snprintf(out, size, "-");
    else if (s->count < seeds)
        snprintf(out, size, "%.4g ± %.2g (n=%d)", s->mean, s->se, s->count);
    else
        snprintf(out, size, "%.4g ± %.2g", s->mean, s->se);
}

static EvalWinner row_winner(const EvalRow *row)
{
    if (row->lpg.failed || row->a2c.failed)
        return EVAL_UNKNOWN;
    return eval_better(row->lpg.mean, row->lpg.se, row->a2c.mean, row->a2c.se);
}

/* Closes a memory stream and returns its text (open_memstream sets *text only at the close),
 * or NULL (reported) when it ran out of memory. */
static char *close_text(FILE *f, char **text)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || !*text) {
        free(*text);
        lpg_error("out of memory writing the results table");
        return NULL;
    }
    return *text;
}

static void markdown_header(FILE *f, const EvalConfig *c, const EvalRow *rows, int num_rows)
{
    int points = 0, final_points = 0; /* the same in every row that ran */
    for (int i = 0; i < num_rows && !points; i++)
        points = rows[i].points, final_points = rows[i].final_points;
    fprintf(f, "# lpg eval\n\n"
               "Rule `%s` (LPG) against tuned A2C. %d seeds (%d to %d) per environment and "
               "method, %d environment steps per seed (%d copies, %d steps per update).\n\n",
            c->rule, c->seeds, c->seed, c->seed + c->seeds - 1, c->steps, c->copies, c->unroll);
    fprintf(f, "Final return: each seed's mean return over the last %d%% of its learning curve "
               "(the last %d of %d points), then the mean ± standard error over seeds. "
               "Better: the method with the higher mean where the difference exceeds two "
               "standard errors of the difference, sqrt(se_LPG² + se_A2C²); else tie.\n\n",
            EVAL_FINAL_PERCENT, final_points, points);
}

char *eval_table_markdown(const EvalConfig *c, const EvalRow *rows, int num_rows)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return lpg_error("out of memory writing the results table"), NULL;
    markdown_header(f, c, rows, num_rows);
    fprintf(f, "| environment | kind | LPG | A2C | better |\n|---|---|---:|---:|---|\n");
    int wins[4] = {0};
    for (int i = 0; i < num_rows; i++) {
        char lpg[64], a2c[64];
        format_score(&rows[i].lpg, c->seeds, lpg, sizeof lpg);
        format_score(&rows[i].a2c, c->seeds, a2c, sizeof a2c);
        EvalWinner w = row_winner(&rows[i]);
        wins[w]++;
        fprintf(f, "| %s | %s | %s | %s | %s |\n", rows[i].name, env_kind_name(rows[i].kind),
                lpg, a2c, eval_winner_name(w));
    }
    fprintf(f, "\nLPG better on %d, A2C better on %d, tie on %d", wins[EVAL_LPG], wins[EVAL_A2C],
            wins[EVAL_TIE]);
    if (wins[EVAL_UNKNOWN])
        fprintf(f, ", undecided on %d", wins[EVAL_UNKNOWN]);
    fprintf(f, " of %d environments.\n", num_rows);
    return close_text(f, &text);
}

char *eval_table_csv(const EvalConfig *c, const EvalRow *rows, int num_rows)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return lpg_error("out of memory writing the results table"), NULL;
    fprintf(f, "environment,kind,seeds,steps,final_points,lpg_mean,lpg_se,lpg_seeds,"
               "a2c_mean,a2c_se,a2c_seeds,better\n");
    for (int i = 0; i < num_rows; i++) {
        const EvalRow *r = &rows[i];
        fprintf(f, "%s,%s,%d,%d,%d,%.6g,%.6g,%d,%.6g,%.6g,%d,%s\n", r->name,
                env_kind_name(r->kind), c->seeds, c->steps, r->final_points, r->lpg.mean,
                r->lpg.se, r->lpg.failed ? 0 : r->lpg.count, r->a2c.mean, r->a2c.se,
                r->a2c.failed ? 0 : r->a2c.count, eval_winner_name(row_winner(r)));
    }
    return close_text(f, &text);
}

static int write_text(const char *dir, const char *name, char *text)
{
    char path[LPG_PATH_MAX];
    int rc = -1;
    if (!text)
        return -1;
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        lpg_error("%s/%s: path too long", dir, name);
    else
        rc = write_file_atomic(path, text, strlen(text));
    free(text);
    return rc;
}

int eval_write_tables(const EvalConfig *c, const EvalRow *rows, int num_rows)
{
    if (make_dirs(c->output_dir))
        return -1;
    int rc = write_text(c->output_dir, "results.md", eval_table_markdown(c, rows, num_rows));
    return rc ? rc : write_text(c->output_dir, "results.csv", eval_table_csv(c, rows, num_rows));
}
