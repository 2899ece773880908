/* es_run.c: one ES generation of a meta-training run (see es_run.h): tasks, the members'
 * lifetimes on threads and ranks, fitness, the estimate and Adam. */
#include "es_run.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"
#include "es.h"
#include "linalg.h"
#include "thread_pool.h"
#include "util.h"

/* One lifetime every member lives in a generation. */
typedef struct {
    int env_index;
    int length;      /* updates, whole windows */
    uint64_t seed;   /* the lifetime's: θ_0, its environments, its actions */
} EsTask;

/* What a member's lifetime gives every rank, as the bits of doubles (zero on other ranks). */
enum { SHARED_FINAL_RETURN, SHARED_EPISODES, SHARED_RETURN_SUM, SHARED_SCALARS };

/* A lifetime of the generation: item i is member i / tasks on task i % tasks. */
typedef struct {
    double cost;
    int item;
} EsItem;

struct EsState {
    int tasks, members, items;
    EsTask *tasks_of;     /* [tasks] this generation's */
    EsItem *order;        /* [items] this rank's lifetimes, costliest first */
    int64_t *exchange;    /* [items x SHARED_SCALARS] */
    double *final_return; /* [items] after the exchange */
    double *fitness, *shaped, *column; /* [members] */
    real *member_eta;     /* [threads x count] each thread's member parameters */
    double *eps;          /* [threads x count] each thread's ε */
};

int64_t es_lifetimes_per_generation(const MetaConfig *c)
{
    return 2LL * c->es_population * c->es_lifetimes_per_member;
}

int es_arm(const MetaConfig *c, const EnvSpec *spec, double *alpha_lr, double *alpha_y)
{
    const ConfigDoubleList *lrs = spec->num_states > 0 ? &c->tabular_lrs : &c->mlp_lrs;
    int i = (lrs->count - 1) / 2, j = (c->alpha_ys.count - 1) / 2;
    *alpha_lr = lrs->item[i];
    *alpha_y = c->alpha_ys.item[j];
    return i * c->alpha_ys.count + j; /* bandit.c's arm order: lr-major */
}

int es_state_create(MetaRun *run)
{
    const MetaConfig *c = &run->config;
    EsState *s = lpg_calloc(1, sizeof *s, "ES state");
    run->es = s;
    if (!s)
        return -1;
    s->tasks = c->es_lifetimes_per_member;
    s->members = 2 * c->es_population;
    s->items = (int)es_lifetimes_per_generation(c);
    size_t count = run->layout.count, threads = (size_t)c->threads;
    s->tasks_of = lpg_calloc((size_t)s->tasks, sizeof *s->tasks_of, "ES tasks");
    s->order = lpg_calloc((size_t)s->items, sizeof *s->order, "ES lifetimes");
    s->exchange = lpg_calloc((size_t)s->items * SHARED_SCALARS, sizeof(int64_t), "ES results");
    s->final_return = lpg_calloc((size_t)s->items, sizeof(double), "ES results");
    s->fitness = lpg_calloc((size_t)s->members, sizeof(double), "ES fitness");
    s->shaped = lpg_calloc((size_t)s->members, sizeof(double), "ES fitness");
    s->column = lpg_calloc((size_t)s->members, sizeof(double), "ES fitness");
    s->member_eta = lpg_calloc(threads * count, sizeof(real), "ES member parameters");
    s->eps = lpg_calloc(threads * count, sizeof(double), "ES noise");
    if (!s->tasks_of || !s->order || !s->exchange || !s->final_return || !s->fitness ||
        !s->shaped || !s->column || !s->member_eta || !s->eps)
        return -1;
    return 0;
}

void es_state_free(MetaRun *run)
{
    EsState *s = run->es;
    if (!s)
        return;
    free(s->tasks_of);
    free(s->order);
    free(s->exchange);
    free(s->final_return);
    free(s->fitness);
    free(s->shaped);
    free(s->column);
    free(s->member_eta);
    free(s->eps);
    free(s);
    run->es = NULL;
}

/* The generation's tasks, from the run's generator in task order: environment, seed, length. */
static void draw_tasks(MetaRun *run)
{
    EsState *s = run->es;
    for (int t = 0; t < s->tasks; t++) {
        EsTask *task = &s->tasks_of[t];
        task->env_index = (int)rng_below(&run->rng, (uint32_t)run->num_envs);
        task->seed = ((uint64_t)rng_u32(&run->rng) << 32) | rng_u32(&run->rng);
        task->length = meta_run_life_length(run, &run->specs[task->env_index]);
    }
}

