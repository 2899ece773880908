/* level_a2c.c: A2C's return on one level, the reference of a level's regret (level_a2c.h). */
#include "level_a2c.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "a2c.h"
#include "agent.h"
#include "linalg.h"
#include "rollout.h"
#include "util.h"

int level_a2c_load(TrainConfig *a2c, const char *path, const char *key, const char *where)
{
    if (!path[0])
        return lpg_error("%s: key '%s': level_sampler \"regret\" needs a tuned A2C config for "
                         "this kind of procedural environment (e.g. configs/a2c/)", where, key);
    if (train_config_load(a2c, path, 0, NULL))
        return -1;
    if (a2c->method_kind != TRAIN_A2C)
        return lpg_error("%s: key '%s': %s has method \"%s\", not \"a2c\"", where, key, path,
                         train_method_names[a2c->method]);
    return 0;
}

/* What one A2C run holds; zeroed, then filled by a2c_run_init and freed by a2c_run_free. */
typedef struct {
    EnvSpec layout;
    Agent agent;
    AgentWork work;
    EnvBatch env;
    Rollout rollout;
    A2c a2c;
    Rng rng;
    real *theta;
} A2cRun;

static void a2c_run_free(A2cRun *r)
{
    a2c_free(&r->a2c);
    rollout_free(&r->rollout);
    env_batch_free(&r->env);
    agent_work_free(&r->work);
    free(r->theta);
}

/* The layout, a fresh agent with a value head and its learner; the environment's seed first,
 * then θ_0, all from the level's own stream. */
static int a2c_run_init(A2cRun *r, const TrainConfig *c, const EnvSpec *family, uint64_t level,
                        int copies, int unroll)
{
    env_draw_layout(family, level, &r->layout);
    rng_seed(&r->rng, level, RNG_STREAM_LEVEL_A2C);
    uint64_t env_seed = ((uint64_t)rng_u32(&r->rng) << 32) | rng_u32(&r->rng);
    AgentSpec as;
    if (agent_spec_for_env(&as, &r->layout, c->conv_filters, c->mlp_hidden.item,
                           c->mlp_hidden.count, 0, 1))
        return -1;
    as.tabular_init_std = c->tabular_init_std;
    if (agent_setup(&r->agent, &as) ||
        agent_work_init(&r->work, &r->agent, (unroll + 1) * copies) ||
        env_batch_init(&r->env, &r->layout, copies, env_seed) ||
        rollout_init(&r->rollout, &r->layout, &r->agent, unroll, copies))
        return -1;
    r->theta = lpg_calloc(r->agent.num_params, sizeof(real), "A2C parameters");
    if (!r->theta)
        return -1;
    agent_init_params(&r->agent, r->theta, &r->rng);
    return a2c_init(&r->a2c, &r->agent, unroll, copies, &c->a2c);
}

/* The mean return of the episodes ended since (episodes, sum), or of those in progress. */
static double return_since(const EnvBatch *env, int64_t episodes, double sum)
{
    if (env->episodes_done > episodes)
        return (env->returns_done_sum - sum) / (double)(env->episodes_done - episodes);
    double running = 0;
    for (int i = 0; i < env->n; i++)
        running += env->running_return[i];
    return running / env->n;
}

int level_a2c_return(const TrainConfig *a2c, const EnvSpec *family, uint64_t level, int copies,
                     int unroll, int updates, double *out)
{
    A2cRun r;
    memset(&r, 0, sizeof r);
    *out = NAN;
    if (a2c_run_init(&r, a2c, family, level, copies, unroll)) {
        a2c_run_free(&r);
        return -1;
    }
    real gamma = (real)r.layout.gamma;
    int final_from = updates - updates / 5; /* the last fifth, as lifetime_collect counts it */
    int64_t episodes = 0;
    double sum = 0;
    int finite = 1;
    for (int u = 0; u < updates && finite; u++) {
        if (u == final_from)
            episodes = r.env.episodes_done, sum = r.env.returns_done_sum;
        rollout_collect(&r.rollout, &r.env, &r.agent, &r.work, r.theta, &r.rng);
        real loss = a2c_update(&r.a2c, &r.agent, &r.work, r.theta, &r.rollout, gamma, NULL);
        finite = isfinite(loss) && all_finite(r.theta, r.agent.num_params);
    }
    if (finite)
        *out = return_since(&r.env, episodes, sum);
    a2c_run_free(&r);
    return 0;
}
