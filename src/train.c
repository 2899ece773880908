/* train.c: the training loop of `lpg train` (see train.h): per-seed runs of A2C or of a saved
 * rule, spread over pthreads, a learning curve per seed, a progress line, and the curve CSV. */
#include "train.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "critic.h"
#include "inner_update.h"
#include "linalg.h"
#include "rollout.h"
#include "stats.h"
#include "train_stats.h"
#include "thread_pool.h"
#include "util.h"

/* ---- one seed's run ------------------------------------------------------------------- */

typedef struct {
    Agent agent;
    AgentWork work;
    EnvBatch env;
    Rollout rollout;
    Rng rng;
    real *theta;
    real gamma;
    A2c a2c;                 /* method a2c */
    RuleWork *rwork;         /* method lpg: the rule's activations */
    real *pi_taken, *gammas, *grad; /* method lpg: rule inputs and the gradient */
    real *adam_m, *adam_v;   /* method lpg, Adam inner step: the moments (else NULL) */
    int64_t updates;         /* method lpg: updates so far (Adam's bias corrections) */
    int64_t length;          /* method lpg: the run's updates, N of a lifetime-aware rule */
    Critic value;            /* an LPG-V rule: the agent's TD(λ) value, the rule's input */
    real *advantage;         /* an LPG-V rule: scratch for critic_update */
    real value_lr, value_lambda;
    double stats[STAT_COUNT]; /* stats_output: sums since the last curve point */
    int64_t stats_updates;
} SeedRun;

static void seed_run_free(SeedRun *run)
{
    a2c_free(&run->a2c);
    critic_free(&run->value);
    free(run->advantage);
    rule_work_free(run->rwork);
    free(run->pi_taken);
    free(run->gammas);
    free(run->grad);
    free(run->adam_m);
    free(run->adam_v);
    free(run->theta);
    rollout_free(&run->rollout);
    env_batch_free(&run->env);
    agent_work_free(&run->work);
    memset(run, 0, sizeof *run);
}

/* An LPG-V rule's value learner: a value network of the agent's kind (zero for a tabular agent,
 * drawn from the seed's generator for an MLP) trained by TD(λ) with the rule's settings. */
static int value_learner_init(SeedRun *run, const TrainConfig *c, const EnvSpec *spec,
                              const RuleLayout *layout)
{
    Rng value_rng = rng_split(&run->rng);
    run->value_lr = (real)(spec->num_states > 0 ? layout->value_tabular_lr : layout->value_lr);
    run->value_lambda = (real)layout->value_lambda;
    run->advantage = lpg_calloc((size_t)c->unroll * c->copies, sizeof(real), "advantages");
    if (!run->advantage)
        return -1;
    return critic_init(&run->value, spec, c->conv_filters, c->mlp_hidden.item,
                       c->mlp_hidden.count, c->unroll, c->copies, &value_rng);
}

/* Allocates the LPG learner's buffers: rule workspace, π(a|s) inputs, per-copy γ, gradient (and
 * an LPG-V rule's value), and Adam's moments (zero) when the agent's inner step is Adam. */
static int lpg_learner_init(SeedRun *run, const TrainConfig *c, const EnvSpec *spec,
                            const RuleLayout *layout)
{
    size_t P = run->agent.num_params;
    if (layout->method == RULE_LPG_V && value_learner_init(run, c, spec, layout))
        return -1;
    run->rwork = rule_work_create(layout, c->copies, c->unroll);
    run->pi_taken = lpg_calloc((size_t)c->unroll * c->copies, sizeof(real), "rule inputs");
    run->gammas = lpg_calloc((size_t)c->copies, sizeof(real), "discounts");
    run->grad = lpg_calloc(P, sizeof(real), "agent gradient");
    if (!run->rwork || !run->pi_taken || !run->gammas || !run->grad)
        return -1;
    if (inner_optimizer_for(&run->agent, c->inner_kind) == INNER_ADAM) {
        run->adam_m = lpg_calloc(P, sizeof(real), "inner Adam moments");
        run->adam_v = lpg_calloc(P, sizeof(real), "inner Adam moments");
        if (!run->adam_m || !run->adam_v)
            return -1;
    }
    for (int i = 0; i < c->copies; i++)
        run->gammas[i] = run->gamma;
    return 0;
}

