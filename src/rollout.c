/* rollout.c: acting in a batch of environment copies and recording what the learners need. */
#include "rollout.h"

#include <stdlib.h>
#include <string.h>

#include "buffers.h"
#include "util.h"

#define ROLLOUT_BUFFERS 7

/* The buffer table of a rollout of t_len x n (pointers into r). */
static void rollout_table(BufferSpec table[ROLLOUT_BUFFERS], Rollout *r, const EnvSpec *spec,
                          const Agent *agent, int t_len, int n)
{
    size_t rows = (size_t)t_len * n, rows1 = (size_t)(t_len + 1) * n;
    BufferSpec t[ROLLOUT_BUFFERS] = {
        BUFFER(r->obs, spec->obs_dim > 0 ? rows1 * (size_t)spec->obs_dim : 0),
        BUFFER(r->reward, rows),
        BUFFER(r->pi_taken, rows),
        BUFFER(r->out, rows1 * (size_t)agent->num_outputs),
        BUFFER(r->obs_index, spec->num_states > 0 ? rows1 : 0),
        BUFFER(r->action, rows),
        BUFFER(r->done, rows),
    };
    memcpy(table, t, sizeof t);
}

size_t rollout_bytes(const EnvSpec *spec, const Agent *agent, int t_len, int n)
{
    Rollout r;
    BufferSpec table[ROLLOUT_BUFFERS];
    rollout_table(table, &r, spec, agent, t_len, n);
    return buffers_size(table, ROLLOUT_BUFFERS);
}

int rollout_init(Rollout *r, const EnvSpec *spec, const Agent *agent, int t_len, int n)
{
    memset(r, 0, sizeof *r);
    r->t_len = t_len;
    r->n = n;
    r->obs_dim = spec->obs_dim;
    r->num_outputs = agent->num_outputs;
    BufferSpec table[ROLLOUT_BUFFERS];
    rollout_table(table, r, spec, agent, t_len, n);
    r->mem = buffers_alloc(table, ROLLOUT_BUFFERS, "rollout buffers");
    if (!r->mem)
        return -1;
    return 0;
}

void rollout_free(Rollout *r)
{
    free(r->mem);
    memset(r, 0, sizeof *r);
}

AgentObs rollout_obs(const Rollout *r, int first_row)
{
    AgentObs obs = {NULL, NULL};
    if (r->obs_index)
        obs.index = r->obs_index + first_row;
    if (r->obs)
        obs.x = r->obs + (size_t)first_row * r->obs_dim;
    return obs;
}

int sample_softmax(const real *logits, int n, Rng *rng, real *p)
{
    real max = logits[0];
    for (int j = 1; j < n; j++)
        if (logits[j] > max)
            max = logits[j];
    double total = 0;
    for (int j = 0; j < n; j++)
        total += real_exp(logits[j] - max);
    double u = rng_uniform_double(rng) * total;
    int j = 0;
    real e = real_exp(logits[0] - max);
    while (j < n - 1) {
        u -= e;
        if (u < 0)
            break;
        e = real_exp(logits[++j] - max);
    }
    if (p)
        *p = (real)(e / total);
    return j;
}

/* Copies the environment's current observations into row block t. */
static void record_obs(Rollout *r, const EnvBatch *env, int t)
{
    size_t row = (size_t)t * r->n;
    if (r->obs_index)
        memcpy(r->obs_index + row, env->obs_index, (size_t)r->n * sizeof(int32_t));
    if (r->obs)
        memcpy(r->obs + row * r->obs_dim, env->obs, (size_t)r->n * r->obs_dim * sizeof(real));
}

void rollout_collect(Rollout *r, EnvBatch *env, const Agent *agent, AgentWork *work,
                     const real *theta, Rng *rng)
{
    const int n = r->n, outs = r->num_outputs, A = agent->num_actions;
    for (int t = 0; t <= r->t_len; t++) {
        record_obs(r, env, t);
        real *out = r->out + (size_t)t * n * outs;
        agent_forward(agent, work, theta, rollout_obs(r, t * n), n, out);
        if (t == r->t_len)
            break;
        int32_t *action = r->action + (size_t)t * n;
        real *pi_taken = r->pi_taken + (size_t)t * n;
        for (int i = 0; i < n; i++) {
            const real *logits = out + (size_t)i * outs;
            action[i] = sample_softmax(logits, A, rng, &pi_taken[i]);
        }
        env_batch_step(env, action);
        memcpy(r->reward + (size_t)t * n, env->reward, (size_t)n * sizeof(real));
        memcpy(r->done + (size_t)t * n, env->done, (size_t)n);
    }
}
