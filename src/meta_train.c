/* meta_train.c: the meta-training run: lifetimes, threads, Adam on η, bandits, checkpoints. */
#include "meta_train.h"

#include <math.h>
#include <pthread.h>
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

/* The longest life on spec: the fixed length (MLP agents: mlp_lifetime_updates when set), or the
 * range's top, rounded up to whole windows. */
static int life_length(const MetaConfig *c, const EnvSpec *spec)
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
        return life_length(&run->config, spec);
    double lo = log(range->item[0]), hi = log(range->item[1]);
    double updates = exp(lo + (hi - lo) * rng_uniform_double(&run->rng));
    int length = whole_windows(&run->config, updates);
    int top = life_length(&run->config, spec);
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

/* Runs work(arg) on `threads` threads, the calling one included, and waits for them all. */
static void on_threads(void *(*work)(void *), void *arg, int threads)
{
    pthread_t ids[META_MAX_THREADS];
    int started = 0;
    while (started < threads - 1 && started < META_MAX_THREADS &&
           pthread_create(&ids[started], NULL, work, arg) == 0)
        started++;
    work(arg); /* also finishes what a thread that failed to start would have done */
    for (int t = 0; t < started; t++)
        pthread_join(ids[t], NULL);
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
    on_threads(sum_blocks, &g, run->config.threads);
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

static int setup_common(MetaRun *run, const char *config_path, int noverrides, char **overrides)
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
        a2c_updates[e] = life_length(c, &run->specs[e]);
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

int meta_run_init(MetaRun *run, const char *config_path, int noverrides, char **overrides)
{
    if (setup_common(run, config_path, noverrides, overrides))
        return -1;
    Rng eta_rng = rng_split(&run->rng);
    rule_init(run->eta, &run->layout, &eta_rng);
    for (int i = 0; !run->es && i < run->config.lifetimes; i++)
        if (start_life(run, i, 1))
            return -1;
    return 0;
}

/* ---- checkpoints -------------------------------------------------------------------------- */

/* The sections that record how the run was made (read back by `lpg info`; resume only compares
 * the provenance, see note_provenance). The provenance is that of the program writing the file. */
static int add_config_record(const MetaRun *run, CheckpointWriter *w)
{
    int rc = checkpoint_add_text(w, "config", run->config_text);
    rc = rc || checkpoint_add_text(w, "effective_config", run->effective_config);
    rc = rc || checkpoint_add_text(w, "overrides", run->overrides_text);
    rc = rc || provenance_add_section(w);
    return rc ? -1 : 0;
}

/* The "shape" section: the keys whose values fix the shape of the saved state, in this order. */
enum { SHAPE_LIFETIMES, SHAPE_COPIES, SHAPE_UNROLL, SHAPE_K, SHAPE_RULE_HIDDEN, SHAPE_ENVS,
       SHAPE_FIELDS };
static const char *const shape_keys[SHAPE_FIELDS] = {"lifetimes", "copies", "unroll", "K",
                                                     "rule_hidden", "envs"};

/* The "lives" section: per lifetime, these int64 fields in this order. */
enum { LIVES_ENV, LIVES_ARM, LIVES_LENGTH_REPORT /* length * 2 + report */, LIVES_FIELDS };

static void shape_of(const MetaRun *run, int64_t shape[SHAPE_FIELDS])
{
    const MetaConfig *c = &run->config;
    shape[SHAPE_LIFETIMES] = c->lifetimes, shape[SHAPE_COPIES] = c->copies;
    shape[SHAPE_UNROLL] = c->unroll, shape[SHAPE_K] = c->K;
    shape[SHAPE_RULE_HIDDEN] = c->rule_hidden, shape[SHAPE_ENVS] = run->num_envs;
}

/* The "agent_shape" section: conv filters (0: MLP agents), the number of hidden layers, then
 * their widths: what fixes the size of every saved θ and critic. Files from before the section
 * had MLP agents. */
enum { AGENT_SHAPE_MAX = 2 + AGENT_MAX_HIDDEN };

static size_t agent_shape_of(const MetaConfig *c, int64_t shape[AGENT_SHAPE_MAX])
{
    shape[0] = c->conv_filters;
    shape[1] = c->mlp_hidden.count;
    for (int l = 0; l < c->mlp_hidden.count && l < AGENT_MAX_HIDDEN; l++)
        shape[2 + l] = (int64_t)c->mlp_hidden.item[l];
    return 2 + (size_t)(c->mlp_hidden.count < AGENT_MAX_HIDDEN ? c->mlp_hidden.count
                                                               : AGENT_MAX_HIDDEN);
}

static int check_agent_shape(const MetaRun *run, const Checkpoint *ck)
{
    int64_t now[AGENT_SHAPE_MAX], saved[AGENT_SHAPE_MAX];
    size_t count = agent_shape_of(&run->config, now);
    const CheckpointSection *section = checkpoint_find(ck, "agent_shape");
    if (!section) {
        if (run->config.conv_filters > 0)
            return lpg_error("%s: was made with MLP agents (it predates conv agents) but %s says "
                             "agent \"conv\"; resume with agent \"mlp\"", ck->path,
                             run->config_path);
        return 0;
    }
    if (section->count < 2 || section->count > AGENT_SHAPE_MAX)
        return lpg_error("%s: section 'agent_shape': %zu values (expected 2 to %d)", ck->path,
                         section->count, AGENT_SHAPE_MAX);
    if (checkpoint_get_int64(ck, "agent_shape", saved, section->count))
        return -1;
    int same = section->count == count;
    for (size_t j = 0; same && j < count; j++)
        same = saved[j] == now[j];
    if (same)
        return 0;
    char had[128] = "", want[128] = "";
    for (size_t j = 2; j < section->count; j++)
        snprintf(had + strlen(had), sizeof had - strlen(had), "%s%lld", j > 2 ? "," : "",
                 (long long)saved[j]);
    for (size_t j = 2; j < count; j++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", j > 2 ? "," : "",
                 (long long)now[j]);
    return lpg_error("%s: was made with agent \"%s\" (%lld filters), mlp_hidden [%s] but %s says "
                     "agent \"%s\", mlp_hidden [%s]; resume with the same agent", ck->path,
                     saved[0] > 0 ? "conv" : "mlp", (long long)saved[0], had, run->config_path,
                     run->config.agent, want);
}

static int save_lives(const MetaRun *run, CheckpointWriter *w)
{
    int n = run->config.lifetimes;
    int64_t *meta = lpg_calloc((size_t)n * LIVES_FIELDS, sizeof(int64_t), "lifetime table");
    if (!meta)
        return -1;
    for (int i = 0; i < n; i++) {
        int64_t *m = meta + (size_t)i * LIVES_FIELDS;
        m[LIVES_ENV] = run->lives[i].env_index;
        m[LIVES_ARM] = run->lives[i].arm;
        m[LIVES_LENGTH_REPORT] = (int64_t)run->lives[i].length * 2 + run->lives[i].report;
    }
    int rc = checkpoint_add_int64(w, "lives", meta, (size_t)n * LIVES_FIELDS);
    free(meta);
    /* Each rank saves its own lifetimes; rank 0 appends them all in rank (= lifetime) order. */
    CheckpointWriter mine;
    checkpoint_writer_init(&mine);
    char prefix[32];
    for (int i = 0; rc == 0 && i < n; i++) {
        snprintf(prefix, sizeof prefix, "life%d", i);
        rc = dist_owns(n, i) ? lifetime_save(&run->lives[i], &mine, prefix) : 0;
    }
    unsigned char *all = NULL;
    size_t all_len = 0;
    rc = rc || dist_gather_bytes(mine.data, mine.len, &all, &all_len);
    rc = rc || (dist_rank() == 0 && checkpoint_add_sections(w, all, all_len));
    free(all);
    checkpoint_writer_free(&mine);
    return rc ? -1 : 0;
}

int meta_run_save(const MetaRun *run, const char *path)
{
    CheckpointWriter w;
    checkpoint_writer_init(&w);
    int64_t shape[SHAPE_FIELDS], step = run->step, finished = run->lifetimes_finished;
    shape_of(run, shape);
    int rc = add_config_record(run, &w);
    rc = rc || checkpoint_add_int64(&w, "shape", shape, SHAPE_FIELDS);
    int64_t agent_shape[AGENT_SHAPE_MAX];
    size_t agent_count = agent_shape_of(&run->config, agent_shape);
    rc = rc || checkpoint_add_int64(&w, "agent_shape", agent_shape, agent_count);
    rc = rc || checkpoint_add_int64(&w, "step", &step, 1);
    rc = rc || checkpoint_add_int64(&w, "lifetimes_finished", &finished, 1);
    rc = rc || rule_file_add(&w, &run->layout, run->eta);
    rc = rc || adam_save(&run->adam, &w, "adam");
    rc = rc || bandit_save(run->bandits, run->num_envs, &w, "bandits");
    rc = rc || checkpoint_add_bytes(&w, "rng", &run->rng, sizeof run->rng);
    rc = rc || checkpoint_add_bytes(&w, "final_returns", run->final_returns, sizeof run->final_returns);
    rc = rc || checkpoint_add_int64(&w, "final_count", run->final_count, CONFIG_LIST_MAX);
    rc = rc || level_sampler_save(&run->levels, &w);
    rc = rc || (!run->es && save_lives(run, &w)); /* an ES run has none between generations */
    rc = rc || (dist_rank() == 0 && checkpoint_write(&w, path)); /* rank 0 alone writes */
    checkpoint_writer_free(&w);
    return rc ? -1 : 0;
}

int meta_run_save_rule(const MetaRun *run, const char *path)
{
    CheckpointWriter w;
    checkpoint_writer_init(&w);
    int64_t step = run->step;
    int rc = add_config_record(run, &w);
    rc = rc || checkpoint_add_int64(&w, "step", &step, 1);
    rc = rc || rule_file_add(&w, &run->layout, run->eta);
    rc = rc || checkpoint_write(&w, path);
    checkpoint_writer_free(&w);
    return rc ? -1 : 0;
}

static int check_shape(const MetaRun *run, const Checkpoint *ck)
{
    int64_t saved[SHAPE_FIELDS], now[SHAPE_FIELDS];
    if (checkpoint_get_int64(ck, "shape", saved, SHAPE_FIELDS))
        return -1;
    shape_of(run, now);
    for (int j = 0; j < SHAPE_FIELDS; j++)
        if (saved[j] != now[j])
            return lpg_error("%s: was made with %s = %lld but %s says %lld; resume with the same value",
                             ck->path, shape_keys[j], (long long)saved[j], run->config_path,
                             (long long)now[j]);
    return 0;
}

/* Checks one row of the "lives" table against the config; NULL when it fits. */
static const char *check_life_row(const MetaRun *run, const int64_t *m)
{
    int64_t e = m[LIVES_ENV], arm = m[LIVES_ARM], length = m[LIVES_LENGTH_REPORT] / 2;
    if (e < 0 || e >= run->num_envs)
        return "environment index out of range";
    if (arm < 0 || arm >= (int64_t)run->bandits[e].num_arms)
        return "bandit arm out of range";
    if (m[LIVES_LENGTH_REPORT] < 0 || length < 1 || length > life_length(&run->config, &run->specs[e]) ||
        length % run->config.K != 0)
        return "length is not a whole number of windows within lifetime_updates (mlp_lifetime_updates, the lifetime ranges)";
    return NULL;
}

/* A stub's progress: the update count its owner reads (and checks) in full. */
static int load_progress(Lifetime *life, const Checkpoint *ck, const char *prefix)
{
    char name[CHECKPOINT_NAME_MAX];
    int64_t counters[3];
    snprintf(name, sizeof name, "%s_counters", prefix);
    if (checkpoint_get_int64(ck, name, counters, 3))
        return -1;
    if (counters[0] < 0 || counters[0] > life->length)
        return lpg_error("%s: section %s: values out of range", ck->path, name);
    life->updates = (int)counters[0];
    return 0;
}

static int load_lives(MetaRun *run, const Checkpoint *ck)
{
    int n = run->config.lifetimes;
    int64_t *meta = lpg_calloc((size_t)n * LIVES_FIELDS, sizeof(int64_t), "lifetime table");
    if (!meta || checkpoint_get_int64(ck, "lives", meta, (size_t)n * LIVES_FIELDS)) {
        free(meta);
        return -1;
    }
    int rc = 0;
    char prefix[32];
    for (int i = 0; rc == 0 && i < n; i++) {
        const int64_t *m = meta + (size_t)i * LIVES_FIELDS;
        const char *why = check_life_row(run, m);
        if (why) {
            rc = lpg_error("%s: section 'lives': lifetime %d: %s", ck->path, i, why);
            break;
        }
        int e = (int)m[LIVES_ENV], arm = (int)m[LIVES_ARM];
        const BanditArm *a = &run->bandits[e].arms[arm];
        snprintf(prefix, sizeof prefix, "life%d", i);
        if (!dist_owns(n, i)) {
            lifetime_describe(&run->lives[i], &run->specs[e], e, arm,
                              (int)(m[LIVES_LENGTH_REPORT] / 2), (int)(m[LIVES_LENGTH_REPORT] & 1));
            rc = load_progress(&run->lives[i], ck, prefix);
            continue;
        }
        rc = lifetime_start(&run->lives[i], &run->config, &run->specs[e], e, arm, a->alpha_lr,
                            a->alpha_y, (int)(m[LIVES_LENGTH_REPORT] / 2),
                            (int)(m[LIVES_LENGTH_REPORT] & 1), &run->layout, 0);
        rc = rc || lifetime_load(&run->lives[i], ck, prefix);
    }
    free(meta);
    return rc ? -1 : 0;
}

/* Keys that only say how long to run, where and how often to write: changing them on resume is
 * routine (no note, no refusal). */
static int is_bookkeeping_key(const char *key)
{
    static const char *const keys[] = {"meta_steps", "threads", "run_dir", "checkpoint_every",
                                       "log_every", "rule_every", "max_memory"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(key, keys[i]) == 0)
            return 1;
    return 0;
}

/* A path of an effective config written lexically plain: no "." or empty components, each
 * "<dir>/.." pair removed, then the leading ".." components dropped; what is left names the file
 * as seen from some folder above it. */
static void plain_path(const char *path, char *out, size_t size)
{
    char buf[LPG_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    const char *parts[LPG_PATH_MAX / 2];
    int n = 0;
    for (char *save = NULL, *part = strtok_r(buf, "/", &save); part;
         part = strtok_r(NULL, "/", &save)) {
        if (strcmp(part, ".") == 0)
            continue;
        if (strcmp(part, "..") == 0 && n > 0 && strcmp(parts[n - 1], "..") != 0)
            n--;
        else
            parts[n++] = part;
    }
    int first = 0;
    while (first < n && strcmp(parts[first], "..") == 0)
        first++;
    out[0] = '\0';
    for (int i = first; i < n; i++)
        snprintf(out + strlen(out), size - strlen(out), "%s%s", i > first ? "/" : "", parts[i]);
}

/* Whether two environment paths, each relative to the folder its run was started in, name the
 * same file: the shorter plain path ends the longer one at a '/'. */
static int same_env_path(const char *a, const char *b)
{
    char pa[LPG_PATH_MAX], pb[LPG_PATH_MAX];
    plain_path(a, pa, sizeof pa);
    plain_path(b, pb, sizeof pb);
    const char *longer = strlen(pa) >= strlen(pb) ? pa : pb;
    const char *shorter = longer == pa ? pb : pa;
    size_t ll = strlen(longer), ls = strlen(shorter);
    const char *tail = longer + (ll - ls);
    return ls > 0 && strcmp(tail, shorter) == 0 && (ll == ls || tail[-1] == '/');
}

/* The "envs" of a resumed run may be written from another working folder: the same files. */
static int same_envs(const cJSON *old, const cJSON *now)
{
    if (!cJSON_IsArray(old) || !cJSON_IsArray(now) ||
        cJSON_GetArraySize(old) != cJSON_GetArraySize(now))
        return 0;
    for (const cJSON *a = old->child, *b = now->child; a && b; a = a->next, b = b->next)
        if (!cJSON_IsString(a) || !cJSON_IsString(b) ||
            !same_env_path(a->valuestring, b->valuestring))
            return 0;
    return 1;
}

/* The checkpoint's effective config as a JSON object (checked as a config file is: a
 * duplicate key is refused), or NULL (reported). */
static cJSON *read_effective_config(const Checkpoint *ck)
{
    char *text = checkpoint_get_json(ck, "effective_config");
    cJSON *saved = text ? cJSON_Parse(text) : NULL;
    if (text && !cJSON_IsObject(saved))
        lpg_error("%s: section 'effective_config': not a JSON object", ck->path);
    free(text);
    if (!cJSON_IsObject(saved)) {
        cJSON_Delete(saved);
        return NULL;
    }
    return saved;
}

/* The keys naming A2C configs, paths like those of "envs". */
static int is_level_a2c_key(const char *key)
{
    return strcmp(key, "level_a2c_tabular_grid") == 0 || strcmp(key, "level_a2c_random_grid") == 0;
}

/* Two path values (strings) that name the same file, or are both empty. */
static int same_path_value(const cJSON *old, const cJSON *now)
{
    if (!cJSON_IsString(old) || !cJSON_IsString(now))
        return 0;
    if (!old->valuestring[0] || !now->valuestring[0])
        return !old->valuestring[0] && !now->valuestring[0];
    return same_env_path(old->valuestring, now->valuestring);
}

/* On resume, names every learning key whose value differs from the run that wrote the
 * checkpoint (its effective config), so a changed algorithm (seed, input_grad, betas, lrs) never
 * goes unnoticed. Without allow_changes such a change is refused (-1); with it, each is a note.
 * Older checkpoints without an effective config get a note on the file's text (which keys
 * changed cannot be told). The shape keys are checked (and always refused) elsewhere. */
static int check_config_changes(const MetaRun *run, const Checkpoint *ck, const char *config_path,
                                int allow_changes)
{
    const CheckpointSection *section = checkpoint_find(ck, "effective_config");
    if (!section) {
        char *saved = checkpoint_get_text(ck, "config");
        if (saved && strcmp(saved, run->config_text) != 0)
            fprintf(stderr, "lpg: note: %s differs from the config saved in %s; continuing with %s "
                    "(the shape keys match)\n", config_path, ck->path, config_path);
        free(saved);
        return 0;
    }
    cJSON *saved = read_effective_config(ck);
    if (!saved)
        return -1;
    cJSON *now = cJSON_Parse(run->effective_config);
    /* A key the saved run did not have yet (added to lpg later) is unchanged at its default,
     * which keeps the behaviour of before the key. */
    MetaConfig d;
    meta_config_defaults(&d);
    char *defaults_text = config_to_json(meta_config_fields, meta_config_num_fields, &d);
    cJSON *defaults = defaults_text ? cJSON_Parse(defaults_text) : NULL;
    free(defaults_text);
    int changed = 0;
    for (const cJSON *item = now ? now->child : NULL; saved && item; item = item->next) {
        if (is_bookkeeping_key(item->string))
            continue;
        const cJSON *old = cJSON_GetObjectItemCaseSensitive(saved, item->string);
        if (old && (cJSON_Compare(old, item, 1) ||
                    (strcmp(item->string, "envs") == 0 && same_envs(old, item)) ||
                    (is_level_a2c_key(item->string) && same_path_value(old, item))))
            continue;
        const cJSON *by_default = cJSON_GetObjectItemCaseSensitive(defaults, item->string);
        if (!old && by_default && cJSON_Compare(by_default, item, 1))
            continue;
        char *was = old ? cJSON_PrintUnformatted(old) : NULL, *is = cJSON_PrintUnformatted(item);
        fprintf(stderr, "lpg: %s%s was %s in the run that wrote %s, now %s\n",
                allow_changes ? "note: " : "", item->string, was ? was : "(absent)", ck->path,
                is ? is : "?");
        cJSON_free(was);
        cJSON_free(is);
        changed++;
    }
    cJSON_Delete(saved);
    cJSON_Delete(now);
    cJSON_Delete(defaults);
    if (changed && !allow_changes)
        return lpg_error("%s: not resumed: %d learning key%s changed (above); resume with the "
                         "values of that run, or pass --allow-changes to continue with the new "
                         "ones", ck->path, changed, changed == 1 ? "" : "s");
    return 0;
}

/* Lifetimes that can finish in one meta-step: every lifetime, or an ES generation's. */
static int64_t lives_per_step(const MetaRun *run)
{
    const MetaConfig *c = &run->config;
    return c->use_es ? es_lifetimes_per_generation(c) : c->lifetimes;
}

/* The run-wide counters: the step, the lifetimes finished, the final-return rings and the
 * generator, each checked against the config (a crafted value would index out of bounds). */
static int load_counters(MetaRun *run, const Checkpoint *ck)
{
    int64_t step = 0, finished = 0;
    if (checkpoint_get_int64_in(ck, "step", 0, META_STEPS_MAX, &step) ||
        checkpoint_get_int64_in(ck, "lifetimes_finished", 0, step * lives_per_step(run),
                                &finished) ||
        checkpoint_get_bytes(ck, "rng", &run->rng, sizeof run->rng) ||
        checkpoint_get_bytes(ck, "final_returns", run->final_returns, sizeof run->final_returns) ||
        checkpoint_get_int64(ck, "final_count", run->final_count, CONFIG_LIST_MAX))
        return -1;
    if ((run->rng.inc & 1u) == 0)
        return lpg_error("%s: section 'rng': the stream selector is even", ck->path);
    for (int e = 0; e < CONFIG_LIST_MAX; e++) {
        int64_t count = run->final_count[e];
        if (count < 0 || count > finished || (e >= run->num_envs && count != 0))
            return lpg_error("%s: section 'final_count': environment %d has %lld final returns "
                             "(%lld lifetimes finished)", ck->path, e, (long long)count,
                             (long long)finished);
        for (int64_t j = 0; j < count && j < META_FINAL_WINDOW; j++)
            if (!isfinite(run->final_returns[e][j]))
                return lpg_error("%s: section 'final_returns': environment %d holds a value that "
                                 "is not finite", ck->path, e);
    }
    run->step = step;
    run->lifetimes_finished = finished;
    return 0;
}

/* On resume: when the checkpoint was written by another build, machine or kernel setting (or
 * holds no provenance), notes on stderr which entries differ and sets run->provenance_changed.
 * Never refuses: the run goes on, only its bits will match neither program's unbroken run. */
static int note_provenance(MetaRun *run, const Checkpoint *ck)
{
    int failed;
    char *saved = provenance_read(ck, &failed);
    const char *now = provenance_text();
    if (failed || !now) {
        free(saved);
        return -1;
    }
    run->provenance_changed = !saved || strcmp(saved, now) != 0;
    if (!saved && dist_rank() == 0)
        fprintf(stderr, "lpg: note: %s records no provenance (written before lpg recorded it); "
                        "the resumed run may not repeat an unbroken one bit for bit\n", ck->path);
    if (saved && run->provenance_changed && dist_rank() == 0) {
        cJSON *a = cJSON_Parse(saved), *b = cJSON_Parse(now);
        fprintf(stderr, "lpg: note: %s was written by another build, machine or kernel setting; "
                        "the resumed run will not repeat an unbroken run of either bit for bit:\n",
                ck->path);
        for (const cJSON *item = b ? b->child : NULL; item; item = item->next) {
            const cJSON *old = cJSON_GetObjectItemCaseSensitive(a, item->string);
            if (old && cJSON_Compare(old, item, 1))
                continue;
            char *was = old ? cJSON_PrintUnformatted(old) : NULL, *is = cJSON_PrintUnformatted(item);
            fprintf(stderr, "  %s: %s, now %s\n", item->string, was ? was : "not recorded",
                    is ? is : "?");
            free(was);
            free(is);
        }
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
    free(saved);
    return 0;
}

int meta_run_resume(MetaRun *run, const char *config_path, int noverrides, char **overrides,
                    const char *checkpoint_path, int allow_changes)
{
    if (setup_common(run, config_path, noverrides, overrides))
        return -1;
    Checkpoint ck;
    if (checkpoint_open(&ck, checkpoint_path))
        return -1;
    RuleLayout saved_layout;
    real *eta = NULL;
    int rc = check_shape(run, &ck);
    rc = rc || note_provenance(run, &ck);
    rc = rc || check_agent_shape(run, &ck);
    rc = rc || check_config_changes(run, &ck, config_path, allow_changes);
    if (rc == 0 && !run->es && !checkpoint_find(&ck, "lives"))
        rc = lpg_error("%s: was written by evolution strategies and holds no lifetimes for the "
                       "meta-gradient to continue; resume with meta_optimizer \"es\"", ck.path);
    rc = rc || load_counters(run, &ck);
    if (rc == 0 && !(eta = rule_file_read(&ck, &saved_layout)))
        rc = -1;
    if (rc == 0 && strcmp(rule_kind_name(&saved_layout), rule_kind_name(&run->layout)) != 0)
        rc = lpg_error("%s: holds a rule of kind %s but %s learns one of kind %s; resume with the "
                       "same method and y_softmax", ck.path, rule_kind_name(&saved_layout),
                       config_path, rule_kind_name(&run->layout));
    if (rc == 0 && saved_layout.lifetime_inputs != run->layout.lifetime_inputs)
        rc = lpg_error("%s: holds a rule %s lifetime inputs but %s has lifetime_inputs %s; "
                       "resume with the same value", ck.path,
                       saved_layout.lifetime_inputs ? "with" : "without", config_path,
                       run->layout.lifetime_inputs ? "true" : "false");
    rc = rc || adam_load(&run->adam, &ck, "adam");
    if (rc == 0 && run->adam.step != run->step)
        rc = lpg_error("%s: section 'adam_step' is %lld but section 'step' is %lld", ck.path,
                       (long long)run->adam.step, (long long)run->step);
    rc = rc || bandit_load(run->bandits, run->num_envs, &ck, "bandits");
    rc = rc || level_sampler_load(&run->levels, &ck, run->step);
    rc = rc || (!run->es && load_lives(run, &ck));
    if (rc == 0)
        memcpy(run->eta, eta, run->layout.count * sizeof(real));
    free(eta);
    checkpoint_close(&ck);
    return rc ? -1 : 0;
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
    on_threads(run_windows, &q, threads);
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