/* Everything seed `seed` needs, drawn from its own RNG: environment seed first (the same for
 * both methods, so they meet the same chains), then θ_0. */
static int seed_run_init(SeedRun *run, const TrainConfig *c, const EnvSpec *spec,
                         const RuleLayout *layout, uint64_t seed)
{
    memset(run, 0, sizeof *run);
    int lpg = c->method_kind == TRAIN_LPG;
    int num_y = lpg && layout->method != RULE_LPG_V ? RULE_Y_DIM : 0; /* LPG-V: no y */
    AgentSpec as;
    if (agent_spec_for_env(&as, spec, c->conv_filters, c->mlp_hidden.item, c->mlp_hidden.count,
                           num_y, lpg ? 0 : 1))
        return -1;
    as.tabular_init_std = c->tabular_init_std;
    rng_seed(&run->rng, seed, RNG_STREAM_TRAIN);
    uint64_t env_seed = ((uint64_t)rng_u32(&run->rng) << 32) | rng_u32(&run->rng);
    run->gamma = (real)spec->gamma;
    if (agent_setup(&run->agent, &as) ||
        agent_work_init(&run->work, &run->agent, (c->unroll + 1) * c->copies) ||
        env_batch_init(&run->env, spec, c->copies, env_seed) ||
        rollout_init(&run->rollout, spec, &run->agent, c->unroll, c->copies))
        return -1;
    run->theta = lpg_calloc(run->agent.num_params, sizeof(real), "agent parameters");
    if (!run->theta)
        return -1;
    agent_init_params(&run->agent, run->theta, &run->rng);
    if (lpg)
        return lpg_learner_init(run, c, spec, layout);
    return a2c_init(&run->a2c, &run->agent, c->unroll, c->copies, &c->a2c);
}

/* One rollout and one update of θ; returns the loss. */
static real seed_run_update(SeedRun *run, const TrainConfig *c, const RuleLayout *layout,
                            const real *eta)
{
    rollout_collect(&run->rollout, &run->env, &run->agent, &run->work, run->theta, &run->rng);
    if (c->method_kind == TRAIN_A2C)
        return a2c_update(&run->a2c, &run->agent, &run->work, run->theta, &run->rollout,
                          run->gamma, NULL);
    RuleInput in;
    if (layout->method == RULE_LPG_V) /* the rule reads V from before its step on this rollout */
        critic_update(&run->value, &run->rollout, run->gamma, run->value_lambda, run->value_lr,
                      run->advantage);
    rule_input_at(&run->agent, layout, &run->work, run->theta, &run->rollout, run->gammas,
                  run->value.value, run->pi_taken, &in);
    if (layout->lifetime_inputs) /* the evaluation's budget is the life */
        rule_input_set_lifetime(&in, run->updates, run->length);
    InnerAdam adam = {run->adam_m, run->adam_v, run->adam_m, run->adam_v, ++run->updates};
    real loss = inner_update(&run->agent, &run->work, run->rwork, eta, layout, &run->rollout, &in,
                             run->adam_m ? &adam : NULL, (real)c->alpha_lr, (real)c->alpha_y,
                             run->theta, run->theta, run->grad);
    if (c->stats_output[0]) {
        train_stats_add(run->stats, &run->agent, &run->work, &run->rollout, run->rwork, run->theta);
        run->stats_updates++;
    }
    return loss;
}

/* ---- the run over seeds --------------------------------------------------------------- */

typedef struct {
    const TrainConfig *config;
    const EnvSpec *spec;
    const RuleLayout *layout;
    const real *eta;
    TrainResult *result;
    int64_t updates;         /* per seed */
    int64_t final_updates;   /* the last ones, whose steps make the final score */
    int64_t steps_per_update;
    int64_t *point_update;   /* [num_points] the update after which point k is taken */

    pthread_mutex_t lock;    /* guards everything below */
    pthread_cond_t finished; /* signalled when a worker ends */
    int next_seed, workers_running, failed;
    int64_t steps_done;      /* over all seeds */
    double *latest;          /* [num_seeds] each seed's last finite point value, or NaN */
    int error_seed;          /* index of the seed whose parameters went non-finite, or -1 */
    int64_t error_step;
} TrainShared;

