/* metagrad.c: one window of K inner updates and its exact meta-gradient (see metagrad.h). */
#include "metagrad.h"

#include <stdlib.h>
#include <string.h>

#include "buffers.h"
#include "softmax.h"
#include "util.h"

#define WINDOW_BUFFERS 24

/* The buffer table of a window of K updates of t_len x n rollouts (pointers into w; reads
 * w->adam and w->num_y). */
static void window_table(BufferSpec table[WINDOW_BUFFERS], Window *w, const Agent *agent, int K,
                         int t_len, int n)
{
    size_t rows = (size_t)t_len * n, ys = rows * (size_t)w->num_y, P = agent->num_params;
    size_t rows1 = rows + (size_t)n, A = (size_t)agent->num_actions;
    size_t values = w->num_y == 0 ? (size_t)K * rows1 : 0; /* LPG-V */
    size_t adam = w->adam ? P : 0;
    BufferSpec t[WINDOW_BUFFERS] = {
        BUFFER(w->value, values),
        BUFFER(w->pi, (size_t)K * rows1 * A), BUFFER(w->y, (size_t)K * rows1 * w->num_y),
        BUFFER(w->lse_pi, (size_t)K * rows1), BUFFER(w->lse_y, (size_t)K * rows1),
        BUFFER(w->replay_pi_taken, rows),
        BUFFER(w->gamma, n),                BUFFER(w->advantage, rows),
        BUFFER(w->theta, (size_t)(K + 1) * P),
        BUFFER(w->grad, P),                 BUFFER(w->lambda, P),
        BUFFER(w->hv, P),                   BUFFER(w->lambda_scaled, P),
        BUFFER(w->dpi_hat, rows),           BUFFER(w->dlog_y_hat, ys),
        BUFFER(w->pi_taken, (size_t)K * rows), BUFFER(w->d_pi_taken, rows),
        BUFFER(w->d_y, ys),                 BUFFER(w->d_y_next, ys),
        BUFFER(w->m, (size_t)(K + 1) * adam), BUFFER(w->v, (size_t)(K + 1) * adam),
        BUFFER(w->g, (size_t)K * adam),
        BUFFER(w->lambda_m, adam),          BUFFER(w->lambda_v, adam),
    };
    memcpy(table, t, sizeof t);
}

size_t window_bytes(const EnvSpec *spec, const Agent *agent, int K, int t_len, int n,
                    InnerOptimizer optimizer)
{
    Window w;
    w.adam = optimizer == INNER_ADAM;
    w.num_y = agent->num_y;
    BufferSpec table[WINDOW_BUFFERS];
    window_table(table, &w, agent, K, t_len, n);
    return buffers_size(table, WINDOW_BUFFERS) +
           (size_t)(K + 1) * rollout_bytes(spec, agent, t_len, n);
}

