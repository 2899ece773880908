/* agent_loss.c: the LPG loss of Eq. 2 per sample and per batch, its gradient, its Hessian-vector
 * product (closed-form softmax Hessians at the outputs, Pearlmutter's R-operator through the
 * agent) and the mixed derivatives the meta-gradient needs. Formulas in agent_loss.h. */
#include "agent_loss.h"

#include <stddef.h>
#include <string.h>

#include "softmax.h"

/* ---- one sample ----------------------------------------------------------------------- */

/* -pi_hat log π(action); writes dlogits = pi_hat (π - e_action). */
static real policy_term(const real *logits, int num_actions, int action, real pi_hat,
                        real *dlogits)
{
    real lse = softmax_row_lse(logits, num_actions, dlogits);
    for (int j = 0; j < num_actions; j++)
        dlogits[j] *= pi_hat;
    dlogits[action] -= pi_hat;
    return -pi_hat * (logits[action] - lse);
}

/* KL(q || ŷ) = Σ_j q_j (log q_j - log ŷ_j) for q = softmax(u) given as q and lse = log Σ exp(u). */
static real kl_of(const real *u, const real *q, const real *log_y_hat, int n, real lse)
{
    real kl = 0;
    for (int j = 0; j < n; j++)
        kl += q[j] * (u[j] - lse - log_y_hat[j]);
    return kl;
}

/* alpha_y KL(q || ŷ); writes du = alpha_y q ⊙ (log q - log ŷ - KL). */
static real prediction_term(const real *u, const real *log_y_hat, int n, real alpha_y, real *du)
{
    real lse = softmax_row_lse(u, n, du);
    real kl = kl_of(u, du, log_y_hat, n, lse);
    for (int j = 0; j < n; j++)
        du[j] *= alpha_y * (u[j] - lse - log_y_hat[j] - kl);
    return alpha_y * kl;
}

real lpg_loss_sample(const real *logits, int num_actions, int action, real pi_hat,
                     const real *y_logits, const real *log_y_hat, int num_y, real alpha_y,
                     real *dlogits, real *dy_logits)
{
    real loss = policy_term(logits, num_actions, action, pi_hat, dlogits);
    if (num_y > 0)
        loss += prediction_term(y_logits, log_y_hat, num_y, alpha_y, dy_logits);
    return loss;
}

/* h = alpha_y q ⊙ [(δu - q·δu) ⊙ (r - KL + 1) - δKL], r = log q - log ŷ, δKL = Σ q (r - KL) δu. */
static void prediction_hvp(const real *u, const real *du, const real *log_y_hat, int n,
                           real alpha_y, real *h)
{
    real lse = softmax_row_lse(u, n, h); /* h holds q until the last loop */
    real kl = kl_of(u, h, log_y_hat, n, lse);
    real q_du = 0, dkl = 0;
    for (int j = 0; j < n; j++) {
        q_du += h[j] * du[j];
        dkl += h[j] * (u[j] - lse - log_y_hat[j] - kl) * du[j];
    }
    for (int j = 0; j < n; j++)
        h[j] *= alpha_y * ((du[j] - q_du) * (u[j] - lse - log_y_hat[j] - kl + 1) - dkl);
}

void lpg_loss_sample_hvp(const real *logits, const real *logits_tangent, int num_actions,
                         real pi_hat, const real *y_logits, const real *y_logits_tangent,
                         const real *log_y_hat, int num_y, real alpha_y, real *h_logits,
                         real *h_y_logits)
{
    softmax_row_tangent(logits, logits_tangent, num_actions, h_logits);
    for (int j = 0; j < num_actions; j++)
        h_logits[j] *= pi_hat;
    if (num_y > 0)
        prediction_hvp(y_logits, y_logits_tangent, log_y_hat, num_y, alpha_y, h_y_logits);
}

real lpg_loss_sample_mixed(const real *logits, const real *logits_tangent, int num_actions,
                           int action, const real *y_logits, const real *y_logits_tangent,
                           int num_y, real alpha_y, real scale, real *dlog_y_hat)
{
    real pi_dl = softmax_row_dot(logits, logits_tangent, num_actions);
    if (num_y > 0)
        softmax_row_tangent_add(y_logits, y_logits_tangent, num_y, -scale * alpha_y, dlog_y_hat);
    return scale * (pi_dl - logits_tangent[action]);
}

/* The y_raw prediction term (α_y / 2n) ‖u - ŷ‖²; writes du = (α_y / n) (u - ŷ). */
static real prediction_term_raw(const real *u, const real *y_hat, int n, real alpha_y, real *du)
{
    real sum = 0, k = alpha_y / (real)n;
    for (int j = 0; j < n; j++) {
        real diff = u[j] - y_hat[j];
        sum += diff * diff;
        du[j] = k * diff;
    }
    return (real)0.5 * k * sum;
}

/* ---- a batch of agent outputs --------------------------------------------------------- */

/* The y outputs the softmax-form sample functions see: none for a y_raw loss (its y term is
 * done apart). */
static int softmax_y_count(const Agent *agent, const LpgLossInput *in)
{
    return in->y_raw ? 0 : agent->num_y;
}