/* Everything the environment has paid so far: finished episodes plus the running ones. */
static double reward_so_far(const EnvBatch *env)
{
    double total = env->returns_done_sum;
    for (int i = 0; i < env->n; i++)
        total += env->running_return[i];
    return total;
}

/* Where a seed's counters stood at its last point and at the start of its final window. */
typedef struct {
    int64_t episodes, steps;
    double return_sum, reward;
} SeedMark;

static SeedMark seed_mark(const EnvBatch *env, int64_t steps)
{
    SeedMark m = {env->episodes_done, steps, env->returns_done_sum, reward_so_far(env)};
    return m;
}

/* Stores point k of seed s from what happened since the previous point (*prev, then moved). */
static void record_point(TrainShared *sh, int s, int k, const EnvBatch *env, int64_t steps,
                         SeedMark *prev)
{
    SeedMark now = seed_mark(env, steps);
    int64_t episodes = now.episodes - prev->episodes;
    double value = episodes > 0 ? (now.return_sum - prev->return_sum) / (double)episodes : NAN;
    size_t at = (size_t)s * sh->result->num_points + k;
    sh->result->curve[at] = value;
    sh->result->reward_curve[at] = (now.reward - prev->reward) / (double)(now.steps - prev->steps);
    *prev = now;
    if (!isnan(value)) {
        pthread_mutex_lock(&sh->lock);
        sh->latest[s] = value;
        pthread_mutex_unlock(&sh->lock);
    }
}

/* Stores seed s's rule statistics at point k (when measured) and starts the next interval. */
static void record_stats(TrainResult *result, int s, int k, SeedRun *run)
{
    if (!result->stats)
        return;
    double *point = result->stats + ((size_t)s * result->num_points + k) * train_stats_num_columns;
    train_stats_point(run->stats, run->stats_updates, point);
    memset(run->stats, 0, sizeof run->stats);
    run->stats_updates = 0;
}

/* Stores seed s's final score from what happened since `start` (the final window's start). */
static void record_final(TrainResult *r, int s, const EnvBatch *env, int64_t steps,
                         const SeedMark *start)
{
    SeedMark end = seed_mark(env, steps);
    int64_t episodes = end.episodes - start->episodes;
    r->final_reward[s] = (end.reward - start->reward) / (double)(end.steps - start->steps);
    r->final_return[s] = episodes > 0 ? (end.return_sum - start->return_sum) / (double)episodes
                                      : NAN;
    r->final_episodes[s] = episodes;
}

/* Adds one update's steps to the shared count; returns 1 when another seed failed. */
static int report_update(TrainShared *sh)
{
    pthread_mutex_lock(&sh->lock);
    sh->steps_done += sh->steps_per_update;
    int failed = sh->failed;
    pthread_mutex_unlock(&sh->lock);
    return failed;
}

static void fail_seed(TrainShared *sh, int s, int64_t step)
{
    pthread_mutex_lock(&sh->lock);
    sh->failed = 1;
    if (s >= 0 && (sh->error_seed < 0 || s < sh->error_seed)) {
        sh->error_seed = s;
        sh->error_step = step;
    }
    pthread_mutex_unlock(&sh->lock);
}

/* Trains seed index s to the end. Returns 0, or -1 (allocation errors reported here; a
 * non-finite θ is recorded in sh and reported by train_run). */
static int run_seed(TrainShared *sh, int s)
{
    const TrainConfig *c = sh->config;
    SeedRun run;
    if (seed_run_init(&run, c, sh->spec, sh->layout, (uint64_t)c->seed + (uint64_t)s)) {
        seed_run_free(&run);
        fail_seed(sh, -1, 0);
        return -1;
    }
    run.length = sh->updates;
    SeedMark prev = seed_mark(&run.env, 0), final_start = prev;
    int64_t final_from = sh->updates - sh->final_updates; /* the window starts after it */
    int k = 0, rc = 0;
    for (int64_t u = 1; u <= sh->updates; u++) {
        real loss = seed_run_update(&run, c, sh->layout, sh->eta);
        int64_t steps = u * sh->steps_per_update;
        if (!isfinite(loss) || !all_finite(run.theta, run.agent.num_params)) {
            fail_seed(sh, s, steps);
            rc = -1;
            break;
        }
        if (u == final_from)
            final_start = seed_mark(&run.env, steps);
        if (u == sh->point_update[k]) {
            record_stats(sh->result, s, k, &run);
            record_point(sh, s, k++, &run.env, steps, &prev);
        }
        if (u == sh->updates)
            record_final(sh->result, s, &run.env, steps, &final_start);
        if (report_update(sh))
            break;
    }
    seed_run_free(&run);
    return rc;
}