/* ---- the members' lifetimes --------------------------------------------------------------- */

typedef struct {
    MetaRun *run;
    EsGeneration g;
    int count;           /* this rank's lifetimes, in s->order */
    atomic_int next;     /* position in order of the next lifetime to live */
    atomic_int slot;     /* the next thread's scratch */
    atomic_int failed;
} EsQueue;

static int by_cost(const void *a, const void *b)
{
    const EsItem *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    return x->item - y->item;
}

/* This rank's lifetimes, costliest first (MLP and conv agents, then long lives), so that a
 * thread left with the last cheap ones finishes soon after the others. Returns how many. */
static int order_by_cost(MetaRun *run)
{
    EsState *s = run->es;
    int count = 0;
    for (int i = 0; i < s->items; i++) {
        if (!dist_owns(s->items, i))
            continue;
        const EsTask *task = &s->tasks_of[i % s->tasks];
        double weight = run->specs[task->env_index].num_states > 0 ? 1 : 16;
        s->order[count++] = (EsItem){weight * task->length, i};
    }
    qsort(s->order, (size_t)count, sizeof *s->order, by_cost);
    return count;
}

/* Lives item i: member i / tasks with its parameters eta_m on task i % tasks, from θ_0 to the
 * end; writes its results into its exchange slots. Returns 0, or -1 after reporting. */
static int live_item(MetaRun *run, int i, const real *eta_m)
{
    EsState *s = run->es;
    const MetaConfig *c = &run->config;
    const EsTask *task = &s->tasks_of[i % s->tasks];
    const EnvSpec *spec = &run->specs[task->env_index];
    double alpha_lr, alpha_y;
    int arm = es_arm(c, spec, &alpha_lr, &alpha_y);
    Lifetime life;
    if (lifetime_start(&life, c, spec, task->env_index, arm, alpha_lr, alpha_y, task->length, 0,
                       &run->layout, task->seed)) {
        lifetime_free(&life);
        return -1;
    }
    int64_t episodes = 0;
    double return_sum = 0;
    while (!lifetime_finished(&life))
        lifetime_forward(&life, eta_m, &run->layout, &episodes, &return_sum);
    double x[SHARED_SCALARS];
    x[SHARED_FINAL_RETURN] = lifetime_final_return(&life);
    x[SHARED_EPISODES] = (double)episodes;
    x[SHARED_RETURN_SUM] = return_sum;
    memcpy(s->exchange + (size_t)i * SHARED_SCALARS, x, sizeof x);
    lifetime_free(&life);
    return 0;
}

static void *live_items(void *arg)
{
    EsQueue *q = arg;
    MetaRun *run = q->run;
    EsState *s = run->es;
    size_t count = run->layout.count, slot = (size_t)atomic_fetch_add(&q->slot, 1);
    real *eta_m = s->member_eta + slot * count;
    double *eps = s->eps + slot * count;
    for (int at; !atomic_load(&q->failed) && (at = atomic_fetch_add(&q->next, 1)) < q->count;) {
        int i = s->order[at].item;
        es_member(&q->g, i / s->tasks, eps, eta_m);
        if (live_item(run, i, eta_m))
            atomic_store(&q->failed, 1);
    }
    return NULL;
}

/* Every lifetime of the generation: this rank's on config.threads threads, then the others'
 * results from the exchange. Returns 0, or -1 after reporting. */
static int live_generation(MetaRun *run, const EsGeneration *g)
{
    EsState *s = run->es;
    EsQueue q = {.run = run, .g = *g};
    atomic_init(&q.next, 0);
    atomic_init(&q.slot, 0);
    atomic_init(&q.failed, 0);
    q.count = order_by_cost(run);
    memset(s->exchange, 0, (size_t)s->items * SHARED_SCALARS * sizeof *s->exchange);
    int threads = run->config.threads < q.count ? run->config.threads : q.count;
    pool_run(threads, live_items, &q);
    if (atomic_load(&q.failed))
        return -1;
    return dist_allreduce_sum(s->exchange, (size_t)s->items * SHARED_SCALARS);
}

static double shared_value(const EsState *s, int i, int what)
{
    double x;
    memcpy(&x, s->exchange + (size_t)i * SHARED_SCALARS + what, sizeof x);
    return x;
}

/* ---- fitness ------------------------------------------------------------------------------ */