/* The rule's log ŷ for row b, or NULL when the agent has no y. */
static const real *log_y_hat_row(const Agent *agent, const LpgLossInput *in, int b)
{
    return agent->num_y > 0 ? in->log_y_hat + (size_t)b * agent->num_y : NULL;
}

static void scale_row(real *x, int n, real scale)
{
    for (int j = 0; j < n; j++)
        x[j] *= scale;
}

real lpg_loss_batch(const Agent *agent, const LpgLossInput *in, const real *out, int batch,
                    real *dout)
{
    int n = agent->num_outputs, y0 = agent->y_offset;
    real total = 0;
    for (int b = 0; b < batch; b++) {
        const real *row = out + (size_t)b * n;
        real *drow = dout + (size_t)b * n;
        total += lpg_loss_sample(row, agent->num_actions, in->action[b], in->pi_hat[b], row + y0,
                                 log_y_hat_row(agent, in, b), softmax_y_count(agent, in),
                                 in->alpha_y, drow, drow + y0);
        if (in->y_raw && agent->num_y > 0)
            total += prediction_term_raw(row + y0, log_y_hat_row(agent, in, b), agent->num_y,
                                         in->alpha_y, drow + y0);
        if (agent->has_value)
            drow[agent->value_offset] = 0;
        scale_row(drow, n, in->scale);
    }
    return in->scale * total;
}

void lpg_loss_batch_hvp(const Agent *agent, const LpgLossInput *in, const real *out,
                        const real *out_tangent, int batch, real *h_out)
{
    int n = agent->num_outputs, y0 = agent->y_offset;
    for (int b = 0; b < batch; b++) {
        const real *row = out + (size_t)b * n, *trow = out_tangent + (size_t)b * n;
        real *hrow = h_out + (size_t)b * n;
        lpg_loss_sample_hvp(row, trow, agent->num_actions, in->pi_hat[b], row + y0, trow + y0,
                            log_y_hat_row(agent, in, b), softmax_y_count(agent, in), in->alpha_y,
                            hrow, hrow + y0);
        for (int j = 0; in->y_raw && j < agent->num_y; j++)
            hrow[y0 + j] = in->alpha_y / (real)agent->num_y * trow[y0 + j];
        if (agent->has_value)
            hrow[agent->value_offset] = 0;
        scale_row(hrow, n, in->scale);
    }
}

void lpg_loss_batch_mixed(const Agent *agent, const LpgLossInput *in, const real *out,
                          const real *out_tangent, int batch, real *dpi_hat, real *dlog_y_hat)
{
    int n = agent->num_outputs, y0 = agent->y_offset, m = agent->num_y;
    for (int b = 0; b < batch; b++) {
        const real *row = out + (size_t)b * n, *trow = out_tangent + (size_t)b * n;
        real *dy = m > 0 ? dlog_y_hat + (size_t)b * m : NULL;
        dpi_hat[b] += lpg_loss_sample_mixed(row, trow, agent->num_actions, in->action[b],
                                            row + y0, trow + y0, softmax_y_count(agent, in),
                                            in->alpha_y, in->scale, dy);
        for (int j = 0; in->y_raw && j < m; j++)
            dy[j] -= in->scale * in->alpha_y / (real)m * trow[y0 + j];
    }
}

/* ---- through the agent network -------------------------------------------------------- */

real lpg_loss_gradient(const Agent *agent, AgentWork *work, const real *theta, AgentObs obs,
                       int batch, const LpgLossInput *in, real *dtheta)
{
    agent_forward(agent, work, theta, obs, batch, work->out);
    real loss = lpg_loss_batch(agent, in, work->out, batch, work->dout);
    agent_backward(agent, work, theta, obs, batch, work->dout, dtheta);
    return loss;
}

/* H v into hv after work->out holds the outputs at theta (and work->dout their loss gradient
 * for an MLP). */
static void hvp_from_outputs(const Agent *agent, AgentWork *work, const real *theta, AgentObs obs,
                             int batch, const LpgLossInput *in, const real *v, real *hv)
{
    agent_forward_tangent(agent, work, theta, v, obs, batch, work->out_tangent);
    lpg_loss_batch_hvp(agent, in, work->out, work->out_tangent, batch, work->dout_tangent);
    agent_backward_tangent(agent, work, theta, v, obs, batch, work->dout, work->dout_tangent, hv);
}

real lpg_loss_hvp(const Agent *agent, AgentWork *work, const real *theta, AgentObs obs,
                  int batch, const LpgLossInput *in, const real *v, real *hv)
{
    agent_forward(agent, work, theta, obs, batch, work->out);
    real loss = lpg_loss_batch(agent, in, work->out, batch, work->dout);
    hvp_from_outputs(agent, work, theta, obs, batch, in, v, hv);
    return loss;
}

void lpg_loss_hvp_only(const Agent *agent, AgentWork *work, const real *theta, AgentObs obs,
                       int batch, const LpgLossInput *in, const real *v, real *hv)
{
    agent_forward(agent, work, theta, obs, batch, work->out);
    if (agent->spec.kind != AGENT_TABULAR)
        (void)lpg_loss_batch(agent, in, work->out, batch, work->dout);
    hvp_from_outputs(agent, work, theta, obs, batch, in, v, hv);
}
