/* agent_loss.c: the LPG loss of Eq. 2 per sample and per batch, its gradient, its Hessian-vector
 * product (closed-form softmax Hessians at the outputs, Pearlmutter's R-operator through the
 * agent) and the mixed derivatives the meta-gradient needs. Formulas in agent_loss.h. */
#include "agent_loss.h"

#include <stddef.h>
#include <string.h>

/* ---- rows of outputs ------------------------------------------------------------------ */

OutputRow output_row(const Agent *agent, const AgentWork *work, int b)
{
    int A = agent->num_actions, m = agent->num_y;
    const real *row = work->out + (size_t)b * agent->num_outputs;
    OutputRow o = {row, work->pi + (size_t)b * A, work->lse_pi[b], NULL, NULL, 0};
    if (m > 0) {
        o.u = row + agent->y_offset;
        o.q = work->y + (size_t)b * m;
        o.lse_y = work->lse_y[b];
    }
    return o;
}

/* ---- one sample ----------------------------------------------------------------------- */

/* -pi_hat log π(action); writes dlogits = pi_hat (π - e_action). */
static real policy_term(const OutputRow *o, int num_actions, int action, real pi_hat,
                        real *dlogits)
{
    for (int j = 0; j < num_actions; j++)
        dlogits[j] = o->pi[j] * pi_hat;
    dlogits[action] -= pi_hat;
    return -pi_hat * (o->logits[action] - o->lse_pi);
}

/* r_j = log q_j - log ŷ_j into r [n]; returns KL(q || ŷ) = Σ_j q_j r_j. */
static real log_ratio(const OutputRow *o, const real *log_y_hat, int n, real *r)
{
    real kl = 0;
    for (int j = 0; j < n; j++) {
        r[j] = o->u[j] - o->lse_y - log_y_hat[j];
        kl += o->q[j] * r[j];
    }
    return kl;
}

/* alpha_y KL(q || ŷ); writes du = alpha_y q ⊙ (log q - log ŷ - KL). */
static real prediction_term(const OutputRow *o, const real *log_y_hat, int n, real alpha_y,
                            real *du)
{
    real kl = log_ratio(o, log_y_hat, n, du); /* du holds r meanwhile */
    for (int j = 0; j < n; j++)
        du[j] = o->q[j] * (alpha_y * (du[j] - kl));
    return alpha_y * kl;
}

real lpg_loss_sample(const OutputRow *o, int num_actions, int action, real pi_hat,
                     const real *log_y_hat, int num_y, real alpha_y, real *dlogits,
                     real *dy_logits)
{
    real loss = policy_term(o, num_actions, action, pi_hat, dlogits);
    if (num_y > 0)
        loss += prediction_term(o, log_y_hat, num_y, alpha_y, dy_logits);
    return loss;
}

/* Σ_j p_j v_j over j < n. */
static real dot_row(const real *p, const real *v, int n)
{
    real dot = 0;
    for (int j = 0; j < n; j++)
        dot += p[j] * v[j];
    return dot;
}

/* h = alpha_y q ⊙ [(δu - q·δu) ⊙ (r - KL + 1) - δKL], r = log q - log ŷ, δKL = Σ q (r - KL) δu. */
static void prediction_hvp(const OutputRow *o, const real *du, const real *log_y_hat, int n,
                           real alpha_y, real *h)
{
    real kl = log_ratio(o, log_y_hat, n, h); /* h holds r until the last loop */
    real q_du = dot_row(o->q, du, n), dkl = 0;
    for (int j = 0; j < n; j++)
        dkl += o->q[j] * (h[j] - kl) * du[j];
    for (int j = 0; j < n; j++)
        h[j] = o->q[j] * (alpha_y * ((du[j] - q_du) * (h[j] - kl + 1) - dkl));
}

void lpg_loss_sample_hvp(const OutputRow *o, const real *logits_tangent,
                         const real *y_logits_tangent, int num_actions, real pi_hat,
                         const real *log_y_hat, int num_y, real alpha_y, real *h_logits,
                         real *h_y_logits)
{
    real pi_dl = dot_row(o->pi, logits_tangent, num_actions);
    for (int j = 0; j < num_actions; j++)
        h_logits[j] = o->pi[j] * (logits_tangent[j] - pi_dl) * pi_hat;
    if (num_y > 0)
        prediction_hvp(o, y_logits_tangent, log_y_hat, num_y, alpha_y, h_y_logits);
}