int window_init(Window *w, const EnvSpec *spec, const Agent *agent, int K, int t_len, int n,
                InnerOptimizer optimizer)
{
    memset(w, 0, sizeof *w);
    if (K < 1 || K > WINDOW_MAX_K)
        return lpg_error("window: K must be in [1, %d], got %d", WINDOW_MAX_K, K);
    if ((agent->num_y != RULE_Y_DIM && agent->num_y != 0) || agent->has_value)
        return lpg_error("window: the agent needs %d y outputs (LPG) or none (LPG-V) and no value "
                         "head", RULE_Y_DIM);
    if (optimizer == INNER_ADAM && agent->spec.kind == AGENT_TABULAR)
        return lpg_error("window: a tabular agent takes the per-state mean SGD step, not Adam");
    w->adam = optimizer == INNER_ADAM;
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
    BufferSpec table[WINDOW_BUFFERS];
    window_table(table, w, agent, K, t_len, n);
    w->mem = buffers_alloc(table, WINDOW_BUFFERS, "meta-gradient window");
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

real *window_m(const Window *w, int k)
{
    return w->adam ? w->m + (size_t)k * w->num_params : NULL;
}

real *window_v(const Window *w, int k)
{
    return w->adam ? w->v + (size_t)k * w->num_params : NULL;
}

void window_advance(Window *w)
{
    size_t bytes = w->num_params * sizeof(real);
    memcpy(window_theta(w, 0), window_theta(w, w->K), bytes);
    if (w->adam) {
        memcpy(window_m(w, 0), window_m(w, w->K), bytes);
        memcpy(window_v(w, 0), window_v(w, w->K), bytes);
    }
    w->updates += w->K;
}

/* Adam's moments around update k (into *adam), or NULL when the inner step is SGD. */
static const InnerAdam *window_adam(const Window *w, int k, InnerAdam *adam)
{
    if (!w->adam)
        return NULL;
    InnerAdam a = {window_m(w, k), window_v(w, k), window_m(w, k + 1), window_v(w, k + 1),
                   w->updates + k + 1};
    *adam = a;
    return adam;
}

/* ∇_θ L(θ_k; η) of update k: kept per update for Adam's adjoint, else scratch. */
static real *window_grad(const Window *w, int k)
{
    return w->adam ? w->g + (size_t)k * w->num_params : w->grad;
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

/* Whether the rule's inputs of update k follow θ_k: with input_grad, for k >= 1 (θ_0 does not
 * depend on η, so the inputs of update 0 stay as collected). */
static int input_follows_theta(const WindowParams *params, int k)
{
    return params->input_grad && k >= 1;
}

/* How window_input finds the rule's input of update k. */
typedef enum {
    INPUT_COLLECT,  /* from θ_k, kept in the window for the other two */
    INPUT_BACKWARD, /* as collected: θ_k has not moved since, so its softmaxes are the same */
    INPUT_REPLAY    /* from θ_k where the inputs follow it, else as collected */
} InputMode;

/* The four softmax buffers of awork (agent_softmax) and their copies in slot k of the window,
 * each [(t_len+1)*n rows x width]. */
typedef struct {
    real *work, *kept;
    size_t width;
} SoftmaxPart;

static int softmax_parts(const Window *w, const Agent *agent, AgentWork *awork, int k,
                         SoftmaxPart part[4])
{
    size_t rows1 = (size_t)(w->t_len + 1) * w->n, A = (size_t)agent->num_actions;
    size_t m = (size_t)w->num_y;
    part[0] = (SoftmaxPart){awork->pi, w->pi + k * rows1 * A, A};
    part[1] = (SoftmaxPart){awork->y, w->y ? w->y + k * rows1 * m : NULL, m}; /* LPG-V: none */
    part[2] = (SoftmaxPart){awork->lse_pi, w->lse_pi + k * rows1, 1};
    part[3] = (SoftmaxPart){awork->lse_y, w->lse_y + k * rows1, 1};
    return 4;
}

/* Copies awork's softmaxes into slot k (keep) or back from it. For a y_raw rule y holds the raw
 * y logits, as rule_input_at leaves them. */
static void window_softmax_copy(const Window *w, const Agent *agent, AgentWork *awork, int k,
                                int keep)
{
    SoftmaxPart part[4];
    size_t rows1 = (size_t)(w->t_len + 1) * w->n;
    for (int p = softmax_parts(w, agent, awork, k, part) - 1; p >= 0; p--) {
        size_t bytes = rows1 * part[p].width * sizeof(real);
        if (bytes > 0)
            memcpy(keep ? part[p].kept : part[p].work, keep ? part[p].work : part[p].kept, bytes);
    }
}

/* The critic's values at the observations of rollout k: the LPG-V rule's inputs (NULL for the
 * other kinds). */
static real *window_value(const Window *w, int k)
{
    return w->value ? w->value + (size_t)k * (w->t_len + 1) * w->n : NULL;
}

/* The rule's input of update k as collected (slot k of the window). LPG-V's values are data and
 * always the collected ones. */
static void window_kept_input(const Window *w, const RuleLayout *layout, int k, RuleInput *in)
{
    const Rollout *r = &w->rollout[k];
    size_t rows1 = (size_t)(w->t_len + 1) * w->n, m = (size_t)w->num_y;
    memset(in, 0, sizeof *in);
    in->reward = r->reward;
    in->done = r->done;
    in->gamma = w->gamma;
    in->pi_taken = w->pi_taken + (size_t)k * w->t_len * w->n;
    if (layout->method == RULE_LPG_V) {
        in->value = window_value(w, k);
        in->value_next = in->value + w->n;
        return;
    }
    in->y = w->y + k * rows1 * m;
    in->y_next = in->y + (size_t)w->n * m;
}

/* The rule's input of update k (see InputMode). Leaves in awork the agent's forward pass at θ_k
 * on rollout k's (t_len+1)*n observations and its softmaxes, for the loss and its derivatives:
 * one forward pass, and one softmax of its outputs per update and window. */
static void window_input(Window *w, const Agent *agent, AgentWork *awork,
                         const RuleLayout *layout, const WindowParams *params, int k,
                         InputMode mode, RuleInput *in)
{
    const Rollout *r = &w->rollout[k];
    if (mode == INPUT_BACKWARD) {
        agent_forward(agent, awork, window_theta(w, k), rollout_obs(r, 0), (w->t_len + 1) * w->n,
                      awork->out);
        window_softmax_copy(w, agent, awork, k, 0);
        window_kept_input(w, layout, k, in);
    } else {
        int follows = input_follows_theta(params, k);
        real *pi_taken = mode == INPUT_COLLECT ? w->pi_taken + (size_t)k * w->t_len * w->n
                         : follows ? w->replay_pi_taken : NULL;
        rule_input_at(agent, layout, awork, window_theta(w, k), r, w->gamma, window_value(w, k),
                      pi_taken, in);
        if (mode == INPUT_COLLECT)
            window_softmax_copy(w, agent, awork, k, 1);
        else if (!follows)
            window_kept_input(w, layout, k, in);
    }
    if (layout->lifetime_inputs) /* update k of the window is the life's update updates + k */
        rule_input_set_lifetime(in, w->updates + k, w->length);
}

/* Inner update k: θ_{k+1} from θ_k on rollout k. */
static void window_update(Window *w, const Agent *agent, AgentWork *awork, RuleWork *rwork,
                          const real *eta, const RuleLayout *layout, const WindowParams *params,
                          int k, InputMode mode)
{
    RuleInput in;
    InnerAdam adam;
    window_input(w, agent, awork, layout, params, k, mode, &in);
    inner_update(agent, awork, rwork, eta, layout, &w->rollout[k], &in, window_adam(w, k, &adam),
                 params->alpha_lr, params->alpha_y, window_theta(w, k), window_theta(w, k + 1),
                 window_grad(w, k));
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
        memcpy(window_value(w, k), critic->value, (size_t)(w->t_len + 1) * w->n * sizeof(real));
}

void window_collect(Window *w, EnvBatch *env, const Agent *agent, AgentWork *awork,
                    RuleWork *rwork, const real *eta, const RuleLayout *layout,
                    const WindowParams *params, Critic *critic, Rng *rng)
{
    for (int k = 0; k < w->K; k++) {
        window_collect_rollout(w, k, env, agent, awork, rng);
        window_train_critic(w, k, critic, params);
        window_update(w, agent, awork, rwork, eta, layout, params, k, INPUT_COLLECT);
    }
    window_collect_rollout(w, w->K, env, agent, awork, rng);
    window_train_critic(w, w->K, critic, params);
}

/* ∂/∂l of g π(a) into drow [A]: g π(a) (e_a - π). */
static void pi_taken_backward(const real *pi, int A, int a, real g, real *drow)
{
    real ga = g * pi[a];
    for (int j = 0; j < A; j++)
        drow[j] = -ga * pi[j];
    drow[a] += ga;
}

/* ∂/∂u of the y = softmax(u) of one row into du [m]: y ⊙ (g - y·g), g = g_y + g_next (either
 * may be NULL: no gradient from that use of the row); for a y_raw rule (y = u) g itself. */
static void y_backward(const real *y, const real *g_y, const real *g_next, int m, int y_raw,
                       real *du)
{
    real dot = 0;
    for (int j = 0; j < m; j++) {
        du[j] = (g_y ? g_y[j] : 0) + (g_next ? g_next[j] : 0);
        dot += y[j] * du[j];
    }
    for (int j = 0; !y_raw && j < m; j++)
        du[j] = y[j] * (du[j] - dot);
}

/* The VJP of window_input: ADDS to dtheta, through the agent at θ_k, the rule's input gradient
 * of rollout k (w->d_pi_taken, w->d_y, w->d_y_next): π(a_t|s_t) from the action logits at s_t,
 * y_t from the y logits at s_t (row t*n+i) and y'_t from those at s_{t+1} (row (t+1)*n+i, the
 * bootstrap row for t = t_len-1). window_input must have run for k on awork, which still holds
 * its forward pass and softmaxes; overwrites awork->dout over (t_len+1)*n rows. */
static void window_input_backward(Window *w, const Agent *agent, AgentWork *awork,
                                  const RuleLayout *layout, int k, real *dtheta)
{
    const Rollout *r = &w->rollout[k];
    int n = w->n, rows = w->t_len * n, outs = agent->num_outputs, A = agent->num_actions;
    int m = w->num_y;
    for (int b = 0; b < rows + n; b++) {
        real *drow = awork->dout + (size_t)b * outs;
        if (b < rows)
            pi_taken_backward(awork->pi + (size_t)b * A, A, r->action[b], w->d_pi_taken[b], drow);
        else
            memset(drow, 0, (size_t)A * sizeof(real));
        if (m > 0)
            y_backward(awork->y + (size_t)b * m, b < rows ? w->d_y + (size_t)b * m : NULL,
                       b >= n ? w->d_y_next + (size_t)(b - n) * m : NULL, m, layout->y_raw,
                       drow + agent->y_offset);
    }
    agent_backward(agent, awork, window_theta(w, k), rollout_obs(r, 0), rows + n, awork->dout,
                   dtheta);
}

/* Row b's share of the meta-objective (without the 1/rows) and its gradient, times scale, into
 * drow: log π(a) Â + β0 H(π) + β1 H(y). */
static double meta_objective_row(const OutputRow *o, int A, int m, int a, real advantage,
                                 const WindowParams *params, real scale, real *drow)
{
    real h_pi = entropy_of(o->logits, o->pi, o->lse_pi, A);
    double total = (double)((o->logits[a] - o->lse_pi) * advantage) + params->beta0 * (double)h_pi;
    /* ∂/∂l of log π(a) Â is Â (e_a - π). */
    for (int j = 0; j < A; j++)
        drow[j] = -advantage * o->pi[j] * scale;
    drow[a] += advantage * scale;
    entropy_backward_of(o->logits, o->pi, o->lse_pi, h_pi, A, params->beta0 * scale, drow);
    if (m > 0) {
        real h_y = entropy_of(o->u, o->q, o->lse_y, m);
        total += params->beta1 * (double)h_y;
        memset(drow + A, 0, (size_t)m * sizeof(real));
        entropy_backward_of(o->u, o->q, o->lse_y, h_y, m, params->beta1 * scale, drow + A);
    }
    return total;
}

/* The first part of J (the log π Â and entropy terms) at theta on rollout with advantage Â;
 * when dtheta is not NULL, ADDS its gradient wrt θ there. */
static real meta_objective(const Agent *agent, AgentWork *awork, const real *theta,
                           const Rollout *rollout, const real *advantage,
                           const WindowParams *params, real *dtheta)
{
    int rows = rollout->t_len * rollout->n, outs = agent->num_outputs;
    real scale = (real)1 / (real)rows;
    AgentObs obs = rollout_obs(rollout, 0);
    agent_forward(agent, awork, theta, obs, rows, awork->out);
    agent_softmax(agent, awork, rows);
    double total = 0;
    for (int b = 0; b < rows; b++) {
        OutputRow o = output_row(agent, awork, b);
        total += meta_objective_row(&o, agent->num_actions, agent->num_y, rollout->action[b],
                                    advantage[b], params, scale, awork->dout + (size_t)b * outs);
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
        window_update(w, agent, awork, rwork, eta, layout, params, k, INPUT_REPLAY);
        J += l2_share(w, rwork, layout, params);
    }
    J += meta_objective(agent, awork, window_theta(w, w->K), &w->rollout[w->K], w->advantage,
                        params, NULL);
    return J;
}

/* The direction along which update k's derivatives act, into w->lambda_scaled (on the
 * parameters the batch touches), and their factor c: update k depends on η and on θ_k through
 * g_k = ∇_θ L(θ_k; η) alone, so with v = ∂J/∂g_k = c · lambda_scaled, J gains ⟨∇_θ L, v⟩'s
 * derivatives in η and θ_k. SGD: θ_{k+1} = θ_k - α D g_k with D the constant per-state factors
 * (identity for MLPs), so v = -α D λ_{k+1}: lambda_scaled = D λ_{k+1}, c = -α. Adam: v = λ_g from
 * inner_adam_backward (which also takes λ_m, λ_v from update k+1's moments to update k's),
 * c = 1. */
static real window_direction(Window *w, int k, const Agent *agent, AgentWork *awork,
                             const ParamRows *touched, const WindowParams *params)
{
    InnerAdam adam;
    if (window_adam(w, k, &adam)) {
        inner_adam_backward(&adam, w->num_params, params->alpha_lr, window_grad(w, k), w->lambda,
                            w->lambda_m, w->lambda_v, w->lambda_scaled);
        return 1;
    }
    const Rollout *r = &w->rollout[k];
    param_rows_copy(touched, w->lambda_scaled, w->lambda);
    agent_per_state_mean(agent, awork, rollout_obs(r, 0), w->t_len * w->n, w->lambda_scaled);
    return -params->alpha_lr;
}

/* Upstream gradients into the rule's outputs for window k, given λ_{k+1}: c times the mixed
 * derivatives of ⟨∇_θ L(θ_k), v⟩ plus the L2 terms (c, v: window_direction); then BPTT into
 * d_eta. Then takes λ from λ_{k+1} to λ_k: adds c H_k v (hv, computed on the parameters the batch
 * touches, zero elsewhere) and, when the inputs follow θ_k (input_grad, k >= 1), the path through
 * them: (∂x_k/∂θ_k)ᵀ (∂o_k/∂x_k)ᵀ u_k, u_k those upstream gradients. Returns window k's share of
 * J's L2 terms. */
static double window_step_backward(Window *w, int k, const Agent *agent, AgentWork *awork,
                                   RuleWork *rwork, const real *eta, const RuleLayout *layout,
                                   const WindowParams *params, real *d_eta)
{
    const Rollout *r = &w->rollout[k];
    int rows = w->t_len * w->n, m = w->num_y;
    RuleInput in;
    window_input(w, agent, awork, layout, params, k, INPUT_BACKWARD, &in);
    rule_forward(rwork, eta, layout, &in, w->n, w->t_len);
    LpgLossInput li = inner_loss_input(r, rwork, params->alpha_y);
    ParamRows touched = agent_touched(agent, awork, rollout_obs(r, 0), rows);
    real c = window_direction(w, k, agent, awork, &touched, params);
    param_rows_zero(&touched, w->hv);
    lpg_loss_hvp_after_forward(agent, awork, window_theta(w, k), rollout_obs(r, 0), rows, &li,
                               w->lambda_scaled, w->hv);

    memset(w->dpi_hat, 0, (size_t)rows * sizeof(real));
    if (m > 0)
        memset(w->dlog_y_hat, 0, (size_t)rows * m * sizeof(real));
    lpg_loss_batch_mixed(agent, &li, awork, rows, w->dpi_hat, w->dlog_y_hat);
    for (int b = 0; b < rows; b++)
        w->dpi_hat[b] *= c;
    for (size_t j = 0; j < (size_t)rows * m; j++)
        w->dlog_y_hat[j] *= c;
    rule_l2_backward(layout, w->dpi_hat, w->dlog_y_hat, rwork->pi_hat, rwork->y_hat, rows,
                     params->beta2, params->beta3, -1.0 / ((double)rows * w->K));
    int through_inputs = input_follows_theta(params, k);
    RuleInputGrad d_in = {w->d_pi_taken, w->d_y, w->d_y_next};
    rule_backward(rwork, d_eta, eta, layout, w->dpi_hat, w->dlog_y_hat,
                  through_inputs ? &d_in : NULL);
    if (through_inputs) /* hv was taken along a copy of λ_{k+1}: λ itself is free to change */
        window_input_backward(w, agent, awork, layout, k, w->lambda);
    param_rows_axpy(&touched, w->lambda, c, w->hv); /* hv is 0 elsewhere */
    return l2_share(w, rwork, layout, params);
}

double window_meta_gradient(Window *w, const Agent *agent, AgentWork *awork, RuleWork *rwork,
                            const real *eta, const RuleLayout *layout, const WindowParams *params,
                            real *d_eta)
{
    memset(w->lambda, 0, w->num_params * sizeof(real));
    if (w->adam) { /* J does not read m_K, v_K */
        memset(w->lambda_m, 0, w->num_params * sizeof(real));
        memset(w->lambda_v, 0, w->num_params * sizeof(real));
    }
    double J = meta_objective(agent, awork, window_theta(w, w->K), &w->rollout[w->K],
                              w->advantage, params, w->lambda);
    for (int k = w->K - 1; k >= 0; k--) {
        J += window_step_backward(w, k, agent, awork, rwork, eta, layout, params, d_eta);
    }
    return J;
}
