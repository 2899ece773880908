/* eval.c: `lpg eval` (see eval.h): saved rules and tuned A2C trained side by side on each
 * environment through train_run, final scores over seeds, and the results in Markdown, CSV and
 * JSON. */
#include "eval.h"
#include "memory_estimate.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "dist.h"
#include "provenance.h"
#include "rule_file.h"
#include "stats.h"
#include "util.h"

/* The environment families that have their own tuned A2C config. */

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

int eval_curve_path(const EvalConfig *c, const char *env_name, const char *method, char *out,
                    size_t outsize)
{
    if (!lpg_name_is_safe(env_name) || !lpg_name_is_safe(method)) /* never a path of its own */
        return lpg_error("%s: \"%s\" cannot name a file", c->source,
                         lpg_name_is_safe(env_name) ? method : env_name);
    int n = snprintf(out, outsize, "%s/%s.%s.csv", c->output_dir, env_name, method);
    return (n < 0 || (size_t)n >= outsize) ? -1 : 0;
}

/* ---- setup: rule, environments, A2C configs ------------------------------------------ */

typedef struct {
    RuleLayout layout[EVAL_MAX_RULES];
    real *eta[EVAL_MAX_RULES];
    EnvSpec *specs;              /* [envs.count] */
    TrainConfig a2c[EVAL_FAMILIES]; /* tuned A2C keys of each listed family */
    uint64_t fingerprint;        /* of the inputs, the same on every rank (inputs_fingerprint) */
} EvalSetup;

static void setup_free(EvalSetup *setup)
{
    for (int r = 0; r < EVAL_MAX_RULES; r++)
        free(setup->eta[r]);
    free(setup->specs);
    memset(setup, 0, sizeof *setup);
}

EvalFamily eval_family(const EnvSpec *spec)
{
    switch (spec->kind) {
    case ENV_TABULAR_GRID: case ENV_PROCEDURAL_GRID: return EVAL_TABULAR_GRID;
    case ENV_RANDOM_GRID: case ENV_PROCEDURAL_RANDOM_GRID: return EVAL_RANDOM_GRID;
    case ENV_MINATAR: return EVAL_MINATAR;
    case ENV_CHAIN: break;
    }
    return spec->distraction_bits > 0 ? EVAL_CHAIN_DISTRACTION : EVAL_CHAIN;
}

int eval_env_steps(const EvalConfig *c, const EnvSpec *spec)
{
    int steps = c->family_steps[eval_family(spec)];
    return steps > 0 ? steps : c->steps;
}