real lpg_loss_sample_mixed(const OutputRow *o, const real *logits_tangent,
                           const real *y_logits_tangent, int num_actions, int action, int num_y,
                           real alpha_y, real scale, real *dlog_y_hat)
{
    real pi_dl = dot_row(o->pi, logits_tangent, num_actions);
    if (num_y > 0) {
        real q_du = dot_row(o->q, y_logits_tangent, num_y), c = -scale * alpha_y;
        for (int j = 0; j < num_y; j++)
            dlog_y_hat[j] += c * o->q[j] * (y_logits_tangent[j] - q_du);
    }
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

real lpg_loss_batch(const Agent *agent, const LpgLossInput *in, const AgentWork *work, int batch,
                    real *dout)
{
    int n = agent->num_outputs, y0 = agent->y_offset;
    real total = 0;
    for (int b = 0; b < batch; b++) {
        real *drow = dout + (size_t)b * n;
        OutputRow o = output_row(agent, work, b);
        total += lpg_loss_sample(&o, agent->num_actions, in->action[b], in->pi_hat[b],
                                 log_y_hat_row(agent, in, b), softmax_y_count(agent, in),
                                 in->alpha_y, drow, drow + y0);
        if (in->y_raw && agent->num_y > 0)
            total += prediction_term_raw(o.u, log_y_hat_row(agent, in, b), agent->num_y,
                                         in->alpha_y, drow + y0);
        if (agent->has_value)
            drow[agent->value_offset] = 0;
        scale_row(drow, n, in->scale);
    }
    return in->scale * total;
}

/* Writes h_out [batch x num_outputs] = ∇²_out (scale * Σ_b L_b) · work->out_tangent. */
static void lpg_loss_batch_hvp(const Agent *agent, const LpgLossInput *in, const AgentWork *work,
                               int batch, real *h_out)
{
    int n = agent->num_outputs, y0 = agent->y_offset;
    for (int b = 0; b < batch; b++) {
        const real *trow = work->out_tangent + (size_t)b * n;
        real *hrow = h_out + (size_t)b * n;
        OutputRow o = output_row(agent, work, b);
        lpg_loss_sample_hvp(&o, trow, trow + y0, agent->num_actions, in->pi_hat[b],
                            log_y_hat_row(agent, in, b), softmax_y_count(agent, in), in->alpha_y,
                            hrow, hrow + y0);
        for (int j = 0; in->y_raw && j < agent->num_y; j++)
            hrow[y0 + j] = in->alpha_y / (real)agent->num_y * trow[y0 + j];
        if (agent->has_value)
            hrow[agent->value_offset] = 0;
        scale_row(hrow, n, in->scale);
    }
}

void lpg_loss_batch_mixed(const Agent *agent, const LpgLossInput *in, const AgentWork *work,
                          int batch, real *dpi_hat, real *dlog_y_hat)
{
    int n = agent->num_outputs, y0 = agent->y_offset, m = agent->num_y;
    for (int b = 0; b < batch; b++) {
        const real *trow = work->out_tangent + (size_t)b * n;
        real *dy = m > 0 ? dlog_y_hat + (size_t)b * m : NULL;
        OutputRow o = output_row(agent, work, b);
        dpi_hat[b] += lpg_loss_sample_mixed(&o, trow, trow + y0, agent->num_actions,
                                            in->action[b], softmax_y_count(agent, in),
                                            in->alpha_y, in->scale, dy);
        for (int j = 0; in->y_raw && j < m; j++)
            dy[j] -= in->scale * in->alpha_y / (real)m * trow[y0 + j];
    }
}

/* ---- through the agent network -------------------------------------------------------- */

real lpg_loss_backward(const Agent *agent, AgentWork *work, const real *theta, AgentObs obs,
                       int batch, const LpgLossInput *in, real *dtheta)
{
    real loss = lpg_loss_batch(agent, in, work, batch, work->dout);
    agent_backward(agent, work, theta, obs, batch, work->dout, dtheta);
    return loss;
}

real lpg_loss_gradient(const Agent *agent, AgentWork *work, const real *theta, AgentObs obs,
                       int batch, const LpgLossInput *in, real *dtheta)
{
    agent_forward(agent, work, theta, obs, batch, work->out);
    agent_softmax(agent, work, batch);
    return lpg_loss_backward(agent, work, theta, obs, batch, in, dtheta);
}

/* H v into hv after work->out holds the outputs at theta with their softmaxes (and work->dout
 * their loss gradient for an MLP). */
static void hvp_from_outputs(const Agent *agent, AgentWork *work, const real *theta, AgentObs obs,
                             int batch, const LpgLossInput *in, const real *v, real *hv)
{
    agent_forward_tangent(agent, work, theta, v, obs, batch, work->out_tangent);
    lpg_loss_batch_hvp(agent, in, work, batch, work->dout_tangent);
    agent_backward_tangent(agent, work, theta, v, obs, batch, work->dout, work->dout_tangent, hv);
}

real lpg_loss_hvp(const Agent *agent, AgentWork *work, const real *theta, AgentObs obs,
                  int batch, const LpgLossInput *in, const real *v, real *hv)
{
    agent_forward(agent, work, theta, obs, batch, work->out);
    agent_softmax(agent, work, batch);
    real loss = lpg_loss_batch(agent, in, work, batch, work->dout);
    hvp_from_outputs(agent, work, theta, obs, batch, in, v, hv);
    return loss;
}

void lpg_loss_hvp_after_forward(const Agent *agent, AgentWork *work, const real *theta,
                                AgentObs obs, int batch, const LpgLossInput *in, const real *v,
                                real *hv)
{
    if (agent->spec.kind != AGENT_TABULAR)
        (void)lpg_loss_batch(agent, in, work, batch, work->dout);
    hvp_from_outputs(agent, work, theta, obs, batch, in, v, hv);
}
