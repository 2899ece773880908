/* inner_update.c: the rule's input from a rollout and one SGD step of the agent on the LPG loss
 * (see inner_update.h). */
#include "inner_update.h"

#include <string.h>

#include "softmax.h"

/* The rule's y input of one row from the agent's y logits: their softmax, or (y_raw) a copy. */
static void y_input_row(const real *logits, int m, int y_raw, real *out)
{
    if (y_raw)
        memcpy(out, logits, (size_t)m * sizeof(real));
    else
        softmax_row(logits, m, out);
}

void rule_input_from_rollout(const Agent *agent, const RuleLayout *layout, const Rollout *r,
                             const real *gamma, real *y, real *y_next, const real *value,
                             RuleInput *in)
{
    size_t rows = (size_t)r->t_len * r->n, m = (size_t)agent->num_y;
    int outs = agent->num_outputs, raw = layout->y_raw;
    size_t n = (size_t)r->n;
    memset(in, 0, sizeof *in);
    in->reward = r->reward;
    in->done = r->done;
    in->gamma = gamma;
    in->pi_taken = r->pi_taken;
    if (layout->method == RULE_LPG_V) {
        in->value = value;
        in->value_next = value + n;
        return;
    }
    for (size_t row = 0; row < rows; row++)
        y_input_row(r->out + row * outs + agent->y_offset, (int)m, raw, y + row * m);
    /* y' of row b is y of row b + n; only the last step's y' reads the bootstrap rows.
     * softmax_row gives an entry the same value wherever it is computed. */
    memcpy(y_next, y + n * m, (rows - n) * m * sizeof(real));
    for (size_t row = rows - n; row < rows; row++)
        y_input_row(r->out + (row + n) * outs + agent->y_offset, (int)m, raw, y_next + row * m);
    in->y = y;
    in->y_next = y_next;
}

LpgLossInput inner_loss_input(const Rollout *r, const RuleWork *rwork, real alpha_y)
{
    LpgLossInput li = {r->action, rwork->pi_hat, rwork->y_raw ? rwork->y_hat : rwork->log_y_hat,
                       alpha_y, (real)1 / ((real)r->t_len * (real)r->n), rwork->y_raw};
    return li;
}

real inner_update(const Agent *agent, AgentWork *awork, RuleWork *rwork, const real *eta,
                  const RuleLayout *layout, const Rollout *rollout, const RuleInput *in,
                  real alpha_lr, real alpha_y, const real *theta, real *theta_next, real *grad)
{
    int rows = rollout->t_len * rollout->n;
    rule_forward(rwork, eta, layout, in, rollout->n, rollout->t_len);
    LpgLossInput li = inner_loss_input(rollout, rwork, alpha_y);
    memset(grad, 0, agent->num_params * sizeof(real));
    real loss = lpg_loss_gradient(agent, awork, theta, rollout_obs(rollout, 0), rows, &li, grad);
    agent_per_state_mean(agent, awork, rollout_obs(rollout, 0), rows, grad);
    for (size_t j = 0; j < agent->num_params; j++)
        theta_next[j] = theta[j] - alpha_lr * grad[j];
    return loss;
}