/* Reads a tuned `lpg train` config for its A2C keys; the file must be a valid train config. */
static int load_a2c_keys(const EvalConfig *c, EvalFamily family, TrainConfig *out)
{
    const char *key = eval_families[family].a2c_key, *path = c->a2c[family];
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

static TrainConfig shared_train_config(const EvalConfig *c, const EnvSpec *spec);

/* Before the first run: the output folder is writable and the largest run fits in memory. */
static int check_resources(const EvalConfig *c, const EvalSetup *setup)
{
    if (dist_rank() == 0 && check_output_dir(c->output_dir, "output_dir")) /* it alone writes */
        return lpg_error("%s: key 'output_dir': cannot write the results there", c->source);
    double need = 0;
    for (int i = 0; i < c->envs.count; i++) {
        TrainConfig t = shared_train_config(c, &setup->specs[i]);
        for (int r = 0; r <= c->num_rules; r++) { /* the rules, then A2C (no rule) */
            int hidden = r < c->num_rules ? setup->layout[r].hidden : 0;
            double bytes = memory_train(&t, &setup->specs[i], hidden);
            need = bytes > need ? bytes : need;
        }
    }
    return memory_check(need, c->max_memory, c->source);
}

/* Everything the runs need, checked before the first one starts. */
static int setup_load(const EvalConfig *c, EvalSetup *setup)
{
    memset(setup, 0, sizeof *setup);
    for (int r = 0; r < c->num_rules; r++)
        if (!(setup->eta[r] = rule_file_load(c->rules[r].path, &setup->layout[r])))
            return -1;
    setup->specs = lpg_calloc((size_t)c->envs.count, sizeof(EnvSpec), "environments");
    if (!setup->specs || load_envs(c, setup->specs) ||
        agent_check_kind(c->conv_filters, setup->specs, c->envs.count, c->source))
        return -1;
    int loaded[EVAL_FAMILIES] = {0};
    for (int i = 0; i < c->envs.count; i++) {
        EvalFamily family = eval_family(&setup->specs[i]);
        if (!loaded[family] && load_a2c_keys(c, family, &setup->a2c[family]))
            return -1;
        loaded[family] = 1;
    }
    char curve[LPG_PATH_MAX];
    for (int i = 0; i < c->envs.count; i++)
        if (!lpg_name_is_safe(setup->specs[i].name) ||
            eval_curve_path(c, setup->specs[i].name, "a2c", curve, sizeof curve) ||
            eval_curve_path(c, setup->specs[i].name, c->rules[0].name, curve, sizeof curve))
            return lpg_error("%s: key 'output_dir': path too long", c->source);
    return check_resources(c, setup);
}

/* ---- the runs ------------------------------------------------------------------------- */

/* The train config both methods share on spec: seeds, budget, sizes, curve points. */
static TrainConfig shared_train_config(const EvalConfig *c, const EnvSpec *spec)
{
    TrainConfig t;
    train_config_defaults(&t);
    snprintf(t.env, sizeof t.env, "%s", spec->path);
    t.seed = c->seed, t.seeds = c->seeds, t.steps = eval_env_steps(c, spec);
    t.copies = c->copies, t.unroll = c->unroll, t.threads = c->threads;
    t.mlp_hidden = c->mlp_hidden;
    snprintf(t.agent, sizeof t.agent, "%s", c->agent);
    t.conv_filters = c->conv_filters;
    t.log_points = c->log_points;
    return t;
}

/* A rule's train config: method lpg, or lpg_v for an LPG-V rule (its kind is in the file). */
static TrainConfig lpg_train_config(const EvalConfig *c, const EvalRule *rule,
                                    const RuleLayout *layout, const EnvSpec *spec)
{
    TrainConfig t = shared_train_config(c, spec);
    strcpy(t.method, layout->method == RULE_LPG_V ? "lpg_v" : "lpg");
    snprintf(t.rule, sizeof t.rule, "%s", rule->path);
    t.alpha_lr = spec->num_states == 0     ? rule->mlp_alpha_lr
                 : spec->kind == ENV_CHAIN ? rule->chain_alpha_lr
                                           : rule->tabular_alpha_lr;
    t.alpha_y = rule->alpha_y;
    snprintf(t.inner_optimizer, sizeof t.inner_optimizer, "%s", rule->inner_optimizer);
    inner_optimizer_parse(t.inner_optimizer, &t.inner_kind, c->source); /* checked on load */
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

/* ---- jobs: (environment, method, seed), split across ranks --------------------------- */

/* The jobs are numbered environment by environment, then method by method (the rules, then
 * A2C), then seed by seed. Each rank runs one contiguous block of them, of nearly equal
 * estimated cost (dist_split_by_cost), as parts: the seeds of one method on one environment
 * that fall in its block, trained by one train_run on the rank's threads. Rank 0 gathers every
 * part's per-seed values in job order and puts each method's result together exactly as one
 * train_run over all its seeds would have made it. */

typedef struct {
    int env, method;   /* method: config->rules index, or num_rules for A2C */
    int first, count;  /* seed indices [first, first + count) */
} EvalPart;

/* What a rank sends first: a fingerprint of its inputs and how many parts follow. */
typedef struct {
    uint64_t inputs;
    int64_t parts;
} RankHeader;

/* What each part sends before its seeds' values. */
typedef struct {
    int64_t failed;
    double seconds;
} PartHeader;

static int num_methods(const EvalConfig *c) { return c->num_rules + 1; }

static const char *method_name(const EvalConfig *c, int m)
{
    return m < c->num_rules ? c->rules[m].name : "a2c";
}

/* Estimated cost of one seed of method m on spec: its steps times a cost per step, 1 for a
 * tabular agent and 3 for an MLP agent, times 1.6 when a rule computes the update (its network
 * over the rollout): rough ratios of CPU times on the shipped environments. */
static double job_cost(const EvalConfig *c, const EnvSpec *spec, int m)
{
    double agent = spec->num_states > 0 ? 1 : 3, rule = m < c->num_rules ? 1.6 : 1;
    return (double)eval_env_steps(c, spec) * agent * rule;
}

/* The train config of method m on environment i, its curve path set; -1 when it is unusable
 * (reported). */
static int method_config(const EvalConfig *c, const EvalSetup *setup, int i, int m,
                         TrainConfig *t)
{
    const EnvSpec *spec = &setup->specs[i];
    *t = m < c->num_rules ? lpg_train_config(c, &c->rules[m], &setup->layout[m], spec)
                          : a2c_train_config(c, spec, &setup->a2c[eval_family(spec)]);
    if (eval_curve_path(c, spec->name, method_name(c, m), t->output, sizeof t->output))
        return -1;
    return train_config_finish(t, c->source);
}

/* The parts of rank's block of jobs, in job order; returns how many (at most envs x methods). */
static int rank_parts(const EvalConfig *c, const double *cost, int rank, EvalPart *parts)
{
    int per_env = num_methods(c) * c->seeds, first, end, n = 0;
    dist_split_by_cost(cost, c->envs.count * per_env, dist_size(), rank, &first, &end);
    for (int j = first; j < end; j++) {
        int env = j / per_env, method = j % per_env / c->seeds, seed = j % c->seeds;
        if (n > 0 && parts[n - 1].env == env && parts[n - 1].method == method) {
            parts[n - 1].count++;
            continue;
        }
        parts[n++] = (EvalPart){env, method, seed, 1};
    }
    return n;
}

/* Bytes one part sends. */
static size_t part_bytes(const EvalPart *p, size_t seed_bytes)
{
    return sizeof(PartHeader) + (size_t)p->count * seed_bytes;
}

/* The size of every environment's results per seed (the same for every method there). */
static int seed_sizes(const EvalConfig *c, const EvalSetup *setup, size_t *sizes)
{
    for (int i = 0; i < c->envs.count; i++) {
        TrainConfig t = shared_train_config(c, &setup->specs[i]);
        TrainResult empty;
        t.seeds = 1;
        if (train_result_init(&empty, &t))
            return -1;
        sizes[i] = train_seed_bytes(&empty);
        train_result_free(&empty);
    }
    return 0;
}

/* One line on stderr per part: a whole method's final score, as `lpg eval` has always printed,
 * or a part's over its seeds with the rank that ran it. */
static void print_part(const EvalConfig *c, const EvalPart *p, const EnvSpec *spec,
                       const TrainResult *result, double seconds)
{
    char where[64] = "";
    int seed = c->seed + p->first;
    if (p->count == 1 && c->seeds > 1)
        snprintf(where, sizeof where, " (seed %d on rank %d)", seed, dist_rank());
    else if (p->count < c->seeds)
        snprintf(where, sizeof where, " (seeds %d-%d on rank %d)", seed, seed + p->count - 1,
                 dist_rank());
    const char *name = method_name(c, p->method);
    if (!result) {
        fprintf(stderr, "eval: %s %s%s: failed after %.1fs\n", spec->name, name, where, seconds);
        return;
    }
    TrainScore score;
    train_final_score(result, &score);
    fprintf(stderr, "eval: %s %s%s: final score %.4g +- %.2g reward per step over %d seeds, "
            "return %.4g (%.1fs)\n", spec->name, name, where, score.mean, score.se, score.seeds,
            score.return_mean, seconds);
}

/* Trains one part and writes its header and seeds' values into out (part_bytes of them). */
static void run_part(const EvalConfig *c, const EvalSetup *setup, const EvalPart *p,
                     size_t seed_bytes, unsigned char *out)
{
    const EnvSpec *spec = &setup->specs[p->env];
    PartHeader head = {1, 0};
    TrainConfig t;
    TrainResult result;
    if (method_config(c, setup, p->env, p->method, &t) == 0) {
        t.seed += p->first, t.seeds = p->count;
        int rule = p->method < c->num_rules;
        double start = now_seconds();
        head.failed = train_run(&t, spec, rule ? &setup->layout[p->method] : NULL,
                                rule ? setup->eta[p->method] : NULL, 0, &result) != 0;
        head.seconds = now_seconds() - start;
    }
    print_part(c, p, spec, head.failed ? NULL : &result, head.seconds);
    memcpy(out, &head, sizeof head);
    memset(out + sizeof head, 0, (size_t)p->count * seed_bytes);
    for (int s = 0; !head.failed && s < p->count; s++)
        train_seed_pack(&result, s, out + sizeof head + (size_t)s * seed_bytes);
    if (!head.failed)
        train_result_free(&result);
}

/* Runs this rank's parts; *out (malloc'd) holds its header and every part's bytes. */
static int run_rank(const EvalConfig *c, const EvalSetup *setup, const double *cost,
                    const size_t *seed_bytes, unsigned char **out, size_t *len)
{
    EvalPart *parts = lpg_calloc((size_t)c->envs.count * num_methods(c), sizeof *parts, "jobs");
    if (!parts)
        return -1;
    int n = rank_parts(c, cost, dist_rank(), parts);
    RankHeader head = {setup->fingerprint, n};
    *len = sizeof head;
    for (int k = 0; k < n; k++)
        *len += part_bytes(&parts[k], seed_bytes[parts[k].env]);
    *out = lpg_calloc(*len, 1, "results of this rank");
    if (*out) {
        memcpy(*out, &head, sizeof head);
        size_t at = sizeof head;
        for (int k = 0; k < n; k++) {
            run_part(c, setup, &parts[k], seed_bytes[parts[k].env], *out + at);
            at += part_bytes(&parts[k], seed_bytes[parts[k].env]);
        }
    }
    free(parts);
    return *out ? 0 : -1;
}

/* Every method's result over all seeds, filled from the gathered parts. */
typedef struct {
    TrainResult result;
    TrainConfig config;
    int failed;        /* a part failed, or the config was unusable */
    double seconds;    /* summed over its parts */
} MethodRun;

/* Reads every rank's parts from the gathered bytes into runs ([envs x methods]). */
static int unpack_ranks(const EvalConfig *c, const EvalSetup *setup, const double *cost,
                        const size_t *seed_bytes, const unsigned char *all, size_t len,
                        MethodRun *runs)
{
    EvalPart *parts = lpg_calloc((size_t)c->envs.count * num_methods(c), sizeof *parts, "jobs");
    if (!parts)
        return -1;
    size_t at = 0;
    int rc = 0;
    for (int r = 0; rc == 0 && r < dist_size(); r++) {
        int n = rank_parts(c, cost, r, parts);
        RankHeader head;
        if (at + sizeof head > len)
            break;
        memcpy(&head, all + at, sizeof head);
        at += sizeof head;
        if (head.inputs != setup->fingerprint || head.parts != n) {
            rc = lpg_error("%s: rank %d read other inputs than rank 0 (the config, rules, "
                           "environment files and A2C configs must be the same on every node)",
                           c->source, r);
            break;
        }
        for (int k = 0; k < n && at + part_bytes(&parts[k], seed_bytes[parts[k].env]) <= len; k++) {
            const EvalPart *p = &parts[k];
            MethodRun *run = &runs[p->env * num_methods(c) + p->method];
            PartHeader part;
            memcpy(&part, all + at, sizeof part);
            run->failed |= part.failed != 0;
            run->seconds += part.seconds;
            for (int s = 0; s < p->count; s++)
                train_seed_unpack(&run->result, p->first + s,
                                  all + at + sizeof part + (size_t)s * seed_bytes[p->env]);
            at += part_bytes(p, seed_bytes[p->env]);
        }
    }
    free(parts);
    if (rc == 0 && at != len)
        rc = lpg_error("eval: the ranks sent %zu bytes of results, expected %zu", len, at);
    return rc;
}

/* Writes a method's curve and fills its score, as a run over all its seeds would. */
static void finish_method(const MethodRun *run, EvalScore *score)
{
    memset(score, 0, sizeof *score);
    score->score.mean = score->score.se = NAN;
    score->score.return_mean = score->score.return_se = NAN;
    score->failed = 1;
    score->seconds = run->seconds;
    if (run->failed)
        return;
    train_final_score(&run->result, &score->score);
    score->failed = train_write_csv(&run->result, &run->config, run->config.output) != 0;
}

/* The tables eval writes last (eval_write_tables), each naming every curve of the run. */
static const char *const table_names[] = {"results.md", "results.csv", "results.json"};

/* Before the first curve is written: removes the tables of an earlier eval in output_dir and
 * the picture scripts/plot drew of its curves by default, so that an eval killed while writing
 * its files leaves no table or picture beside curves it does not describe. Each file is written
 * whole (write_file_atomic), the tables after every curve: a table in output_dir means its
 * curves are there too. Returns 0 or -1 (reported). */
static int remove_old_tables(const EvalConfig *c)
{
    static const char *const names[] = {"results.md", "results.csv", "results.json", "curves.png"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[LPG_PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", c->output_dir, names[i]) >= (int)sizeof path)
            return lpg_error("%s/%s: path too long", c->output_dir, names[i]);
        if (unlink(path) != 0 && errno != ENOENT)
            return lpg_error("%s: cannot remove the results of an earlier eval: %s", path,
                             strerror(errno));
    }
    return 0;
}

/* Rank 0: puts every method's result together from the gathered bytes, writes the curves and
 * fills rows. Returns 0, 1 when some runs failed, -1 when the bytes do not fit (reported). */
static int collect(const EvalConfig *c, const EvalSetup *setup, const double *cost,
                   const size_t *seed_bytes, const unsigned char *all, size_t len, EvalRow *rows)
{
    int methods = num_methods(c), count = c->envs.count * methods, rc = 0;
    MethodRun *runs = lpg_calloc((size_t)count, sizeof *runs, "results");
    if (!runs)
        return -1;
    for (int k = 0; k < count && rc == 0; k++) {
        MethodRun *run = &runs[k];
        run->failed = method_config(c, setup, k / methods, k % methods, &run->config) != 0;
        rc = train_result_init(&run->result, &run->config);
    }
    if (rc == 0)
        rc = unpack_ranks(c, setup, cost, seed_bytes, all, len, runs);
    if (rc == 0)
        rc = remove_old_tables(c);
    for (int i = 0; rc >= 0 && i < c->envs.count; i++) {
        const EnvSpec *spec = &setup->specs[i];
        EvalRow *row = &rows[i];
        memset(row, 0, sizeof *row);
        snprintf(row->name, sizeof row->name, "%s", spec->name);
        snprintf(row->path, sizeof row->path, "%s", spec->path);
        row->kind = spec->kind;
        row->steps = eval_env_steps(c, spec);
        for (int m = 0; m < methods; m++) {
            finish_method(&runs[i * methods + m], &row->method[m]);
            rc |= row->method[m].failed;
        }
    }
    for (int k = 0; k < count; k++)
        train_result_free(&runs[k].result);
    free(runs);
    return rc;
}

/* A fingerprint of what decides the results: the rules, the environment and A2C files, the
 * numbers of the config (not threads, which change nothing). A new key that changes results
 * belongs here, so that ranks given different values are caught. */
static uint64_t inputs_fingerprint(const EvalConfig *c, const EvalSetup *setup)
{
    uint64_t crc = crc32_z(0L, Z_NULL, 0);
    int numbers[] = {c->seed, c->seeds, c->steps}, more[] = {c->copies, c->unroll, c->log_points,
                                                             c->num_rules, c->envs.count,
                                                             c->conv_filters};
    double reals[] = {c->alpha_y, c->mlp_hidden.count};
    crc = crc32_z(crc, (const unsigned char *)numbers, sizeof numbers);
    crc = crc32_z(crc, (const unsigned char *)c->family_steps, sizeof c->family_steps);
    crc = crc32_z(crc, (const unsigned char *)more, sizeof more);
    crc = crc32_z(crc, (const unsigned char *)reals, sizeof reals);
    crc = crc32_z(crc, (const unsigned char *)c->mlp_hidden.item,
                  (size_t)c->mlp_hidden.count * sizeof(double));
    for (int r = 0; r < c->num_rules; r++) {
        double alphas[] = {c->rules[r].tabular_alpha_lr, c->rules[r].mlp_alpha_lr,
                           c->rules[r].alpha_y, c->rules[r].chain_alpha_lr};
        crc = crc32_z(crc, (const unsigned char *)alphas, sizeof alphas);
        if (strcmp(c->rules[r].inner_optimizer, "sgd") != 0) /* the fingerprint of SGD stays */
            crc = crc32_z(crc, (const unsigned char *)c->rules[r].inner_optimizer,
                          strlen(c->rules[r].inner_optimizer));
        crc = crc32_z(crc, (const unsigned char *)setup->eta[r],
                      setup->layout[r].count * sizeof(real));
    }
    int used[EVAL_FAMILIES] = {0};
    for (int i = 0; i < c->envs.count; i++)
        used[eval_family(&setup->specs[i])] = 1;
    for (int i = 0; i < c->envs.count + EVAL_FAMILIES; i++) {
        const char *path = i < c->envs.count ? c->envs.item[i] : c->a2c[i - c->envs.count];
        size_t len;
        char *text = i < c->envs.count || used[i - c->envs.count] ? read_whole_file(path, &len)
                                                                  : NULL;
        if (text)
            crc = crc32_z(crc, (const unsigned char *)text, len);
        free(text);
    }
    return crc;
}

/* ", jobs split over N MPI ranks" when there are several ranks, else "". */
static const char *ranks_note(void)
{
    static char note[64];
    note[0] = '\0';
    if (dist_size() > 1)
        snprintf(note, sizeof note, ", jobs split over %d MPI ranks", dist_size());
    return note;
}

int eval_run(const EvalConfig *c, EvalRow *rows)
{
    EvalSetup setup;
    if (setup_load(c, &setup)) {
        setup_free(&setup);
        return -1;
    }
    setup.fingerprint = inputs_fingerprint(c, &setup);
    if (dist_rank() == 0)
        fprintf(stderr, "eval: %d rule%s against A2C on %d environments, %d seeds%s\n",
                c->num_rules, c->num_rules == 1 ? "" : "s", c->envs.count, c->seeds,
                ranks_note());
    int jobs = c->envs.count * num_methods(c) * c->seeds, rc = -1;
    double *cost = lpg_calloc((size_t)jobs, sizeof(double), "jobs");
    size_t *seed_bytes = lpg_calloc((size_t)c->envs.count, sizeof(size_t), "jobs");
    unsigned char *mine = NULL, *all = NULL;
    size_t len = 0, all_len = 0;
    if (cost && seed_bytes && seed_sizes(c, &setup, seed_bytes) == 0) {
        for (int j = 0; j < jobs; j++)
            cost[j] = job_cost(c, &setup.specs[j / (num_methods(c) * c->seeds)],
                               j / c->seeds % num_methods(c));
        rc = run_rank(c, &setup, cost, seed_bytes, &mine, &len);
    }
    /* A rank that failed above ends the job (dist_finish) while the others wait here. */
    if (rc == 0)
        rc = dist_gather_bytes(mine, len, &all, &all_len);
    if (rc == 0) {
        dist_collectives_done();
        if (dist_rank() == 0)
            rc = collect(c, &setup, cost, seed_bytes, all, all_len, rows);
    }
    free(all);
    free(mine);
    free(seed_bytes);
    free(cost);
    setup_free(&setup);
    return rc;
}

/* ---- tables --------------------------------------------------------------------------- */

/* "0.0123 ± 0.0045", with "(n=3)" when fewer seeds than run have a value; "failed" or "-". */
static void format_score(const EvalScore *s, int seeds, char *out, size_t size)
{
    if (s->failed)
        snprintf(out, size, "failed");
    else if (isnan(s->score.mean))
        snprintf(out, size, "-");
    else if (s->score.seeds < seeds)
        snprintf(out, size, "%.4g ± %.2g (n=%d)", s->score.mean, s->score.se, s->score.seeds);
    else
        snprintf(out, size, "%.4g ± %.2g", s->score.mean, s->score.se);
}

EvalWinner eval_row_winner(const EvalConfig *c, const EvalRow *row, int r)
{
    const EvalScore *rule = &row->method[r], *a2c = &row->method[c->num_rules];
    if (rule->failed || a2c->failed)
        return EVAL_UNKNOWN;
    return eval_better(rule->score.mean, rule->score.se, a2c->score.mean, a2c->score.se);
}

/* The verdict cell of rule r: the rule's name, "A2C", "tie" or "-". */
static const char *verdict_cell(const EvalConfig *c, EvalWinner w, int r)
{
    return w == EVAL_LPG ? c->rules[r].name : eval_winner_name(w);
}

/* Every rule-against-A2C comparison of the table, rule r of row i at [i * num_rules + r]: its
 * two-sided p-value (stats.h's normal approximation, the one behind the two-standard-error
 * verdict), its Holm-adjusted p-value across all the table's comparisons, and its verdict with
 * and without the correction; comparisons counts those with a p-value. */
typedef struct {
    double *p, *p_holm;
    EvalWinner *winner, *winner_holm;
    int comparisons;
} Verdicts;

static void verdicts_free(Verdicts *v)
{
    free(v->p);
    free(v->p_holm);
    free(v->winner);
    free(v->winner_holm);
}

/* Fills v for the table. Returns 0, or -1 when out of memory (reported). A verdict stands after
 * the correction when its adjusted p-value is at most STATS_ALPHA_2SE, the level of the
 * uncorrected rule; otherwise it becomes a tie. */
static int verdicts_compute(const EvalConfig *c, const EvalRow *rows, int num_rows, Verdicts *v)
{
    size_t n = (size_t)num_rows * c->num_rules + 1;
    v->p = lpg_calloc(n, sizeof *v->p, "verdicts");
    v->p_holm = lpg_calloc(n, sizeof *v->p_holm, "verdicts");
    v->winner = lpg_calloc(n, sizeof *v->winner, "verdicts");
    v->winner_holm = lpg_calloc(n, sizeof *v->winner_holm, "verdicts");
    if (!v->p || !v->p_holm || !v->winner || !v->winner_holm)
        return verdicts_free(v), -1;
    for (int i = 0; i < num_rows; i++)
        for (int r = 0; r < c->num_rules; r++) {
            const EvalScore *rule = &rows[i].method[r], *a2c = &rows[i].method[c->num_rules];
            size_t k = (size_t)i * c->num_rules + r;
            v->winner[k] = eval_row_winner(c, &rows[i], r);
            v->p[k] = v->winner[k] == EVAL_UNKNOWN
                          ? NAN
                          : p_two_sided_normal(rule->score.mean, rule->score.se,
                                               a2c->score.mean, a2c->score.se);
        }
    v->comparisons = holm_adjust(v->p, num_rows * c->num_rules, v->p_holm);
    if (v->comparisons < 0)
        return verdicts_free(v), -1;
    for (size_t k = 0; k + 1 < n; k++) {
        int decided = v->winner[k] == EVAL_LPG || v->winner[k] == EVAL_A2C;
        v->winner_holm[k] = !decided                          ? v->winner[k]
                            : v->p_holm[k] <= STATS_ALPHA_2SE ? v->winner[k]
                                                              : EVAL_TIE;
    }
    return 0;
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

/* Steps per seed in the final window of a run of steps, as train_run counts them. */
static long long final_steps(const EvalConfig *c, int steps)
{
    long long per_update = (long long)c->copies * c->unroll;
    long long updates = (steps + per_update - 1) / per_update;
    return (updates * TRAIN_FINAL_PERCENT + 99) / 100 * per_update;
}

/* ", except ..." for the families whose steps_* key replaces steps. */
static void family_budgets_markdown(FILE *f, const EvalConfig *c)
{
    int listed = 0;
    for (int i = 0; i < EVAL_FAMILIES; i++)
        if (c->family_steps[i] > 0)
            fprintf(f, "%s%s %d", listed++ ? ", " : ", except ", eval_families[i].what,
                    c->family_steps[i]);
}

static void markdown_header(FILE *f, const EvalConfig *c)
{
    fprintf(f, "# lpg eval\n\n");
    for (int r = 0; r < c->num_rules; r++) {
        const EvalRule *rule = &c->rules[r];
        fprintf(f, "%s: rule `%s` (α_lr %g for tabular agents", rule->name, rule->path,
                rule->tabular_alpha_lr);
        if (rule->chain_alpha_lr != rule->tabular_alpha_lr)
            fprintf(f, " (%g on chains)", rule->chain_alpha_lr);
        fprintf(f, ", %g for MLP agents%s; α_y %g).\n", rule->mlp_alpha_lr,
                strcmp(rule->inner_optimizer, "adam") == 0 ? ", by Adam" : "", rule->alpha_y);
    }
    fprintf(f, "A2C: tuned per family.\n\n%d seeds (%d to %d) per environment and method, the "
               "same budget for every method: %d environment steps per seed (%d copies, %d steps "
               "per update)", c->seeds, c->seed, c->seed + c->seeds - 1, c->steps, c->copies,
            c->unroll);
    family_budgets_markdown(f, c);
    fprintf(f, ".\n\nFinal score: each seed's reward per step over its last %d%% of steps, then "
               "the mean ± standard error over seeds. Every step counts, so the score is defined "
               "however long the episodes are. A verdict names the method ahead of A2C by more "
               "than two standard errors of the difference, sqrt(se_rule² + se_A2C²); else "
               "tie. That is a two-sided test at level 0.0455 (normal approximation) for each "
               "comparison alone, so among many comparisons some verdicts are chance; the counts "
               "after correction keep only the verdicts that stand under Holm-Bonferroni across "
               "all the table's comparisons (family-wise error at most 0.0455).\n\n",
            TRAIN_FINAL_PERCENT);
}

char *eval_table_markdown(const EvalConfig *c, const EvalRow *rows, int num_rows)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return lpg_error("out of memory writing the results table"), NULL;
    markdown_header(f, c);
    fprintf(f, "| environment | kind |");
    for (int r = 0; r < c->num_rules; r++)
        fprintf(f, " %s |", c->rules[r].name);
    fprintf(f, " A2C |");
    for (int r = 0; r < c->num_rules; r++)
        fprintf(f, " %s vs A2C |", c->rules[r].name);
    fprintf(f, "\n|---|---|");
    for (int m = 0; m <= c->num_rules; m++)
        fprintf(f, "---:|");
    for (int r = 0; r < c->num_rules; r++)
        fprintf(f, "---|");
    fprintf(f, "\n");
    Verdicts v;
    if (verdicts_compute(c, rows, num_rows, &v)) {
        fclose(f);
        free(text);
        return NULL;
    }
    int wins[EVAL_MAX_RULES][4] = {{0}}, wins_holm[EVAL_MAX_RULES][4] = {{0}};
    for (int i = 0; i < num_rows; i++) {
        fprintf(f, "| %s | %s |", rows[i].name, env_kind_name(rows[i].kind));
        for (int m = 0; m <= c->num_rules; m++) {
            char cell[64];
            format_score(&rows[i].method[m], c->seeds, cell, sizeof cell);
            fprintf(f, " %s |", cell);
        }
        for (int r = 0; r < c->num_rules; r++) {
            size_t k = (size_t)i * c->num_rules + r;
            wins[r][v.winner[k]]++;
            wins_holm[r][v.winner_holm[k]]++;
            fprintf(f, " %s |", verdict_cell(c, v.winner[k], r));
        }
        fprintf(f, "\n");
    }
    fprintf(f, "\n");
    for (int r = 0; r < c->num_rules; r++) {
        fprintf(f, "%s better on %d (%d after correction for %d comparisons), A2C better on %d "
                   "(%d after correction), tie on %d (%d after correction)",
                c->rules[r].name, wins[r][EVAL_LPG], wins_holm[r][EVAL_LPG], v.comparisons,
                wins[r][EVAL_A2C], wins_holm[r][EVAL_A2C], wins[r][EVAL_TIE],
                wins_holm[r][EVAL_TIE]);
        if (wins[r][EVAL_UNKNOWN])
            fprintf(f, ", undecided on %d", wins[r][EVAL_UNKNOWN]);
        fprintf(f, " of %d environments.\n", num_rows);
    }
    verdicts_free(&v);
    return close_text(f, &text);
}

/* "better", "worse" or "tie": rule r against A2C; "" when undecided or for A2C itself. */
static const char *verdict_word(const EvalConfig *c, const EvalRow *row, int m)
{
    if (m >= c->num_rules)
        return "";
    switch (eval_row_winner(c, row, m)) {
    case EVAL_LPG: return "better";
    case EVAL_A2C: return "worse";
    case EVAL_TIE: return "tie";
    case EVAL_UNKNOWN: break;
    }
    return "";
}

/* printf's %.6g, or "nan" whatever the NaN's sign. */
static void format_number(double x, char *out, size_t size)
{
    if (isnan(x))
        snprintf(out, size, "nan");
    else
        snprintf(out, size, "%.6g", x);
}

char *eval_table_csv(const EvalConfig *c, const EvalRow *rows, int num_rows)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return lpg_error("out of memory writing the results table"), NULL;
    fprintf(f, "environment,kind,method,seeds,steps,final_steps,mean,se,scored_seeds,episodes,"
               "final_return,final_return_se,verdict\n");
    for (int i = 0; i < num_rows; i++)
        for (int m = 0; m <= c->num_rules; m++) {
            const EvalScore *s = &rows[i].method[m];
            char mean[32], se[32], ret[32], ret_se[32];
            format_number(s->failed ? NAN : s->score.mean, mean, sizeof mean);
            format_number(s->failed ? NAN : s->score.se, se, sizeof se);
            format_number(s->failed ? NAN : s->score.return_mean, ret, sizeof ret);
            format_number(s->failed ? NAN : s->score.return_se, ret_se, sizeof ret_se);
            fprintf(f, "%s,%s,%s,%d,%d,%lld,%s,%s,%d,%lld,%s,%s,%s\n", rows[i].name,
                    env_kind_name(rows[i].kind), method_name(c, m), c->seeds, rows[i].steps,
                    final_steps(c, rows[i].steps), mean, se, s->failed ? 0 : s->score.seeds,
                    s->failed ? 0LL : (long long)s->score.episodes, ret, ret_se,
                    verdict_word(c, &rows[i], m));
        }
    return close_text(f, &text);
}

/* A number, or null for NaN (JSON has no NaN). */
static cJSON *json_number(double x)
{
    return isnan(x) ? cJSON_CreateNull() : cJSON_CreateNumber(x);
}

/* "better", "worse" or "tie" for a rule's winner; NULL when undecided. */
static const char *winner_word(EvalWinner w)
{
    return w == EVAL_LPG ? "better" : w == EVAL_A2C ? "worse" : w == EVAL_TIE ? "tie" : NULL;
}

/* A rule's comparison with A2C (k: its index in v): p-values and the corrected verdict. */
static void add_comparison_json(cJSON *o, const Verdicts *v, size_t k)
{
    const char *corrected = winner_word(v->winner_holm[k]);
    cJSON_AddItemToObject(o, "p_value", json_number(v->p[k]));
    cJSON_AddItemToObject(o, "p_holm", json_number(v->p_holm[k]));
    cJSON_AddItemToObject(o, "verdict_holm", corrected ? cJSON_CreateString(corrected)
                                                       : cJSON_CreateNull());
}

/* Per rule: its verdict counts with and without the correction. */
static cJSON *counts_json(const EvalConfig *c, int num_rows, const Verdicts *v)
{
    cJSON *counts = cJSON_CreateObject();
    for (int r = 0; r < c->num_rules; r++) {
        int n[4] = {0}, n_holm[4] = {0};
        for (int i = 0; i < num_rows; i++) {
            n[v->winner[(size_t)i * c->num_rules + r]]++;
            n_holm[v->winner_holm[(size_t)i * c->num_rules + r]]++;
        }
        cJSON *o = cJSON_AddObjectToObject(counts, c->rules[r].name);
        cJSON_AddNumberToObject(o, "better", n[EVAL_LPG]);
        cJSON_AddNumberToObject(o, "worse", n[EVAL_A2C]);
        cJSON_AddNumberToObject(o, "tie", n[EVAL_TIE]);
        cJSON_AddNumberToObject(o, "undecided", n[EVAL_UNKNOWN]);
        cJSON_AddNumberToObject(o, "better_holm", n_holm[EVAL_LPG]);
        cJSON_AddNumberToObject(o, "worse_holm", n_holm[EVAL_A2C]);
        cJSON_AddNumberToObject(o, "tie_holm", n_holm[EVAL_TIE]);
    }
    return counts;
}

static cJSON *method_json(const EvalConfig *c, const EvalRow *row, int m)
{
    const EvalScore *s = &row->method[m];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "mean", json_number(s->failed ? NAN : s->score.mean));
    cJSON_AddItemToObject(o, "se", json_number(s->failed ? NAN : s->score.se));
    cJSON_AddNumberToObject(o, "seeds", s->failed ? 0 : s->score.seeds);
    cJSON_AddNumberToObject(o, "episodes", s->failed ? 0 : (double)s->score.episodes);
    cJSON_AddItemToObject(o, "final_return", json_number(s->failed ? NAN : s->score.return_mean));
    cJSON_AddItemToObject(o, "final_return_se", json_number(s->failed ? NAN : s->score.return_se));
    cJSON_AddBoolToObject(o, "failed", s->failed);
    cJSON_AddNumberToObject(o, "seconds", s->seconds);
    const char *verdict = verdict_word(c, row, m);
    cJSON_AddItemToObject(o, "verdict", *verdict ? cJSON_CreateString(verdict)
                                                 : cJSON_CreateNull());
    return o;
}

static cJSON *methods_json(const EvalConfig *c)
{
    cJSON *list = cJSON_CreateArray();
    for (int m = 0; m <= c->num_rules; m++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", method_name(c, m));
        if (m < c->num_rules) {
            cJSON_AddStringToObject(o, "rule", c->rules[m].path);
            cJSON_AddNumberToObject(o, "tabular_alpha_lr", c->rules[m].tabular_alpha_lr);
            cJSON_AddNumberToObject(o, "chain_alpha_lr", c->rules[m].chain_alpha_lr);
            cJSON_AddNumberToObject(o, "mlp_alpha_lr", c->rules[m].mlp_alpha_lr);
            cJSON_AddNumberToObject(o, "alpha_y", c->rules[m].alpha_y);
            cJSON_AddStringToObject(o, "inner_optimizer", c->rules[m].inner_optimizer);
        }
        cJSON_AddItemToArray(list, o);
    }
    return list;
}

char *eval_results_json(const EvalConfig *c, const EvalRow *rows, int num_rows)
{
    Verdicts v;
    if (verdicts_compute(c, rows, num_rows, &v))
        return NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "provenance", provenance_json());
    char score[128];
    snprintf(score, sizeof score, "reward per step over the last %d%% of each seed's steps; mean "
             "and standard error over seeds", TRAIN_FINAL_PERCENT);
    cJSON_AddStringToObject(root, "score", score);
    cJSON_AddStringToObject(root, "verdict", "each rule against A2C: better or worse when the "
                                             "means differ by more than two standard errors of "
                                             "the difference, else tie; null when undecided");
    cJSON_AddStringToObject(root, "p_value", "two-sided, normal approximation: erfc(|z| / sqrt 2) "
                                             "with z = (mean_rule - mean_A2C) / sqrt(se_rule^2 + "
                                             "se_A2C^2), so the verdict is better or worse exactly "
                                             "when p < 0.0455");
    cJSON_AddStringToObject(root, "verdict_holm", "the verdict when it stands under the "
                                                  "Holm-Bonferroni correction across all the "
                                                  "table's comparisons at level 0.0455 "
                                                  "(p_holm <= 0.0455), else tie");
    cJSON_AddNumberToObject(root, "comparisons", v.comparisons);
    cJSON_AddItemToObject(root, "counts", counts_json(c, num_rows, &v));
    cJSON_AddNumberToObject(root, "seed", c->seed);
    cJSON_AddNumberToObject(root, "seeds", c->seeds);
    cJSON_AddItemToObject(root, "methods", methods_json(c));
    cJSON *envs = cJSON_AddArrayToObject(root, "environments");
    for (int i = 0; i < num_rows; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", rows[i].name);
        cJSON_AddStringToObject(e, "kind", env_kind_name(rows[i].kind));
        cJSON_AddStringToObject(e, "path", rows[i].path);
        cJSON_AddNumberToObject(e, "steps", rows[i].steps);
        cJSON_AddNumberToObject(e, "final_steps", (double)final_steps(c, rows[i].steps));
        cJSON *results = cJSON_AddObjectToObject(e, "results");
        for (int m = 0; m <= c->num_rules; m++) {
            cJSON *o = method_json(c, &rows[i], m);
            if (m < c->num_rules)
                add_comparison_json(o, &v, (size_t)i * c->num_rules + m);
            cJSON_AddItemToObject(results, method_name(c, m), o);
        }
        cJSON_AddItemToArray(envs, e);
    }
    verdicts_free(&v);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return lpg_error("out of memory writing results.json"), NULL;
    size_t n = strlen(text);
    char *out = malloc(n + 2); /* with a final newline, freed with free() like the others */
    if (out)
        memcpy(out, text, n), out[n] = '\n', out[n + 1] = '\0';
    cJSON_free(text);
    if (!out)
        lpg_error("out of memory writing results.json");
    return out;
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
    int rc = write_text(c->output_dir, table_names[0], eval_table_markdown(c, rows, num_rows));
    rc = rc ? rc : write_text(c->output_dir, table_names[1], eval_table_csv(c, rows, num_rows));
    return rc ? rc : write_text(c->output_dir, table_names[2], eval_results_json(c, rows, num_rows));
}
