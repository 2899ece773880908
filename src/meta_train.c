/* meta_train.c: the meta-training run: lifetimes, threads, Adam on η, bandits. Saving and
 * resuming it is meta_resume.c. */
#include "meta_train.h"
#include "meta_internal.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "checkpoint.h"
#include "dist.h"
#include "es_run.h"
#include "exact_sum.h"
#include "memory_estimate.h"
#include "provenance.h"
#include "linalg.h"
#include "rule_file.h"
#include "thread_pool.h"
#include "util.h"

/* ---- lifetimes ---------------------------------------------------------------------------- */

static const ConfigDoubleList *lrs_for(const MetaRun *run, const EnvSpec *spec)
{
    return spec->num_states > 0 ? &run->config.tabular_lrs : &run->config.mlp_lrs;
}

/* The range of lifetime lengths on spec (MLP agents: mlp_lifetime_range when set), or NULL when
 * lives have a fixed length. */
static const ConfigDoubleList *life_range(const MetaConfig *c, const EnvSpec *spec)
{
    if (spec->num_states == 0 && c->mlp_lifetime_range.count == 2)
        return &c->mlp_lifetime_range;
    return c->lifetime_range.count == 2 ? &c->lifetime_range : NULL;
}

static int whole_windows(const MetaConfig *c, double updates)
{
    return ((int)updates + c->K - 1) / c->K * c->K;
}

int meta_longest_life(const MetaConfig *c, const EnvSpec *spec)
{
    const ConfigDoubleList *range = life_range(c, spec);
    if (range)
        return whole_windows(c, range->item[1]);
    int updates = spec->num_states == 0 && c->mlp_lifetime_updates > 0 ? c->mlp_lifetime_updates
                                                                       : c->lifetime_updates;
    return whole_windows(c, updates);
}

/* A new life's length on spec: the fixed length, or log-uniform over the range (one draw from
 * the run's generator, only then), rounded up to whole windows. */
static int draw_life_length(MetaRun *run, const EnvSpec *spec)
{
    const ConfigDoubleList *range = life_range(&run->config, spec);
    if (!range)
        return meta_longest_life(&run->config, spec);
    double lo = log(range->item[0]), hi = log(range->item[1]);
    double updates = exp(lo + (hi - lo) * rng_uniform_double(&run->rng));
    int length = whole_windows(&run->config, updates);
    int top = meta_longest_life(&run->config, spec);
    return length < top ? length : top;
}

int meta_run_life_length(MetaRun *run, const EnvSpec *spec)
{
    return draw_life_length(run, spec);
}

/* Starts lifetime i: draws its environment, arm and seed from the run's generator. A first
 * life is cut short (staggered) so lifetimes do not all end together; those do not report. */
static int start_life(MetaRun *run, int i, int first)
{
    const MetaConfig *c = &run->config;
    int env_index = (int)rng_below(&run->rng, (uint32_t)run->num_envs);
    int arm = bandit_sample(&run->bandits[env_index], &run->rng);
    uint64_t seed = ((uint64_t)rng_u32(&run->rng) << 32) | rng_u32(&run->rng);
    int full = draw_life_length(run, &run->specs[env_index]), length = full;
    if (first) {
        int windows = length / c->K;
        length = c->K * (1 + (int)((int64_t)(windows - 1) * (i + 1) / c->lifetimes));
    }
    const BanditArm *a = &run->bandits[env_index].arms[arm];
    int report = !first || length == full;
    uint64_t level; /* every rank draws it, in lifetime order */
    int on_level = level_sampler_pick(&run->levels, i, env_index, report, run->step, &level);
    if (!dist_owns(c->lifetimes, i)) { /* another rank runs it */
        lifetime_describe(&run->lives[i], &run->specs[env_index], env_index, arm, length, report);
        return 0;
    }
    if (on_level)
        return lifetime_start_on_level(&run->lives[i], c, &run->specs[env_index], env_index, arm,
                                       a->alpha_lr, a->alpha_y, length, report, &run->layout,
                                       seed, level);
    return lifetime_start(&run->lives[i], c, &run->specs[env_index], env_index, arm, a->alpha_lr,
                          a->alpha_y, length, report, &run->layout, seed);
}

/* ---- lifetimes on other ranks ------------------------------------------------------------- */

/* What one lifetime's window gives every rank, as doubles after the meta-gradient's sum. */
enum { SHARED_J, SHARED_EPISODES, SHARED_RETURN_SUM, SHARED_UPDATES, SHARED_FINAL_RETURN,
       SHARED_CRITIC_FVU, SHARED_LEVEL_A2C, SHARED_SCALARS };

