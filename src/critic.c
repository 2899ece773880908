/* critic.c: the meta-objective's value function, trained by SGD on λ-returns (see critic.h). */
#include "critic.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "buffers.h"
#include "returns.h"
#include "util.h"

#define CRITIC_BUFFERS 5

/* The value-only network of a critic for env. Returns 0, or -1 after reporting. */
static int critic_net(Agent *net, const EnvSpec *env, int conv_filters, const int *hidden,
                      int num_hidden)
{
    AgentSpec spec;
    if (agent_spec_for_env(&spec, env, conv_filters, hidden, num_hidden, 0, 1))
        return -1;
    spec.num_actions = 0; /* value only */
    return agent_setup(net, &spec);
}

/* The buffer table of a critic with network net for rollouts of t_len x n (pointers into c). */
static void critic_table(BufferSpec table[CRITIC_BUFFERS], Critic *c, const Agent *net, int t_len,
                         int n)
{
    size_t P = net->num_params, rows1 = (size_t)(t_len + 1) * n, rows = (size_t)t_len * n;
    BufferSpec t[CRITIC_BUFFERS] = {
        BUFFER(c->params, P), BUFFER(c->grad, P), BUFFER(c->value, rows1), BUFFER(c->target, rows),
        BUFFER(c->visits, net->spec.kind == AGENT_TABULAR ? net->spec.num_states : 0),
    };
    memcpy(table, t, sizeof t);
}

size_t critic_bytes(const EnvSpec *env, int conv_filters, const int *hidden, int num_hidden,
                    int t_len, int n)
{
    Critic c;
    if (critic_net(&c.net, env, conv_filters, hidden, num_hidden))
        return 0;
    BufferSpec table[CRITIC_BUFFERS];
    critic_table(table, &c, &c.net, t_len, n);
    return buffers_size(table, CRITIC_BUFFERS) + agent_work_bytes(&c.net, (t_len + 1) * n);
}

int critic_init(Critic *c, const EnvSpec *env, int conv_filters, const int *hidden,
                int num_hidden, int t_len, int n, Rng *rng)
{
    memset(c, 0, sizeof *c);
    if (t_len < 1 || n < 1)
        return lpg_error("critic: rollouts need t_len >= 1 and n >= 1 (got %d x %d)", t_len, n);
    if (critic_net(&c->net, env, conv_filters, hidden, num_hidden) ||
        agent_work_init(&c->work, &c->net, (t_len + 1) * n))
        return -1;
    c->t_len = t_len;
    c->n = n;
    BufferSpec table[CRITIC_BUFFERS];
    critic_table(table, c, &c->net, t_len, n);
    c->mem = buffers_alloc(table, CRITIC_BUFFERS, "critic");
    if (!c->mem) {
        critic_free(c);
        return -1;
    }
    agent_init_params(&c->net, c->params, rng);
    return 0;
}

void critic_free(Critic *c)
{
    agent_work_free(&c->work);
    free(c->mem);
    memset(c, 0, sizeof *c);
}

/* V at params for all (t_len+1)*n rows of r, into c->value (one output per row). */
static void critic_forward(Critic *c, const real *params, const Rollout *r)
{
    assert(r->t_len == c->t_len && r->n == c->n);
    agent_forward(&c->net, &c->work, params, rollout_obs(r, 0), (c->t_len + 1) * c->n, c->value);
}

/* The loss of c->value against target over the first t_len*n rows and, when grad is not NULL,
 * its gradient at params (the last critic_forward must have been at params). */
static double loss_and_gradient(Critic *c, const real *params, const Rollout *r,
                                const real *target, real *grad)
{
    int rows = c->t_len * c->n, rows1 = rows + c->n;
    real scale = (real)1 / (real)rows;
    real *dout = c->work.dout; /* [rows1 x 1]; the bootstrap rows get no gradient */
    double total = 0;
    for (int b = 0; b < rows; b++) {
        real diff = c->value[b] - target[b];
        total += 0.5 * (double)diff * (double)diff;
        dout[b] = diff * scale;
    }
    memset(dout + rows, 0, (size_t)c->n * sizeof(real));
    if (grad) {
        memset(grad, 0, c->net.num_params * sizeof(real));
        agent_backward(&c->net, &c->work, params, rollout_obs(r, 0), rows1, dout, grad);
    }
    return total / rows;
}

double critic_loss(Critic *c, const real *params, const Rollout *r, const real *target,
                   real *grad)
{
    critic_forward(c, params, r);
    return loss_and_gradient(c, params, r, target, grad);
}

/* Tabular: rescales each visited state's gradient from the batch mean to the mean over that
 * state's own visits, so a step of lr moves V(s) the fraction lr of the way to the mean target
 * of s. Stable for any lr in (0, 1], however often s was visited. */
static void per_state_mean(Critic *c, const Rollout *r)
{
    int rows = c->t_len * c->n;
    for (int b = 0; b < rows; b++)
        c->visits[r->obs_index[b]] = 0;
    for (int b = 0; b < rows; b++)
        c->visits[r->obs_index[b]]++;
    for (int b = 0; b < rows; b++) {
        int32_t s = r->obs_index[b];
        if (c->visits[s] > 0) {
            c->grad[s] *= (real)rows / (real)c->visits[s];
            c->visits[s] = -1; /* rescaled once */
        }
    }
}

double critic_update(Critic *c, const Rollout *r, real gamma, real lambda, real lr,
                     real *advantage)
{
    int rows = c->t_len * c->n;
    critic_forward(c, c->params, r);
    returns_gae(r->reward, r->done, c->value, c->value + rows, c->t_len, c->n, gamma, lambda,
                advantage, c->target);
    double loss = loss_and_gradient(c, c->params, r, c->target, c->grad);
    if (c->visits)
        per_state_mean(c, r);
    for (size_t j = 0; j < c->net.num_params; j++)
        c->params[j] -= lr * c->grad[j];
    return loss;
}