static void *train_worker(void *arg)
{
    TrainShared *sh = arg;
    for (;;) {
        pthread_mutex_lock(&sh->lock);
        int s = sh->failed ? sh->result->num_seeds : sh->next_seed++;
        pthread_mutex_unlock(&sh->lock);
        if (s >= sh->result->num_seeds || run_seed(sh, s))
            break;
    }
    pthread_mutex_lock(&sh->lock);
    sh->workers_running--;
    pthread_cond_signal(&sh->finished);
    pthread_mutex_unlock(&sh->lock);
    return NULL;
}

/* ---- progress ------------------------------------------------------------------------- */

/* 1234567 -> "1.23M". */
static void human_count(double x, char *out, size_t size)
{
    const char *unit = "";
    if (x >= 1e9)
        x /= 1e9, unit = "G";
    else if (x >= 1e6)
        x /= 1e6, unit = "M";
    else if (x >= 1e3)
        x /= 1e3, unit = "k";
    snprintf(out, size, *unit ? "%.2f%s" : "%.0f%s", x, unit);
}

/* Mean over seeds of their latest point value (caller holds the lock); NaN when none yet. */
static double recent_return(const TrainShared *sh)
{
    double sum = 0;
    int count = 0;
    for (int s = 0; s < sh->result->num_seeds; s++)
        if (!isnan(sh->latest[s]))
            sum += sh->latest[s], count++;
    return count ? sum / count : NAN;
}

/* One progress line; on a terminal it starts with \r and overwrites the last one, and only
 * the final one ends the line. */
static void print_progress(const TrainShared *sh, int64_t done, double recent, double elapsed,
                           int tty, int final)
{
    double total = (double)sh->updates * sh->steps_per_update * sh->result->num_seeds;
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    char done_text[32], total_text[32], rate_text[32], ret[32] = "-";
    human_count((double)done, done_text, sizeof done_text);
    human_count(total, total_text, sizeof total_text);
    human_count(rate, rate_text, sizeof rate_text);
    if (!isnan(recent))
        snprintf(ret, sizeof ret, "%.3g", recent);
    double left = rate > 0 ? (total - (double)done) / rate : 0;
    fprintf(stderr, "%strain %s %s: %s/%s steps (%.0f%%), %s steps/s, return %s, %.0fs left%s",
            tty ? "\r" : "", train_method_names[sh->config->method], sh->spec->name, done_text, total_text,
            total > 0 ? 100.0 * (double)done / total : 100.0, rate_text, ret, left,
            tty && !final ? "   " : "   \n");
    fflush(stderr);
}

/* Waits for the workers, printing progress when asked: on a terminal every quarter second in
 * place, otherwise a line every 5 seconds. */
static void wait_for_workers(TrainShared *sh, int progress, double start)
{
    int tty = progress && isatty(STDERR_FILENO);
    double interval = tty ? 0.25 : 5.0, last = start;
    pthread_mutex_lock(&sh->lock);
    while (sh->workers_running > 0) {
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_nsec += 250000000L;
        if (deadline.tv_nsec >= 1000000000L)
            deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&sh->finished, &sh->lock, &deadline);
        double now = now_seconds();
        if (progress && sh->workers_running > 0 && now - last >= interval) {
            print_progress(sh, sh->steps_done, recent_return(sh), now - start, tty, 0);
            last = now;
        }
    }
    if (progress && !sh->failed)
        print_progress(sh, sh->steps_done, recent_return(sh), now_seconds() - start, tty, 1);
    else if (tty && last > start)
        fputc('\n', stderr); /* end the in-place line before the error message */
    pthread_mutex_unlock(&sh->lock);
}

