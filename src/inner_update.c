/* inner_update.c: the rule's input from a rollout and one SGD step of the agent on the LPG loss
 * (see inner_update.h). */
#include "inner_update.h"

#include <string.h>

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
                  real alpha_lr, real alpha_y, const real *theta, real *theta_next, real *grad)
{
    int rows = rollout->t_len * rollout->n;
    AgentObs obs = rollout_obs(rollout, 0);
    rule_forward(rwork, eta, layout, in, rollout->n, rollout->t_len);
    LpgLossInput li = inner_loss_input(rollout, rwork, alpha_y);
    ParamRows touched = agent_touched(agent, awork, obs, rows);
    param_rows_zero(&touched, grad);
    real loss = lpg_loss_backward(agent, awork, theta, obs, rows, &li, grad);
    agent_per_state_mean(agent, awork, obs, rows, grad);
    if (theta_next != theta)
        memcpy(theta_next, theta, agent->num_params * sizeof(real));
    param_rows_axpy(&touched, theta_next, -alpha_lr, grad);
    return loss;
}
