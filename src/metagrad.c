/* metagrad.c: one window of K inner updates and its exact meta-gradient (see metagrad.h). */
#include "metagrad.h"

#include <stdlib.h>
#include <string.h>

#include "softmax.h"
#include "util.h"

int window_init(Window *w, const EnvSpec *spec, const Agent *agent, int K, int t_len, int n)
{
    memset(w, 0, sizeof *w);
    if (K < 1 || K > WINDOW_MAX_K)
        return lpg_error("window: K must be in [1, %d], got %d", WINDOW_MAX_K, K);
    if (agent->num_y != RULE_Y_DIM || agent->has_value)
        return lpg_error("window: the agent needs %d y outputs and no value head", RULE_Y_DIM);
    w->K = K;
    w->t_len = t_len;
    w->n = n;
    w->num_y = agent->num_y;
    w->num_params = agent->num_params;
    for (int k = 0; k <= K; k++)
        if (rollout_init(&w->rollout[k], spec, agent, t_len, n)) {
            window_free(w);
            return -1;
        }
    size_t rows = (size_t)t_len * n, ys = rows * (size_t)w->num_y, P = agent->num_params;
    size_t total = 2 * (size_t)K * ys + (size_t)n + rows + (size_t)(K + 1) * P + 4 * P + rows + 2 * ys;
    real *p = lpg_calloc(total, sizeof(real), "meta-gradient window");
    if (!p) {
        window_free(w);
        return -1;
    }
    w->mem = p;
    w->y = p, p += (size_t)K * ys;
    w->y_next = p, p += (size_t)K * ys;
    w->gamma = p, p += n;
    w->advantage = p, p += rows;
    w->theta = p, p += (size_t)(K + 1) * P;
    w->grad = p, p += P;
    w->lambda = p, p += P;
    w->hv = p, p += P;
    w->lambda_scaled = p, p += P;
    w->dpi_hat = p, p += rows;
    w->dy_hat = p, p += ys;
    w->dlog_y_hat = p;
    return 0;
}

void window_free(Window *w)
{
    for (int k = 0; k <= WINDOW_MAX_K; k++)
        if (w->rollout[k].mem)
            rollout_free(&w->rollout[k]);
    free(w->mem);
    memset(w, 0, sizeof *w);
}

real *window_theta(const Window *w, int k)
{
    return w->theta + (size_t)k * w->num_params;
}

void rule_input_from_rollout(const Agent *agent, const Rollout *r, const real *gamma, real *y,
                             real *y_next, RuleInput *in)
{
    size_t rows = (size_t)r->t_len * r->n, m = (size_t)agent->num_y;
    int outs = agent->num_outputs;
    for (size_t row = 0; row < rows; row++) {
        softmax_row(r->out + row * outs + agent->y_offset, (int)m, y + row * m);
        softmax_row(r->out + (row + (size_t)r->n) * outs + agent->y_offset, (int)m,
                    y_next + row * m);
    }
    in->reward = r->reward;
    in->done = r->done;
    in->gamma = gamma;
    in->pi_taken = r->pi_taken;
    in->y = y;
    in->y_next = y_next;
}

void window_prepare_input(Window *w, const Agent *agent, int k, RuleInput *in)
{
    size_t ys = (size_t)w->t_len * w->n * w->num_y;
    rule_input_from_rollout(agent, &w->rollout[k], w->gamma, w->y + (size_t)k * ys,
                            w->y_next + (size_t)k * ys, in);
}

/* The rule's input for rollout k as prepared by window_prepare_input (no recomputation). */
static void window_input(const Window *w, int k, RuleInput *in)
{
    const Rollout *r = &w->rollout[k];
    size_t ys = (size_t)w->t_len * w->n * w->num_y;
    in->reward = r->reward;
    in->done = r->done;
    in->gamma = w->gamma;
    in->pi_taken = r->pi_taken;
    in->y = w->y + (size_t)k * ys;
    in->y_next = w->y_next + (size_t)k * ys;
}

static LpgLossInput loss_input(const Rollout *r, const RuleWork *rwork, real alpha_y)
{
    LpgLossInput li = {r->action, rwork->pi_hat, rwork->log_y_hat, alpha_y,
                       (real)1 / ((real)r->t_len * (real)r->n)};
    return li;
}

real inner_update(const Agent *agent, AgentWork *awork, RuleWork *rwork, const real *eta,
                  const RuleLayout *layout, const Rollout *rollout, const RuleInput *in,
                  real alpha_lr, real alpha_y, const real *theta, real *theta_next, real *grad)
{
    int rows = rollout->t_len * rollout->n;
    rule_forward(rwork, eta, layout, in, rollout->n, rollout->t_len);
    LpgLossInput li = loss_input(rollout, rwork, alpha_y);
    memset(grad, 0, agent->num_params * sizeof(real));
    real loss = lpg_loss_gradient(agent, awork, theta, rollout_obs(rollout, 0), rows, &li, grad);
    agent_per_state_mean(agent, awork, rollout_obs(rollout, 0), rows, grad);
    for (size_t j = 0; j < agent->num_params; j++)
        theta_next[j] = theta[j] - alpha_lr * grad[j];
    return loss;
}