/* ---- train_run ------------------------------------------------------------------------ */

/* Checks that the rule's kind (rule.h) fits config->method: "lpg_v" for an LPG-V rule, "lpg"
 * for the others. Returns 0, or -1 after reporting the mismatch (naming config->rule). */
static int train_check_rule(const TrainConfig *c, const RuleLayout *layout)
{
    int lpg_v = layout->method == RULE_LPG_V;
    if (lpg_v != (c->method == TRAIN_METHOD_LPG_V))
        return lpg_error("%s: is a rule of kind %s, to be used with method \"%s\", but the config "
                         "says method \"%s\"", c->rule, rule_kind_name(layout),
                         lpg_v ? "lpg_v" : "lpg", train_method_names[c->method]);
    return 0;
}

static int result_alloc(TrainResult *r, int num_seeds, int num_points, int stats)
{
    memset(r, 0, sizeof *r);
    r->num_seeds = num_seeds;
    r->num_points = num_points;
    size_t values = (size_t)num_seeds * num_points;
    r->point_steps = lpg_calloc((size_t)num_points, sizeof(int64_t), "curve steps");
    r->curve = lpg_calloc(values, sizeof(double), "learning curve");
    r->reward_curve = lpg_calloc(values, sizeof(double), "learning curve");
    r->final_reward = lpg_calloc((size_t)num_seeds, sizeof(double), "final scores");
    r->final_return = lpg_calloc((size_t)num_seeds, sizeof(double), "final scores");
    r->final_episodes = lpg_calloc((size_t)num_seeds, sizeof(int64_t), "final scores");
    if (stats)
        r->stats = lpg_calloc(values * train_stats_num_columns, sizeof(double), "rule statistics");
    if (!r->point_steps || !r->curve || !r->reward_curve || !r->final_reward ||
        !r->final_return || !r->final_episodes || (stats && !r->stats)) {
        train_result_free(r);
        return -1;
    }
    for (size_t i = 0; i < values; i++)
        r->curve[i] = r->reward_curve[i] = NAN;
    for (int s = 0; s < num_seeds; s++)
        r->final_reward[s] = r->final_return[s] = NAN;
    return 0;
}

void train_result_free(TrainResult *r)
{
    free(r->point_steps);
    free(r->curve);
    free(r->stats);
    free(r->reward_curve);
    free(r->final_reward);
    free(r->final_return);
    free(r->final_episodes);
    memset(r, 0, sizeof *r);
}

/* Sizes the run: updates per seed, points (at most one per update) and where they fall. */
int train_result_init(TrainResult *r, const TrainConfig *c)
{
    int64_t per_update = (int64_t)c->unroll * c->copies;
    int64_t updates = (c->steps + per_update - 1) / per_update;
    int points = c->log_points < updates ? c->log_points : (int)updates;
    int stats = c->method_kind == TRAIN_LPG && c->stats_output[0];
    if (result_alloc(r, c->seeds, points, stats))
        return -1;
    for (int k = 0; k < points; k++)
        r->point_steps[k] = updates * (k + 1) / points * per_update;
    r->final_steps = (updates * TRAIN_FINAL_PERCENT + 99) / 100 * per_update;
    return 0;
}

static int shared_init(TrainShared *sh, const TrainConfig *c, TrainResult *result)
{
    if (train_result_init(result, c))
        return -1;
    sh->result = result;
    sh->steps_per_update = (int64_t)c->unroll * c->copies;
    sh->updates = (c->steps + sh->steps_per_update - 1) / sh->steps_per_update;
    sh->final_updates = result->final_steps / sh->steps_per_update;
    sh->point_update = lpg_calloc((size_t)result->num_points, sizeof(int64_t), "curve points");
    sh->latest = lpg_calloc((size_t)c->seeds, sizeof(double), "recent returns");
    if (!sh->point_update || !sh->latest)
        return -1;
    for (int k = 0; k < result->num_points; k++)
        sh->point_update[k] = result->point_steps[k] / sh->steps_per_update;
    for (int s = 0; s < c->seeds; s++)
        sh->latest[s] = NAN;
    sh->error_seed = -1;
    return 0;
}

/* Starts count workers; a worker that cannot start marks the run failed. Returns how many
 * started. */