/* The exchange's parts: the accumulators, the non-finite count, lifetime i's doubles. */
static int64_t *grad_sum(const MetaRun *run) { return run->exchange; }

static int64_t *nonfinite_count(const MetaRun *run)
{
    return run->exchange + run->layout.count * EXACT_SUM_LIMBS;
}

static int64_t *shared_slots(const MetaRun *run, int i)
{
    return nonfinite_count(run) + 1 + (size_t)i * SHARED_SCALARS;
}

static double shared_value(const MetaRun *run, int i, int what)
{
    double x;
    memcpy(&x, shared_slots(run, i) + what, sizeof x);
    return x;
}

static double final_return_of(const MetaRun *run, int i)
{
    if (dist_owns(run->config.lifetimes, i))
        return lifetime_final_return(&run->lives[i]);
    return shared_value(run, i, SHARED_FINAL_RETURN);
}

/* The exact sum of dJ/dη over this rank's lifetimes, by blocks of parameters that the threads
 * take in turn (a block's accumulators stay in cache while every lifetime is added). */
enum { SUM_BLOCK = 1024 };

typedef struct {
    MetaRun *run;
    atomic_size_t next;     /* first parameter of the next block to sum */
    atomic_llong nonfinite; /* terms refused: NaN or infinite */
} GradSum;

static void *sum_blocks(void *arg)
{
    GradSum *g = arg;
    MetaRun *run = g->run;
    size_t count = run->layout.count;
    int n = run->config.lifetimes;
    long long nonfinite = 0;
    for (size_t j; (j = atomic_fetch_add(&g->next, SUM_BLOCK)) < count;) {
        size_t len = count - j < SUM_BLOCK ? count - j : SUM_BLOCK;
        for (int i = 0; i < n; i++)
            if (dist_owns(n, i))
                nonfinite += exact_sum_add_reals(grad_sum(run) + j * EXACT_SUM_LIMBS,
                                                 run->lives[i].d_eta + j, len);
    }
    atomic_fetch_add(&g->nonfinite, nonfinite);
    return NULL;
}

/* Adds this rank's lifetimes' dJ/dη exactly into the accumulators and writes their window
 * results into their slots (as bits, which a sum with the other ranks' zeros keeps). */
static void fill_exchange(MetaRun *run)
{
    int n = run->config.lifetimes;
    memset(run->exchange, 0, run->exchange_count * sizeof *run->exchange);
    GradSum g = {.run = run};
    atomic_init(&g.next, 0);
    atomic_init(&g.nonfinite, 0);
    pool_run(run->config.threads, sum_blocks, &g);
    *nonfinite_count(run) = atomic_load(&g.nonfinite);
    for (int i = 0; i < n; i++) {
        if (!dist_owns(n, i))
            continue;
        const Lifetime *life = &run->lives[i];
        double x[SHARED_SCALARS];
        x[SHARED_J] = life->J;
        x[SHARED_EPISODES] = (double)run->window_episodes[i];
        x[SHARED_RETURN_SUM] = run->window_return_sum[i];
        x[SHARED_UPDATES] = life->updates;
        x[SHARED_FINAL_RETURN] = lifetime_final_return(life);
        x[SHARED_CRITIC_FVU] = life->critic_fvu;
        x[SHARED_LEVEL_A2C] = level_sampler_life_a2c(&run->levels, i);
        memcpy(shared_slots(run, i), x, sizeof x);
    }
}

/* Sums the exchange over ranks, takes the other ranks' lifetime results into their stubs and
 * rounds the meta-gradient's exact sum once into run->grad (NaN where any term was not
 * finite). Integer sums do not depend on their order, so every rank, any number of ranks and
 * any thread count give the same bits. A new per-lifetime value that the step, the log or the
 * bandits read after the windows must be added here, or runs on several ranks differ from
 * threads (tests/test_mpi.sh notices). */
