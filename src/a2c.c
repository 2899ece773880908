/* a2c.c: advantage actor-critic with n-step or GAE targets and three optimisers (see a2c.h). */
#include "a2c.h"

#include <stdlib.h>
#include <string.h>

#include "buffers.h"
#include "returns.h"
#include "softmax.h"
#include "util.h"

const char *const optimizer_names[] = {"sgd", "rmsprop", "adam", NULL};

int optimizer_parse(const char *name, OptimizerKind *out)
{
    for (int k = 0; k < 3; k++)
        if (strcmp(name, optimizer_names[k]) == 0) {
            *out = (OptimizerKind)k;
            return 0;
        }
    return -1;
}

const char *optimizer_name(OptimizerKind kind)
{
    return (unsigned)kind < 3 ? optimizer_names[kind] : "?";
}

int a2c_init(A2c *a2c, const Agent *agent, int t_len, int n, const A2cParams *params)
{
    memset(a2c, 0, sizeof *a2c);
    if (!agent->has_value)
        return lpg_error("a2c: the agent needs a value head");
    a2c->params = *params;
    a2c->t_len = t_len;
    a2c->n = n;
    a2c->num_params = agent->num_params;
    size_t P = agent->num_params, rows = (size_t)t_len * n;
    BufferSpec table[] = {
        BUFFER(a2c->grad, P),       BUFFER(a2c->mean_square, P), BUFFER(a2c->value, rows),
        BUFFER(a2c->advantage, rows), BUFFER(a2c->targets, rows), BUFFER(a2c->bootstrap, n),
    };
    a2c->mem = buffers_alloc(table, BUFFER_COUNT(table), "A2C buffers");
    if (!a2c->mem)
        return -1;
    if (params->optimizer == OPTIMIZER_ADAM) {
        AdamHyper h = adam_defaults(params->lr);
        h.eps = params->eps;
        h.clip = params->grad_clip;
        if (adam_init(&a2c->adam, P, h)) {
            a2c_free(a2c);
            return -1;
        }
    }
    return 0;
}

void a2c_free(A2c *a2c)
{
    if (a2c->adam.m)
        adam_free(&a2c->adam);
    free(a2c->mem);
    memset(a2c, 0, sizeof *a2c);
}

void a2c_targets(A2c *a2c, const Agent *agent, const Rollout *r, real gamma)
{
    const int T = r->t_len, n = r->n, outs = agent->num_outputs, v = agent->value_offset;
    for (int row = 0; row < T * n; row++)
        a2c->value[row] = r->out[(size_t)row * outs + v];
    for (int i = 0; i < n; i++)
        a2c->bootstrap[i] = r->out[((size_t)T * n + i) * outs + v];
    if (a2c->params.gae_lambda >= 1) {
        returns_discounted(r->reward, r->done, a2c->bootstrap, T, n, gamma, a2c->targets);
        for (int row = 0; row < T * n; row++)
            a2c->advantage[row] = a2c->targets[row] - a2c->value[row];
    } else {
        returns_gae(r->reward, r->done, a2c->value, a2c->bootstrap, T, n, gamma,
                    (real)a2c->params.gae_lambda, a2c->advantage, a2c->targets);
    }
}

/* Loss of one output row; writes its gradient (times scale) to drow. */
static double a2c_row(const Agent *agent, const real *row, int action, real advantage,
                      real target, const A2cParams *params, real scale, real *drow)
{
    const int A = agent->num_actions;
    real lse = softmax_row_lse(row, A, drow); /* drow[0..A) = π */
    real entropy = entropy_row(row, A);
    real error = row[agent->value_offset] - target;
    double loss = -(double)((row[action] - lse) * advantage) - params->entropy_cost * entropy +
                  0.5 * params->value_cost * (double)(error * error);
    /* ∂/∂l of -Â log π(a) is Â (π - e_a). */
    for (int j = 0; j < A; j++)
        drow[j] *= advantage * scale;
    drow[action] -= advantage * scale;
    entropy_row_backward(row, A, (real)(-params->entropy_cost) * scale, drow);
    if (agent->num_y > 0)
        memset(drow + agent->y_offset, 0, (size_t)agent->num_y * sizeof(real));
    drow[agent->value_offset] = (real)params->value_cost * error * scale;
    return loss;
}

real a2c_loss(const Agent *agent, AgentWork *work, const real *theta, AgentObs obs, int batch,
              const int32_t *action, const real *advantage, const real *targets,
              const A2cParams *params, real *dtheta)
{
    const int outs = agent->num_outputs;
    const real scale = (real)1 / (real)batch;
    agent_forward(agent, work, theta, obs, batch, work->out);
    double total = 0;
    for (int b = 0; b < batch; b++)
        total += a2c_row(agent, work->out + (size_t)b * outs, action[b], advantage[b],
                         targets[b], params, scale, work->dout + (size_t)b * outs);
    if (dtheta)
        agent_backward(agent, work, theta, obs, batch, work->dout, dtheta);
    return (real)(total / batch);
}

/* SGD or RMSprop with the gradient scaled by clip_scale (Adam clips inside adam_step). */
static void plain_step(A2c *a2c, real *theta, real clip_scale)
{
    const A2cParams *p = &a2c->params;
    const real lr = (real)p->lr;
    if (p->optimizer == OPTIMIZER_SGD) {
        for (size_t j = 0; j < a2c->num_params; j++)
            theta[j] -= lr * clip_scale * a2c->grad[j];
        return;
    }
    const real decay = (real)p->rmsprop_decay, eps = (real)p->eps;
    for (size_t j = 0; j < a2c->num_params; j++) {
        real g = a2c->grad[j] * clip_scale;
        real ms = decay * a2c->mean_square[j] + (1 - decay) * g * g;
        a2c->mean_square[j] = ms;
        theta[j] -= lr * g / real_sqrt(ms + eps);
    }
}

real a2c_update(A2c *a2c, const Agent *agent, AgentWork *work, real *theta, const Rollout *r,
                real gamma, double *grad_norm)
{
    a2c_targets(a2c, agent, r, gamma);
    memset(a2c->grad, 0, a2c->num_params * sizeof(real));
    real loss = a2c_loss(agent, work, theta, rollout_obs(r, 0), r->t_len * r->n, r->action,
                         a2c->advantage, a2c->targets, &a2c->params, a2c->grad);
    double norm;
    if (a2c->params.optimizer == OPTIMIZER_ADAM) {
        norm = adam_step(&a2c->adam, theta, a2c->grad);
    } else {
        norm = adam_global_norm(a2c->grad, a2c->num_params);
        double clip = a2c->params.grad_clip;
        plain_step(a2c, theta, clip > 0 && norm > clip ? (real)(clip / norm) : (real)1);
    }
    if (grad_norm)
        *grad_norm = norm;
    return loss;
}
