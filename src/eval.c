/* eval.c: `lpg eval` (see eval.h): saved rules and tuned A2C trained side by side on each
 * environment through train_run, split across ranks, and the final scores over seeds. The
 * tables (Markdown, CSV, JSON) are eval_report.c's. */
#include "eval.h"
#include "memory_estimate.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
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

/* The path of the learning curve of env_name and method (a rule's name, or "a2c"):
 * <output_dir>/<env_name>.<method>.csv. Returns -1 if it does not fit. */
static int eval_curve_path(const EvalConfig *c, const char *env_name, const char *method,
                           char *out, size_t outsize)
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

/* The family of an environment. */
static EvalFamily eval_family(const EnvSpec *spec)
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
    t.agent = c->agent;
    t.conv_filters = c->conv_filters;
    t.log_points = c->log_points;
    return t;
}

/* A rule's train config: method lpg, or lpg_v for an LPG-V rule (its kind is in the file). */
static TrainConfig lpg_train_config(const EvalConfig *c, const EvalRule *rule,
                                    const RuleLayout *layout, const EnvSpec *spec)
{
    TrainConfig t = shared_train_config(c, spec);
    t.method = layout->method == RULE_LPG_V ? TRAIN_METHOD_LPG_V : TRAIN_METHOD_LPG;
    snprintf(t.rule, sizeof t.rule, "%s", rule->path);
    t.alpha_lr = spec->num_states == 0     ? rule->mlp_alpha_lr
                 : spec->kind == ENV_CHAIN ? rule->chain_alpha_lr
                                           : rule->tabular_alpha_lr;
    t.alpha_y = rule->alpha_y;
    inner_optimizer_parse(rule->inner_optimizer, &t.inner_kind, c->source); /* checked on load */
    return t;
}

static TrainConfig a2c_train_config(const EvalConfig *c, const EnvSpec *spec,
                                    const TrainConfig *tuned)
{
    TrainConfig t = shared_train_config(c, spec);
    t.method = TRAIN_METHOD_A2C;
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

const char *eval_method_name(const EvalConfig *c, int m)
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
    if (eval_curve_path(c, spec->name, eval_method_name(c, m), t->output, sizeof t->output))
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
    const char *name = eval_method_name(c, p->method);
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

/* The bytes of the config's learning keys that are not paths (a path's file is hashed by
 * content instead): every key whose role is CONFIG_LEARNING decides results. */
static uint64_t hash_learning_keys(uint64_t crc, const EvalConfig *c)
{
    for (int i = 0; i < eval_config_num_fields; i++) {
        const ConfigField *f = &eval_config_fields[i];
        const unsigned char *slot = (const unsigned char *)c + f->offset;
        if (f->role != CONFIG_LEARNING)
            continue;
        switch (f->type) {
        case CONFIG_INT: case CONFIG_BOOL: case CONFIG_ENUM:
            crc = crc32_z(crc, slot, sizeof(int));
            break;
        case CONFIG_DOUBLE: crc = crc32_z(crc, slot, sizeof(double)); break;
        case CONFIG_STRING: crc = crc32_z(crc, slot, strlen((const char *)slot)); break;
        case CONFIG_DOUBLE_LIST: {
            const ConfigDoubleList *list = (const ConfigDoubleList *)slot;
            crc = crc32_z(crc, (const unsigned char *)list,
                          offsetof(ConfigDoubleList, item) + (size_t)list->count * sizeof(double));
            break;
        }
        case CONFIG_INT_LIST: {
            const ConfigIntList *list = (const ConfigIntList *)slot;
            crc = crc32_z(crc, (const unsigned char *)list,
                          offsetof(ConfigIntList, item) + (size_t)list->count * sizeof(int));
            break;
        }
        case CONFIG_PATH: case CONFIG_PATH_LIST: break;
        }
    }
    return crc;
}

/* A fingerprint of what decides the results: the rules, the environment and A2C files, the
 * config's learning keys (not threads, which change nothing), so that ranks given different
 * values are caught. */
static uint64_t inputs_fingerprint(const EvalConfig *c, const EvalSetup *setup)
{
    uint64_t crc = hash_learning_keys(crc32_z(0L, Z_NULL, 0), c);
    int counts[] = {c->num_rules, c->envs.count};
    crc = crc32_z(crc, (const unsigned char *)counts, sizeof counts);
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