static int share_windows(MetaRun *run)
{
    fill_exchange(run);
    if (dist_allreduce_sum(run->exchange, run->exchange_count))
        return -1;
    int n = run->config.lifetimes;
    for (int i = 0; i < n; i++) {
        if (dist_owns(n, i))
            continue;
        Lifetime *life = &run->lives[i];
        life->J = shared_value(run, i, SHARED_J);
        run->window_episodes[i] = (int64_t)shared_value(run, i, SHARED_EPISODES);
        run->window_return_sum[i] = shared_value(run, i, SHARED_RETURN_SUM);
        life->updates = (int)shared_value(run, i, SHARED_UPDATES);
        life->critic_fvu = shared_value(run, i, SHARED_CRITIC_FVU);
        level_sampler_set_life_a2c(&run->levels, i, shared_value(run, i, SHARED_LEVEL_A2C));
    }
    const int64_t *acc = grad_sum(run);
    int bad = *nonfinite_count(run) != 0;
    for (size_t j = 0; j < run->layout.count; j++)
        run->grad[j] = bad ? (real)NAN : exact_sum_round(acc + j * EXACT_SUM_LIMBS);
    return 0;
}

static int alloc_exchange(MetaRun *run)
{
    run->exchange_count = run->layout.count * EXACT_SUM_LIMBS + 1 +
                          (size_t)run->config.lifetimes * SHARED_SCALARS;
    run->exchange = lpg_calloc(run->exchange_count, sizeof(int64_t), "meta-gradient sums");
    return run->exchange ? 0 : -1;
}

static int record_final(MetaRun *run, int i)
{
    const Lifetime *life = &run->lives[i];
    double final_return = final_return_of(run, i);
    if (life->report)
        bandit_update(&run->bandits[life->env_index], life->arm, final_return);
    int e = life->env_index;
    run->final_returns[e][run->final_count[e] % META_FINAL_WINDOW] = final_return;
    run->final_count[e]++;
    run->lifetimes_finished++;
    return level_sampler_finish(&run->levels, i, final_return, run->step);
}

double meta_run_final_return(const MetaRun *run, int e)
{
    int64_t count = run->final_count[e] < META_FINAL_WINDOW ? run->final_count[e] : META_FINAL_WINDOW;
    if (count == 0)
        return NAN;
    double sum = 0;
    for (int64_t j = 0; j < count; j++)
        sum += run->final_returns[e][j];
    return sum / (double)count;
}

/* ---- set-up ------------------------------------------------------------------------------- */

/* The strings as lines ("a\nb\n"; "" for none), a new string the caller frees. */
static char *join_lines(int count, char **strings)
{
    size_t len = 1;
    for (int i = 0; i < count; i++)
        len += strlen(strings[i]) + 1;
    char *text = lpg_calloc(len, 1, "override list");
    for (int i = 0; text && i < count; i++) {
        strcat(text, strings[i]);
        strcat(text, "\n");
    }
    return text;
}

int meta_run_setup(MetaRun *run, const char *config_path, int noverrides, char **overrides)
{
    memset(run, 0, sizeof *run);
    MetaConfig *c = &run->config;
    if (meta_config_load(c, config_path, noverrides, overrides))
        return -1;
    snprintf(run->config_path, sizeof run->config_path, "%s", config_path);
    run->config_text = read_whole_file(config_path, NULL);
    run->effective_config = config_to_json(meta_config_fields, meta_config_num_fields, c);
    run->overrides_text = join_lines(noverrides, overrides);
    if (!run->effective_config || !run->overrides_text)
        return -1;
    run->num_envs = c->envs.count;
    run->specs = lpg_calloc((size_t)run->num_envs, sizeof *run->specs, "environment specs");
    run->bandits = lpg_calloc((size_t)run->num_envs, sizeof *run->bandits, "bandits");
    run->lives = lpg_calloc((size_t)c->lifetimes, sizeof *run->lives, "lifetimes");
    run->order = lpg_calloc((size_t)c->lifetimes, sizeof *run->order, "lifetime order");
    run->window_episodes = lpg_calloc((size_t)c->lifetimes, sizeof(int64_t), "episode counts");
    run->window_return_sum = lpg_calloc((size_t)c->lifetimes, sizeof(double), "return sums");
    if (!run->config_text || !run->specs || !run->bandits || !run->lives || !run->order ||
        !run->window_episodes || !run->window_return_sum)
        return -1;
    for (int e = 0; e < run->num_envs; e++) {
        if (env_load(c->envs.item[e], &run->specs[e]))
            return -1;
        const ConfigDoubleList *lrs = lrs_for(run, &run->specs[e]);
        if (bandit_init(&run->bandits[e], lrs->item, lrs->count, c->alpha_ys.item, c->alpha_ys.count))
            return -1;
    }
    int a2c_updates[CONFIG_LIST_MAX]; /* an A2C run scoring a level lasts the longest life */
    for (int e = 0; e < run->num_envs; e++)
        a2c_updates[e] = meta_longest_life(c, &run->specs[e]);
    if (level_sampler_init(&run->levels, c, config_path, run->specs, run->num_envs, a2c_updates))
        return -1;
    if (agent_check_kind(c->conv_filters, run->specs, run->num_envs, config_path) ||
        memory_check(memory_meta_train(c, run->specs, run->num_envs), c->max_memory, config_path))
        return -1;
    meta_config_rule_layout(c, &run->layout);
    run->eta = lpg_calloc(run->layout.count, sizeof(real), "rule parameters");
    run->grad = lpg_calloc(run->layout.count, sizeof(real), "meta-gradient");
    if (!run->eta || !run->grad || alloc_exchange(run))
        return -1;
    AdamHyper hyper = adam_defaults(c->use_es ? c->es_lr : c->meta_lr);
    hyper.clip = c->use_es ? 0 : c->meta_clip;
    if (adam_init(&run->adam, run->layout.count, hyper) || (c->use_es && es_state_create(run)))
        return -1;
    rng_seed(&run->rng, (uint64_t)c->seed, RNG_STREAM_META_RUN);
    return 0;
}