/* The members' final returns on one task, standardised: (R − mean) / std over the members
 * (population std; all 0 when they are all equal). A return that is not finite (a member whose
 * agent diverged) counts as the task's lowest finite one. */
static void standardise(double *column, int members)
{
    double lowest = INFINITY;
    for (int m = 0; m < members; m++)
        if (isfinite(column[m]) && column[m] < lowest)
            lowest = column[m];
    double sum = 0, sum_sq = 0;
    for (int m = 0; m < members; m++) {
        if (!isfinite(column[m]))
            column[m] = isfinite(lowest) ? lowest : 0;
        sum += column[m];
    }
    double mean = sum / members;
    for (int m = 0; m < members; m++)
        sum_sq += (column[m] - mean) * (column[m] - mean);
    double std = sqrt(sum_sq / members);
    for (int m = 0; m < members; m++)
        column[m] = std > 0 ? (column[m] - mean) / std : 0;
}

void es_fitness(const double *final_return, int members, int tasks, double *fitness,
                double *column)
{
    memset(fitness, 0, (size_t)members * sizeof *fitness);
    for (int t = 0; t < tasks; t++) {
        for (int m = 0; m < members; m++)
            column[m] = final_return[m * tasks + t];
        standardise(column, members);
        for (int m = 0; m < members; m++)
            fitness[m] += column[m] / tasks;
    }
}

/* The log's figures: per environment the episodes and returns of every lifetime, the
 * population's mean final return into the environment's recent ring, the steps taken. */
static void generation_stats(MetaRun *run, MetaStepStats *stats)
{
    EsState *s = run->es;
    const MetaConfig *c = &run->config;
    double final_sum[CONFIG_LIST_MAX] = {0};
    int finals[CONFIG_LIST_MAX] = {0};
    for (int i = 0; i < s->items; i++) {
        const EsTask *task = &s->tasks_of[i % s->tasks];
        int e = task->env_index;
        stats->episodes[e] += (int64_t)shared_value(s, i, SHARED_EPISODES);
        stats->return_sum[e] += shared_value(s, i, SHARED_RETURN_SUM);
        final_sum[e] += s->final_return[i];
        finals[e]++;
        stats->env_steps += (int64_t)(task->length / c->K) * (c->K + 1) * c->unroll * c->copies;
    }
    for (int e = 0; e < run->num_envs; e++) {
        stats->critic_fvu[e] = NAN;
        if (finals[e] == 0 || !isfinite(final_sum[e]))
            continue;
        run->final_returns[e][run->final_count[e] % META_FINAL_WINDOW] = final_sum[e] / finals[e];
        run->final_count[e]++;
    }
    stats->fitness_max = -INFINITY, stats->fitness_min = INFINITY;
    for (int m = 0; m < s->members; m++) {
        stats->fitness_max = fmax(stats->fitness_max, s->fitness[m]);
        stats->fitness_min = fmin(stats->fitness_min, s->fitness[m]);
    }
    stats->lifetimes_finished = s->items;
    stats->J = NAN;
}

/* ---- one generation ----------------------------------------------------------------------- */

int es_generation(MetaRun *run, MetaStepStats *stats)
{
    EsState *s = run->es;
    const MetaConfig *c = &run->config;
    size_t count = run->layout.count;
    memset(stats, 0, sizeof *stats);
    EsGeneration g = {run->eta, count, c->es_population, c->es_sigma, (uint64_t)c->seed,
                      run->step};
    draw_tasks(run);
    if (live_generation(run, &g))
        return -1;
    for (int i = 0; i < s->items; i++)
        s->final_return[i] = shared_value(s, i, SHARED_FINAL_RETURN);
    es_fitness(s->final_return, s->members, s->tasks, s->fitness, s->column);
    if (es_centred_ranks(s->fitness, s->members, s->shaped) ||
        es_gradient(&g, s->shaped, s->eps, run->grad))
        return -1;
    for (size_t j = 0; j < count; j++) /* Adam descends: it gets −ĝ to ascend the fitness */
        run->grad[j] = -run->grad[j];
    generation_stats(run, stats);
    stats->grad_norm = adam_step(&run->adam, run->eta, run->grad);
    if (!all_finite(run->eta, count))
        return lpg_error("generation %lld: eta is not finite after the update; stopping without "
                         "saving (the last checkpoint is kept)", (long long)run->step + 1);
    run->step++;
    run->lifetimes_finished += s->items;
    return 0;
}
