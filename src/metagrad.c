/* metagrad.c: one window of K inner updates and its exact meta-gradient (see metagrad.h). */
#include "metagrad.h"

#include <stdlib.h>
#include <string.h>

#include "buffers.h"
#include "softmax.h"
#include "util.h"

int window_init(Window *w, const EnvSpec *spec, const Agent *agent, int K, int t_len, int n)
{
    memset(w, 0, sizeof *w);
    if (K < 1 || K > WINDOW_MAX_K)
        return lpg_error("window: K must be in [1, %d], got %d", WINDOW_MAX_K, K);
    if ((agent->num_y != RULE_Y_DIM && agent->num_y != 0) || agent->has_value)
        return lpg_error("window: the agent needs %d y outputs (LPG) or none (LPG-V) and no value "
                         "head", RULE_Y_DIM);
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
    size_t values = agent->num_y == 0 ? (size_t)K * (rows + n) : 0; /* LPG-V */
    BufferSpec table[] = {
        BUFFER(w->value, values),
        BUFFER(w->y, (size_t)K * ys),       BUFFER(w->y_next, (size_t)K * ys),
        BUFFER(w->gamma, n),                BUFFER(w->advantage, rows),
        BUFFER(w->theta, (size_t)(K + 1) * P),
        BUFFER(w->grad, P),                 BUFFER(w->lambda, P),
        BUFFER(w->hv, P),                   BUFFER(w->lambda_scaled, P),
        BUFFER(w->dpi_hat, rows),           BUFFER(w->dlog_y_hat, ys),
        BUFFER(w->pi_taken, (size_t)K * rows), BUFFER(w->d_pi_taken, rows),
        BUFFER(w->d_y, ys),                 BUFFER(w->d_y_next, ys),
    };
    w->mem = buffers_alloc(table, BUFFER_COUNT(table), "meta-gradient window");
    if (!w->mem) {
        window_free(w);
        return -1;
    }
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

/* The critic's values at the observations of rollout k: the LPG-V rule's inputs. */
static real *window_value(const Window *w, int k)
{
    return w->value + (size_t)k * (w->t_len + 1) * w->n;
}

/* Fills the rule's inputs of rollout k from the agent outputs recorded in it (LPG-V: from the
 * values kept for it), and points in at rollout k's data. */
static void window_prepare_input(Window *w, const Agent *agent, const RuleLayout *layout, int k,
                                 RuleInput *in)
{
    size_t ys = (size_t)w->t_len * w->n * w->num_y;
    int lpg_v = layout->method == RULE_LPG_V;
    rule_input_from_rollout(agent, layout, &w->rollout[k], w->gamma,
                            lpg_v ? NULL : w->y + (size_t)k * ys,
                            lpg_v ? NULL : w->y_next + (size_t)k * ys,
                            lpg_v ? window_value(w, k) : NULL, in);
}

/* Collects rollout k with θ_k and records the episodes that ended in it. */
static void window_collect_rollout(Window *w, int k, EnvBatch *env, const Agent *agent,
                                   AgentWork *awork, Rng *rng)
{
    int64_t before = env->episodes_done;
    double before_sum = env->returns_done_sum;
    rollout_collect(&w->rollout[k], env, agent, awork, window_theta(w, k), rng);
    w->episodes_ended[k] = env->episodes_done - before;
    w->returns_ended[k] = env->returns_done_sum - before_sum;
}

/* Trains the critic (if any) on rollout k, which leaves Â on it in w->advantage; an LPG-V
 * window keeps the critic's values from before the step as the rule's inputs. */
static void window_train_critic(Window *w, int k, Critic *critic, const WindowParams *params)
{
    if (!critic)
        return;
    w->critic_loss = critic_update(critic, &w->rollout[k], w->gamma[0], params->critic_lambda,
                                   params->critic_lr, w->advantage);
    if (w->value && k < w->K)
        memcpy(window_value(w, k), critic->value,
               (size_t)(w->t_len + 1) * w->n * sizeof(real));
}

void window_collect(Window *w, EnvBatch *env, const Agent *agent, AgentWork *awork,
                    RuleWork *rwork, const real *eta, const RuleLayout *layout,
                    const WindowParams *params, Critic *critic, Rng *rng)
{
    for (int k = 0; k < w->K; k++) {
        window_collect_rollout(w, k, env, agent, awork, rng);
        window_train_critic(w, k, critic, params);
        RuleInput in;
        window_prepare_input(w, agent, layout, k, &in);
        inner_update(agent, awork, rwork, eta, layout, &w->rollout[k], &in, params->alpha_lr,
                     params->alpha_y, window_theta(w, k), window_theta(w, k + 1), w->grad);
    }
    window_collect_rollout(w, w->K, env, agent, awork, rng);
    window_train_critic(w, w->K, critic, params);
}

/* Whether the rule's inputs of update k follow θ_k: with input_grad, for k >= 1 (θ_0 does not
 * depend on η, so the inputs of update 0 stay as collected). */
static int input_follows_theta(const WindowParams *params, int k)
{
    return params->input_grad && k >= 1;
}

/* The rule's input for rollout k: as prepared by window_prepare_input, or, when recomputed, with
 * π(a|s) from window_recompute_input (y and y_next live in the same buffers either way; LPG-V's
 * values are data and never recomputed). */
static void window_input(const Window *w, int k, int recomputed, RuleInput *in)
{
    const Rollout *r = &w->rollout[k];
    size_t ys = (size_t)w->t_len * w->n * w->num_y;
    memset(in, 0, sizeof *in);
    in->reward = r->reward;
    in->done = r->done;
    in->gamma = w->gamma;
    in->pi_taken = recomputed ? w->pi_taken + (size_t)k * w->t_len * w->n : r->pi_taken;
    if (w->value) {
        in->value = window_value(w, k);
        in->value_next = in->value + w->n;
        return;
    }
    in->y = w->y + (size_t)k * ys;
    in->y_next = w->y_next + (size_t)k * ys;
}

/* The rule's y input of one row from the agent's y logits u: softmax(u), or u itself (y_raw). */
static void y_of_logits(const real *u, int m, int y_raw, real *y)
{
    if (y_raw)
        memcpy(y, u, (size_t)m * sizeof(real));
    else
        softmax_row(u, m, y);
}

/* Recomputes the rule's agent-dependent inputs of rollout k from θ_k at the rollout's stored
 * observations and actions: π_θk(a_t|s_t) into w->pi_taken, y at s_t and s_{t+1} (softmax of the
 * y logits, or the logits for y_raw; none for LPG-V) into w->y and w->y_next. Leaves the agent's
 * outputs at all (t_len+1)*n observations in awork->out (awork must hold that many rows). */
static void window_recompute_input(Window *w, const Agent *agent, AgentWork *awork,
                                   const RuleLayout *layout, int k)
{
    const Rollout *r = &w->rollout[k];
    int n = w->n, rows = w->t_len * n, outs = agent->num_outputs, A = agent->num_actions;
    size_t m = (size_t)w->num_y, ys = (size_t)rows * m;
    agent_forward(agent, awork, window_theta(w, k), rollout_obs(r, 0), rows + n, awork->out);
    real *pi_taken = w->pi_taken + (size_t)k * rows;
    for (int b = 0; b < rows; b++) {
        const real *row = awork->out + (size_t)b * outs;
        pi_taken[b] = real_exp(row[r->action[b]] - log_sum_exp_row(row, A));
    }
    if (m == 0)
        return;
    real *y = w->y + (size_t)k * ys, *y_next = w->y_next + (size_t)k * ys;
    for (int b = 0; b < rows; b++)
        y_of_logits(awork->out + (size_t)b * outs + agent->y_offset, (int)m, layout->y_raw,
                    y + (size_t)b * m);
    /* y' of row b is y of row b + n (same observation, same θ_k); only the last step's y' reads
     * the bootstrap rows. softmax_row gives an entry the same value wherever it is computed. */
    memcpy(y_next, y + (size_t)n * m, (size_t)(rows - n) * m * sizeof(real));
    for (int b = rows - n; b < rows; b++)
        y_of_logits(awork->out + (size_t)(b + n) * outs + agent->y_offset, (int)m, layout->y_raw,
                    y_next + (size_t)b * m);
}

/* The rule's input of update k under params: recomputed from θ_k when it follows θ_k (see
 * input_follows_theta), else as stored. */
static void window_update_input(Window *w, const Agent *agent, AgentWork *awork,
                                const RuleLayout *layout, const WindowParams *params, int k,
                                RuleInput *in)
{
    int recompute = input_follows_theta(params, k);
    if (recompute)
        window_recompute_input(w, agent, awork, layout, k);
    window_input(w, k, recompute, in);
}

/* ∂/∂u of the y-input gradient g at one observation row: for softmax y, y ⊙ (g - y·g); for
 * y_raw, g itself. Writes du [m]. */
static void y_input_backward(const real *g_y, const real *g_next, const real *prob, int m,
                             int y_raw, real *du)
{
    real dot = 0;
    for (int j = 0; j < m; j++) {
        real g = (g_y ? g_y[j] : 0) + (g_next ? g_next[j] : 0);
        du[j] = g;
        dot += prob[j] * g;
    }
    if (y_raw)
        return;
    for (int j = 0; j < m; j++)
        du[j] = prob[j] * (du[j] - dot);
}

/* The VJP of window_recompute_input: ADDS to dtheta, through the agent at θ_k, the rule's input
 * gradient of rollout k (w->d_pi_taken, w->d_y, w->d_y_next): π(a_t|s_t) from the action logits
 * at s_t, y_t from the y logits at s_t (row t*n+i) and y'_t from those at s_{t+1} (row
 * (t+1)*n+i, the bootstrap row for t = t_len-1). Uses awork->out and awork->dout over
 * (t_len+1)*n rows; window_recompute_input must have run for k (its y and y' are reused). */
static void window_input_backward(Window *w, const Agent *agent, AgentWork *awork,
                                  const RuleLayout *layout, int k, real *dtheta)
{
    const Rollout *r = &w->rollout[k];
    int n = w->n, rows = w->t_len * n, outs = agent->num_outputs, A = agent->num_actions;
    int m = w->num_y;
    AgentObs obs = rollout_obs(r, 0);
    agent_forward(agent, awork, window_theta(w, k), obs, rows + n, awork->out);
    memset(awork->dout, 0, (size_t)(rows + n) * outs * sizeof(real));
    /* y at every row is already in the window: window_recompute_input took it from the same
     * outputs (y' of the last step for the bootstrap rows). */
    size_t ys = (size_t)rows * m;
    for (int b = 0; b < rows + n; b++) {
        const real *row = awork->out + (size_t)b * outs;
        real *drow = awork->dout + (size_t)b * outs;
        if (b < rows) {
            /* ∂π(a)/∂l = π(a) (e_a - π); drow[0..A) holds π meanwhile. */
            int a = r->action[b];
            softmax_row(row, A, drow);
            real g = w->d_pi_taken[b] * drow[a];
            for (int j = 0; j < A; j++)
                drow[j] *= -g;
            drow[a] += g;
        }
        if (m == 0)
            continue;
        const real *y = w->y + (size_t)k * ys, *y_next = w->y_next + (size_t)k * ys;
        const real *g_y = b < rows ? w->d_y + (size_t)b * m : NULL;
        const real *g_next = b >= n ? w->d_y_next + (size_t)(b - n) * m : NULL;
        const real *prob = b < rows ? y + (size_t)b * m : y_next + (size_t)(b - n) * m;
        y_input_backward(g_y, g_next, prob, m, layout->y_raw, drow + agent->y_offset);
    }
    agent_backward(agent, awork, window_theta(w, k), obs, rows + n, awork->dout, dtheta);
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
static double l2_share(const Window *w, const RuleWork *rwork, const RuleLayout *layout,
                       const WindowParams *params)
{
    int rows = w->t_len * w->n;
    return -rule_l2_penalty(layout, rwork->pi_hat, rwork->y_hat, rows, params->beta2,
                            params->beta3) / ((double)rows * w->K);
}

double window_replay(Window *w, const Agent *agent, AgentWork *awork, RuleWork *rwork,
                     const real *eta, const RuleLayout *layout, const WindowParams *params)
{
    double J = 0;
    for (int k = 0; k < w->K; k++) {
        RuleInput in;
        window_update_input(w, agent, awork, layout, params, k, &in);
        inner_update(agent, awork, rwork, eta, layout, &w->rollout[k], &in, params->alpha_lr,
                     params->alpha_y, window_theta(w, k), window_theta(w, k + 1), w->grad);
        J += l2_share(w, rwork, layout, params);
    }
    J += meta_objective(agent, awork, window_theta(w, w->K), &w->rollout[w->K], w->advantage,
                        params, NULL);
    return J;
}

/* Upstream gradients into the rule's outputs for window k, given λ_{k+1}: -α times the mixed
 * derivatives of ⟨∇_θ L(θ_k), λ⟩ plus the L2 terms; then BPTT into d_eta. Also leaves
 * hv = H_k λ_{k+1}, and when the inputs follow θ_k (input_grad, k >= 1) ADDS to w->lambda the
 * path through them: (∂x_k/∂θ_k)ᵀ (∂o_k/∂x_k)ᵀ u_k, u_k those upstream gradients. Returns window
 * k's share of J's L2 terms. */
static double window_step_backward(Window *w, int k, const Agent *agent, AgentWork *awork,
                                   RuleWork *rwork, const real *eta, const RuleLayout *layout,
                                   const WindowParams *params, real *d_eta)
{
    const Rollout *r = &w->rollout[k];
    int rows = w->t_len * w->n, m = w->num_y;
    RuleInput in;
    window_update_input(w, agent, awork, layout, params, k, &in);
    rule_forward(rwork, eta, layout, &in, w->n, w->t_len);
    LpgLossInput li = inner_loss_input(r, rwork, params->alpha_y);
    /* θ_{k+1} = θ_k - α D ∇L(θ_k) with D the constant per-state factors (identity for MLPs):
     * both the Hessian term and the mixed term act along v = D λ_{k+1}. */
    memcpy(w->lambda_scaled, w->lambda, w->num_params * sizeof(real));
    agent_per_state_mean(agent, awork, rollout_obs(r, 0), rows, w->lambda_scaled);
    memset(w->hv, 0, w->num_params * sizeof(real));
    lpg_loss_hvp_only(agent, awork, window_theta(w, k), rollout_obs(r, 0), rows, &li,
                      w->lambda_scaled, w->hv);

    memset(w->dpi_hat, 0, (size_t)rows * sizeof(real));
    if (m > 0)
        memset(w->dlog_y_hat, 0, (size_t)rows * m * sizeof(real));
    lpg_loss_batch_mixed(agent, &li, awork->out, awork->out_tangent, rows, w->dpi_hat,
                         w->dlog_y_hat);
    for (int b = 0; b < rows; b++)
        w->dpi_hat[b] *= -params->alpha_lr;
    for (size_t j = 0; j < (size_t)rows * m; j++)
        w->dlog_y_hat[j] *= -params->alpha_lr;
    rule_l2_backward(layout, w->dpi_hat, w->dlog_y_hat, rwork->pi_hat, rwork->y_hat, rows,
                     params->beta2, params->beta3, -1.0 / ((double)rows * w->K));
    int through_inputs = input_follows_theta(params, k);
    RuleInputGrad d_in = {w->d_pi_taken, w->d_y, w->d_y_next};
    rule_backward(rwork, d_eta, eta, layout, w->dpi_hat, w->dlog_y_hat,
                  through_inputs ? &d_in : NULL);
    if (through_inputs) /* hv was taken along a copy of λ_{k+1}: λ itself is free to change */
        window_input_backward(w, agent, awork, layout, k, w->lambda);
    return l2_share(w, rwork, layout, params);
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