/* Key init_rule: η from a rule file of the config's width and kind. Returns 0 or -1 (reported). */
static int load_init_rule(MetaRun *run, const char *config_path)
{
    const char *path = run->config.init_rule;
    RuleLayout file;
    real *eta = rule_file_load(path, &file);
    if (!eta)
        return -1;
    const RuleLayout *want = &run->layout;
    int same = file.hidden == want->hidden && file.method == want->method &&
               file.y_raw == want->y_raw && file.lifetime_inputs == want->lifetime_inputs &&
               file.count == want->count &&
               (want->method != RULE_LPG_V || (file.value_lr == want->value_lr &&
                                               file.value_tabular_lr == want->value_tabular_lr &&
                                               file.value_lambda == want->value_lambda));
    if (!same) {
        free(eta);
        return lpg_error("%s: key 'init_rule': %s holds a rule of kind %s, width %d%s; the "
                         "config learns kind %s, width %d%s (keys method, y_softmax, rule_hidden, "
                         "lifetime_inputs and, for lpg_v, critic_lr, critic_tabular_lr, "
                         "gae_lambda)", config_path, path, rule_kind_name(&file), file.hidden,
                         file.lifetime_inputs ? ", lifetime inputs" : "", rule_kind_name(want),
                         want->hidden, want->lifetime_inputs ? ", lifetime inputs" : "");
    }
    memcpy(run->eta, eta, want->count * sizeof *eta);
    free(eta);
    return 0;
}

int meta_run_init(MetaRun *run, const char *config_path, int noverrides, char **overrides)
{
    if (meta_run_setup(run, config_path, noverrides, overrides))
        return -1;
    Rng eta_rng = rng_split(&run->rng);
    rule_init(run->eta, &run->layout, &eta_rng);
    if (run->config.init_rule[0] && load_init_rule(run, config_path))
        return -1;
    for (int i = 0; !run->es && i < run->config.lifetimes; i++)
        if (start_life(run, i, 1))
            return -1;
    return 0;
}

void meta_run_free(MetaRun *run)
{
    if (run->lives)
        for (int i = 0; i < run->config.lifetimes; i++)
            lifetime_free(&run->lives[i]);
    free(run->lives);
    free(run->order);
    free(run->window_episodes);
    free(run->window_return_sum);
    free(run->exchange);
    free(run->specs);
    free(run->bandits);
    free(run->eta);
    free(run->grad);
    free(run->config_text);
    free(run->effective_config);
    free(run->overrides_text);
    es_state_free(run);
    adam_free(&run->adam);
    level_sampler_free(&run->levels);
    memset(run, 0, sizeof *run);
}

/* ---- one meta-step ------------------------------------------------------------------------ */

/* The windows of one meta-step, shared by the worker threads: each takes the next lifetime from
 * `order` until none is left, so a thread that drew cheap lifetimes takes more of them. What a
 * window counts goes to its lifetime's own slot and is summed in lifetime order afterwards, so
 * neither the thread count nor which thread ran which lifetime changes any number. */
typedef struct {
    MetaRun *run;
    const int *order;           /* [count] lifetime indices, costliest first */
    int count;                  /* lifetimes this rank runs */
    atomic_int next;            /* position in order of the next lifetime to run */
    int64_t *episodes;          /* [lifetimes] episodes ended in the lifetime's window */
    double *return_sum;         /* [lifetimes] the sum of their returns */
} WindowQueue;