static int start_workers(TrainShared *sh, ThreadPool *pool, int count)
{
    pthread_mutex_lock(&sh->lock);
    sh->workers_running = count;
    pthread_mutex_unlock(&sh->lock);
    int started = pool_start(pool, count, train_worker, sh);
    if (started < count) {
        pthread_mutex_lock(&sh->lock);
        sh->workers_running -= count - started;
        sh->failed = 1;
        pthread_mutex_unlock(&sh->lock);
    }
    return started;
}

int train_run(const TrainConfig *c, const EnvSpec *spec, const RuleLayout *layout,
              const real *eta, int progress, TrainResult *result)
{
    if (c->method_kind == TRAIN_LPG && (!layout || !eta))
        return lpg_error("train: method lpg needs a rule");
    if (c->method_kind == TRAIN_LPG && train_check_rule(c, layout))
        return -1;
    TrainShared sh;
    memset(&sh, 0, sizeof sh);
    sh.config = c, sh.spec = spec, sh.layout = layout, sh.eta = eta;
    pthread_mutex_init(&sh.lock, NULL);
    pthread_cond_init(&sh.finished, NULL);
    int rc = shared_init(&sh, c, result);
    int nthreads = c->threads < c->seeds ? c->threads : c->seeds;
    ThreadPool pool;
    double start = now_seconds();
    if (rc == 0) {
        start_workers(&sh, &pool, nthreads);
        wait_for_workers(&sh, progress, start);
        pool_join(&pool);
        result->seconds = now_seconds() - start;
        if (sh.error_seed >= 0)
            lpg_error("train: seed %d: parameters became NaN or infinite at step %lld (learning "
                      "rate too large?)", c->seed + sh.error_seed, (long long)sh.error_step);
        rc = sh.failed ? -1 : 0;
    }
    free(sh.point_update);
    free(sh.latest);
    pthread_cond_destroy(&sh.finished);
    pthread_mutex_destroy(&sh.lock);
    if (rc)
        train_result_free(result);
    return rc;
}

/* ---- results -------------------------------------------------------------------------- */

size_t train_seed_bytes(const TrainResult *r)
{
    return (2 * (size_t)r->num_points + 2) * sizeof(double) + sizeof(int64_t);
}

void train_seed_pack(const TrainResult *r, int s, unsigned char *out)
{
    size_t points = (size_t)r->num_points * sizeof(double);
    memcpy(out, r->curve + (size_t)s * r->num_points, points);
    memcpy(out + points, r->reward_curve + (size_t)s * r->num_points, points);
    out += 2 * points;
    memcpy(out, &r->final_reward[s], sizeof(double));
    memcpy(out + sizeof(double), &r->final_return[s], sizeof(double));
    memcpy(out + 2 * sizeof(double), &r->final_episodes[s], sizeof(int64_t));
}

void train_seed_unpack(TrainResult *r, int s, const unsigned char *in)
{
    size_t points = (size_t)r->num_points * sizeof(double);
    memcpy(r->curve + (size_t)s * r->num_points, in, points);
    memcpy(r->reward_curve + (size_t)s * r->num_points, in + points, points);
    in += 2 * points;
    memcpy(&r->final_reward[s], in, sizeof(double));
    memcpy(&r->final_return[s], in + sizeof(double), sizeof(double));
    memcpy(&r->final_episodes[s], in + 2 * sizeof(double), sizeof(int64_t));
}

void train_point_stats(const TrainResult *r, int k, double *mean, double *se, int *count)
{
    *count = mean_se_skip_nan(r->curve + k, r->num_seeds, (size_t)r->num_points, mean, se);
}

void train_final_score(const TrainResult *r, TrainScore *score)
{
    memset(score, 0, sizeof *score);
    score->seeds = mean_se_skip_nan(r->final_reward, r->num_seeds, 1, &score->mean, &score->se);
    score->return_seeds = mean_se_skip_nan(r->final_return, r->num_seeds, 1, &score->return_mean,
                                           &score->return_se);
    for (int s = 0; s < r->num_seeds; s++)
        score->episodes += r->final_episodes[s];
    score->steps = r->final_steps;
}