real meta_objective(const Agent *agent, AgentWork *awork, const real *theta,
                    const Rollout *rollout, const real *advantage, const WindowParams *params,
                    real *dtheta)
{
    int rows = rollout->t_len * rollout->n, outs = agent->num_outputs, A = agent->num_actions;
    int m = agent->num_y;
    real scale = (real)1 / (real)rows;
    AgentObs obs = rollout_obs(rollout, 0);
    agent_forward(agent, awork, theta, obs, rows, awork->out);
    double total = 0;
    for (int b = 0; b < rows; b++) {
        const real *row = awork->out + (size_t)b * outs;
        real *drow = awork->dout + (size_t)b * outs;
        int a = rollout->action[b];
        real lse = softmax_row_lse(row, A, drow); /* drow[0..A) = π */
        total += (double)((row[a] - lse) * advantage[b]);
        total += params->beta0 * (double)entropy_row(row, A);
        /* ∂/∂l of log π(a) Â is Â (e_a - π). */
        for (int j = 0; j < A; j++)
            drow[j] = -advantage[b] * drow[j] * scale;
        drow[a] += advantage[b] * scale;
        entropy_row_backward(row, A, params->beta0 * scale, drow);
        if (m > 0) {
            total += params->beta1 * (double)entropy_row(row + agent->y_offset, m);
            memset(drow + agent->y_offset, 0, (size_t)m * sizeof(real));
            entropy_row_backward(row + agent->y_offset, m, params->beta1 * scale,
                                 drow + agent->y_offset);
        }
    }
    if (dtheta)
        agent_backward(agent, awork, theta, obs, rows, awork->dout, dtheta);
    return (real)(total * scale);
}

/* -β2 mean π̂² - β3 mean ‖ŷ‖² of the last rule_forward, as a share of the K windows. */
static double l2_share(const Window *w, const RuleWork *rwork, const WindowParams *params)
{
    int rows = w->t_len * w->n;
    return -rule_l2_penalty(rwork->pi_hat, rwork->y_hat, rows, params->beta2, params->beta3) /
           ((double)rows * w->K);
}

double window_replay(Window *w, const Agent *agent, AgentWork *awork, RuleWork *rwork,
                     const real *eta, const RuleLayout *layout, const WindowParams *params)
{
    double J = 0;
    for (int k = 0; k < w->K; k++) {
        RuleInput in;
        window_input(w, k, &in);
        inner_update(agent, awork, rwork, eta, layout, &w->rollout[k], &in, params->alpha_lr,
                     params->alpha_y, window_theta(w, k), window_theta(w, k + 1), w->grad);
        J += l2_share(w, rwork, params);
    }
    J += meta_objective(agent, awork, window_theta(w, w->K), &w->rollout[w->K], w->advantage,
                        params, NULL);
    return J;
}

/* Upstream gradients into the rule's outputs for window k, given λ_{k+1}: -α times the mixed
 * derivatives of ⟨∇_θ L(θ_k), λ⟩ plus the L2 terms; then BPTT into d_eta. Also leaves
 * hv = H_k λ_{k+1}. Returns window k's share of J's L2 terms. */
static double window_step_backward(Window *w, int k, const Agent *agent, AgentWork *awork,
                                   RuleWork *rwork, const real *eta, const RuleLayout *layout,
                                   const WindowParams *params, real *d_eta)
{
    const Rollout *r = &w->rollout[k];
    int rows = w->t_len * w->n, m = w->num_y;
    RuleInput in;
    window_input(w, k, &in);
    rule_forward(rwork, eta, layout, &in, w->n, w->t_len);
    LpgLossInput li = loss_input(r, rwork, params->alpha_y);
    /* θ_{k+1} = θ_k - α D ∇L(θ_k) with D the constant per-state factors (identity for MLPs):
     * both the Hessian term and the mixed term act along v = D λ_{k+1}. */
    memcpy(w->lambda_scaled, w->lambda, w->num_params * sizeof(real));
    agent_per_state_mean(agent, awork, rollout_obs(r, 0), rows, w->lambda_scaled);
    memset(w->hv, 0, w->num_params * sizeof(real));
    lpg_loss_hvp(agent, awork, window_theta(w, k), rollout_obs(r, 0), rows, &li, w->lambda_scaled,
                 w->hv);

    memset(w->dpi_hat, 0, (size_t)rows * sizeof(real));
    memset(w->dlog_y_hat, 0, (size_t)rows * m * sizeof(real));
    memset(w->dy_hat, 0, (size_t)rows * m * sizeof(real));
    lpg_loss_batch_mixed(agent, &li, awork->out, awork->out_tangent, rows, w->dpi_hat,
                         w->dlog_y_hat);
    for (int b = 0; b < rows; b++)
        w->dpi_hat[b] *= -params->alpha_lr;
    for (size_t j = 0; j < (size_t)rows * m; j++)
        w->dlog_y_hat[j] *= -params->alpha_lr;
    /* The L2 terms are written in ŷ; ∂/∂log ŷ = ŷ ⊙ ∂/∂ŷ folds them into the log form. */
    rule_l2_backward(w->dpi_hat, w->dy_hat, rwork->pi_hat, rwork->y_hat, rows, params->beta2,
                     params->beta3, -1.0 / ((double)rows * w->K));
    for (size_t j = 0; j < (size_t)rows * m; j++)
        w->dlog_y_hat[j] += rwork->y_hat[j] * w->dy_hat[j];
    rule_backward_log(rwork, d_eta, eta, layout, w->dpi_hat, w->dlog_y_hat);
    return l2_share(w, rwork, params);
}

double window_meta_gradient(Window *w, const Agent *agent, AgentWork *awork, RuleWork *rwork,
                            const real *eta, const RuleLayout *layout, const WindowParams *params,
                            real *d_eta)
{
    memset(w->lambda, 0, w->num_params * sizeof(real));
    double J = meta_objective(agent, awork, window_theta(w, w->K), &w->rollout[w->K],
                              w->advantage, params, w->lambda);
    for (int k = w->K - 1; k >= 0; k--) {
        J += window_step_backward(w, k, agent, awork, rwork, eta, layout, params, d_eta);
        for (size_t j = 0; j < w->num_params; j++)
            w->lambda[j] -= params->alpha_lr * w->hv[j];
    }
    return J;
}