static void *run_windows(void *arg)
{
    WindowQueue *q = arg;
    MetaRun *run = q->run;
    for (int at; (at = atomic_fetch_add(&q->next, 1)) < q->count;) {
        int i = q->order[at];
        lifetime_window(&run->lives[i], run->eta, &run->layout, &q->episodes[i],
                        &q->return_sum[i]);
        level_sampler_after_window(&run->levels, i, lifetime_finished(&run->lives[i]));
    }
    return NULL;
}

/* This rank's lifetimes in the order threads should take them: MLP and conv agents (the costlier windows)
 * first, then tabular ones, each in index order. Fills order and returns how many. */
static int order_by_cost(const MetaRun *run, int *order)
{
    int at = 0, n = run->config.lifetimes;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++)
            if (dist_owns(n, i) && (run->lives[i].agent.spec.kind != AGENT_TABULAR) == (pass == 0))
                order[at++] = i;
    return at;
}

/* Runs every lifetime's window on config.threads threads (the calling one included). */
static int run_all_windows(MetaRun *run, MetaStepStats *stats)
{
    int lifetimes = run->config.lifetimes;
    int threads = run->config.threads < lifetimes ? run->config.threads : lifetimes;
    WindowQueue q = {run, run->order, 0, 0, run->window_episodes, run->window_return_sum};
    q.count = order_by_cost(run, run->order);
    memset(q.episodes, 0, (size_t)lifetimes * sizeof *q.episodes);
    memset(q.return_sum, 0, (size_t)lifetimes * sizeof *q.return_sum);
    pool_run(threads, run_windows, &q);
    if (share_windows(run))
        return -1;
    for (int i = 0; i < lifetimes; i++) {
        int e = run->lives[i].env_index;
        stats->episodes[e] += q.episodes[i];
        stats->return_sum[e] += q.return_sum[i];
    }
    return 0;
}

/* Per environment, the mean critic_fvu of its lifetimes that have a finite one. */
static void critic_fvu_means(const MetaRun *run, MetaStepStats *stats)
{
    int count[CONFIG_LIST_MAX] = {0};
    for (int i = 0; i < run->config.lifetimes; i++) {
        const Lifetime *life = &run->lives[i];
        if (isfinite(life->critic_fvu)) {
            stats->critic_fvu[life->env_index] += life->critic_fvu;
            count[life->env_index]++;
        }
    }
    for (int e = 0; e < run->num_envs; e++)
        stats->critic_fvu[e] = count[e] ? stats->critic_fvu[e] / count[e] : NAN;
}

int meta_run_step(MetaRun *run, MetaStepStats *stats)
{
    const MetaConfig *c = &run->config;
    if (run->es)
        return es_generation(run, stats);
    memset(stats, 0, sizeof *stats);
    if (run_all_windows(run, stats))
        return -1;
    size_t count = run->layout.count; /* run->grad holds the exact sum of dJ/dη, rounded */
    critic_fvu_means(run, stats);
    for (int i = 0; i < c->lifetimes; i++) /* in lifetime order: deterministic sums */
        stats->J += run->lives[i].J / c->lifetimes;
    /* Adam descends, so it gets -mean dJ/dη to ascend J. */
    for (size_t j = 0; j < count; j++)
        run->grad[j] *= -(real)1 / (real)c->lifetimes;
    if (!all_finite(run->grad, count) || !isfinite(stats->J))
        return lpg_error("meta-step %lld: the meta-gradient is not finite; stopping without saving "
                         "(the last checkpoint is kept)", (long long)run->step + 1);
    stats->grad_norm = adam_step(&run->adam, run->eta, run->grad);
    if (!all_finite(run->eta, count))
        return lpg_error("meta-step %lld: eta is not finite after the update; stopping without "
                         "saving (the last checkpoint is kept)", (long long)run->step + 1);
    run->step++;
    stats->env_steps = (int64_t)c->lifetimes * (c->K + 1) * c->unroll * c->copies;
    for (int i = 0; i < c->lifetimes; i++) {
        if (!lifetime_finished(&run->lives[i]))
            continue;
        if (record_final(run, i))
            return -1;
        lifetime_free(&run->lives[i]);
        stats->lifetimes_finished++;
        if (start_life(run, i, 0))
            return -1;
    }
    return 0;
}