/* Appends printf output to a growing buffer; returns -1 when out of memory. */
static int append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    for (;;) {
        va_list args;
        va_start(args, fmt);
        int n = vsnprintf(*buf + *len, *cap - *len, fmt, args);
        va_end(args);
        if (n < 0)
            return -1;
        if ((size_t)n < *cap - *len) {
            *len += (size_t)n;
            return 0;
        }
        char *bigger = realloc(*buf, *cap * 2 + (size_t)n);
        if (!bigger)
            return -1;
        *buf = bigger;
        *cap = *cap * 2 + (size_t)n;
    }
}

/* Appends ",value", or ",nan" for NaN whatever its sign (printf may write "-nan"). */
static int append_value(char **buf, size_t *len, size_t *cap, double value)
{
    return isnan(value) ? append(buf, len, cap, ",nan") : append(buf, len, cap, ",%.6g", value);
}

char *train_curve_csv(const TrainResult *r, const TrainConfig *c)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    int bad = !buf || append(&buf, &len, &cap, "steps,mean_return,se_return,"
                                                "mean_reward_per_step,se_reward_per_step");
    for (int s = 0; !bad && s < r->num_seeds; s++)
        bad = append(&buf, &len, &cap, ",seed_%d", c->seed + s);
    for (int s = 0; !bad && s < r->num_seeds; s++)
        bad = append(&buf, &len, &cap, ",reward_per_step_seed_%d", c->seed + s);
    bad = bad || append(&buf, &len, &cap, "\n");
    for (int k = 0; !bad && k < r->num_points; k++) {
        double mean, se, rate_mean, rate_se;
        int count;
        train_point_stats(r, k, &mean, &se, &count);
        mean_se_skip_nan(r->reward_curve + k, r->num_seeds, (size_t)r->num_points, &rate_mean,
                         &rate_se);
        bad = append(&buf, &len, &cap, "%lld", (long long)r->point_steps[k]) ||
              append_value(&buf, &len, &cap, mean) || append_value(&buf, &len, &cap, se) ||
              append_value(&buf, &len, &cap, rate_mean) || append_value(&buf, &len, &cap, rate_se);
        for (int s = 0; !bad && s < r->num_seeds; s++)
            bad = append_value(&buf, &len, &cap, r->curve[(size_t)s * r->num_points + k]);
        for (int s = 0; !bad && s < r->num_seeds; s++)
            bad = append_value(&buf, &len, &cap, r->reward_curve[(size_t)s * r->num_points + k]);
        bad = bad || append(&buf, &len, &cap, "\n");
    }
    if (bad) {
        free(buf);
        lpg_error("out of memory writing the learning curve");
        return NULL;
    }
    return buf;
}

char *train_stats_csv(const TrainResult *r)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    int cols = train_stats_num_columns, bad = !buf || append(&buf, &len, &cap, "steps");
    for (int j = 0; !bad && j < cols; j++)
        bad = append(&buf, &len, &cap, ",%s", train_stats_columns[j]);
    bad = bad || append(&buf, &len, &cap, "\n");
    for (int k = 0; !bad && k < r->num_points; k++) {
        bad = append(&buf, &len, &cap, "%lld", (long long)r->point_steps[k]);
        for (int j = 0; !bad && j < cols; j++) {
            double mean, se;
            mean_se_skip_nan(r->stats + (size_t)k * cols + j, r->num_seeds,
                             (size_t)r->num_points * cols, &mean, &se);
            bad = append(&buf, &len, &cap, ",%.6g", mean);
        }
        bad = bad || append(&buf, &len, &cap, "\n");
    }
    if (bad) {
        free(buf);
        lpg_error("out of memory writing the rule statistics");
        return NULL;
    }
    return buf;
}

static int write_text(char *csv, const char *path)
{
    if (!csv)
        return -1;
    int rc = make_parent_dirs(path);
    if (rc == 0)
        rc = write_file_atomic(path, csv, strlen(csv));
    free(csv);
    return rc;
}

int train_write_csv(const TrainResult *r, const TrainConfig *c, const char *path)
{
    return write_text(train_curve_csv(r, c), path);
}

int train_write_stats_csv(const TrainResult *r, const char *path)
{
    return write_text(train_stats_csv(r), path);
}
