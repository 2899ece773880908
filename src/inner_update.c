/* inner_update.c: the rule's input from a rollout and one SGD or Adam step of the agent on the
 * LPG loss (see inner_update.h). */
#include "inner_update.h"

#include <assert.h>
#include <string.h>

#include "util.h"

const char *const inner_optimizer_names[] = {"sgd", "adam", NULL};

int inner_optimizer_parse(const char *name, InnerOptimizer *optimizer, const char *where)
{
    if (strcmp(name, "sgd") == 0)
        *optimizer = INNER_SGD;
    else if (strcmp(name, "adam") == 0)
        *optimizer = INNER_ADAM;
    else
        return lpg_error("%s: key 'inner_optimizer': expected \"sgd\" or \"adam\", got \"%s\"",
                         where, name);
    return 0;
}

InnerOptimizer inner_optimizer_for(const Agent *agent, InnerOptimizer configured)
{
    return agent->spec.kind == AGENT_TABULAR ? INNER_SGD : configured;
}

/* Adam's per-step constants: the step size over the first bias correction, and 1/√ of the
 * second (bias corrections in double, as in adam.c). */
typedef struct {
    real step_size, inv_sqrt_c2;
} AdamScale;

static AdamScale adam_scale(const InnerAdam *adam, real alpha)
{
    double c1 = 1.0 - pow(INNER_ADAM_BETA1, (double)adam->step);
    double c2 = 1.0 - pow(INNER_ADAM_BETA2, (double)adam->step);
    AdamScale s = {(real)(alpha / c1), (real)(1.0 / sqrt(c2))};
    return s;
}

void inner_adam_step(const InnerAdam *adam, size_t n, real alpha, const real *g, const real *theta,
                     real *theta_next)
{
    assert(adam->step >= 1);
    AdamScale s = adam_scale(adam, alpha);
    const real b1 = (real)INNER_ADAM_BETA1, b2 = (real)INNER_ADAM_BETA2, eps = (real)INNER_ADAM_EPS;
    const real one_minus_b1 = (real)(1.0 - INNER_ADAM_BETA1);
    const real one_minus_b2 = (real)(1.0 - INNER_ADAM_BETA2);
    for (size_t i = 0; i < n; i++) {
        real m = b1 * adam->m[i] + one_minus_b1 * g[i];
        real v = b2 * adam->v[i] + one_minus_b2 * g[i] * g[i];
        adam->m_next[i] = m;
        adam->v_next[i] = v;
        theta_next[i] = theta[i] - s.step_size * m / (real_sqrt(v) * s.inv_sqrt_c2 + eps);
    }
}

void inner_adam_backward(const InnerAdam *adam, size_t n, real alpha, const real *g,
                         const real *lambda_theta, real *lambda_m, real *lambda_v,
                         real *lambda_g)
{
    AdamScale s = adam_scale(adam, alpha);
    const real b1 = (real)INNER_ADAM_BETA1, b2 = (real)INNER_ADAM_BETA2, eps = (real)INNER_ADAM_EPS;
    const real one_minus_b1 = (real)(1.0 - INNER_ADAM_BETA1);
    const real one_minus_b2 = (real)(1.0 - INNER_ADAM_BETA2);
    for (size_t i = 0; i < n; i++) {
        real m = adam->m_next[i], v = adam->v_next[i];
        real root = real_sqrt(v), denom = root * s.inv_sqrt_c2 + eps;
        /* θ' = θ - c m / (√v / √c2 + ε), c = α / c1: the diagonal Jacobians of θ' in m and v. */
        real dtheta_dm = -s.step_size / denom;
        real dtheta_dv = root > 0 ? s.step_size * m / (denom * denom) * s.inv_sqrt_c2 / (2 * root)
                                  : 0;
        real lm = lambda_m[i] + lambda_theta[i] * dtheta_dm;
        real lv = lambda_v[i] + lambda_theta[i] * dtheta_dv;
        lambda_g[i] = one_minus_b1 * lm + 2 * one_minus_b2 * g[i] * lv;
        lambda_m[i] = b1 * lm;
        lambda_v[i] = b2 * lv;
    }
}

/* Writes the raw y logits of the first rows rows of awork->out over awork->y [rows x m]. */
static void raw_y_over_softmax(const Agent *agent, AgentWork *awork, int rows)
{
    size_t m = (size_t)agent->num_y;
    for (int b = 0; b < rows; b++)
        memcpy(awork->y + (size_t)b * m,
               awork->out + (size_t)b * agent->num_outputs + agent->y_offset, m * sizeof(real));
}

void rule_input_at(const Agent *agent, const RuleLayout *layout, AgentWork *awork,
                   const real *theta, const Rollout *r, const real *gamma, const real *value,
                   real *pi_taken, RuleInput *in)
{
    int n = r->n, rows = r->t_len * n, A = agent->num_actions;
    agent_forward(agent, awork, theta, rollout_obs(r, 0), rows + n, awork->out);
    agent_softmax(agent, awork, rows + n);
    for (int b = 0; pi_taken && b < rows; b++)
        pi_taken[b] = awork->pi[(size_t)b * A + r->action[b]];
    memset(in, 0, sizeof *in);
    in->reward = r->reward;
    in->done = r->done;
    in->gamma = gamma;
    in->pi_taken = pi_taken;
    if (layout->method == RULE_LPG_V) {
        in->value = value;
        in->value_next = value + n;
        return;
    }
    if (layout->y_raw)
        raw_y_over_softmax(agent, awork, rows + n);
    in->y = awork->y;
    in->y_next = awork->y + (size_t)n * agent->num_y; /* y' of row b is y of row b + n */
}

LpgLossInput inner_loss_input(const Rollout *r, const RuleWork *rwork, real alpha_y)
{
    LpgLossInput li = {r->action, rwork->pi_hat, rwork->y_raw ? rwork->y_hat : rwork->log_y_hat,
                       alpha_y, (real)1 / ((real)r->t_len * (real)r->n), rwork->y_raw};
    return li;
}

real inner_update(const Agent *agent, AgentWork *awork, RuleWork *rwork, const real *eta,
                  const RuleLayout *layout, const Rollout *rollout, const RuleInput *in,
                  const InnerAdam *adam, real alpha_lr, real alpha_y, const real *theta,
                  real *theta_next, real *grad)
{
    int rows = rollout->t_len * rollout->n;
    AgentObs obs = rollout_obs(rollout, 0);
    rule_forward(rwork, eta, layout, in, rollout->n, rollout->t_len);
    LpgLossInput li = inner_loss_input(rollout, rwork, alpha_y);
    ParamRows touched = agent_touched(agent, awork, obs, rows);
    param_rows_zero(&touched, grad);
    real loss = lpg_loss_backward(agent, awork, theta, obs, rows, &li, grad);
    if (adam) {
        assert(agent->spec.kind != AGENT_TABULAR);
        inner_adam_step(adam, agent->num_params, alpha_lr, grad, theta, theta_next);
        return loss;
    }
    agent_per_state_mean(agent, awork, obs, rows, grad);
    if (theta_next != theta)
        memcpy(theta_next, theta, agent->num_params * sizeof(real));
    param_rows_axpy(&touched, theta_next, -alpha_lr, grad);
    return loss;
}
