/* metagrad.h: the exact meta-gradient dJ/dη through K agent updates (DESIGN.md sections 4-5).
 *
 * A window is K rollouts R_0..R_{K-1}, each followed by one SGD step of the agent on the LPG
 * loss (Eq. 2) with the rule's outputs, and one more rollout R_K with θ_K on which the
 * meta-objective is measured:
 *     J = mean_b [log π_θK(a_b|s_b) Â_b + β0 H(π_θK(s_b)) + β1 H(y_θK(s_b))]
 *         - β2 mean_{k,b} π̂²  - β3 mean_{k,b} ‖ŷ‖²
 * The data (observations, actions, rewards, the rule's inputs and Â) are fixed once collected:
 * the rule's inputs are stop-gradient and trajectories are not differentiated. dJ/dη runs the
 * adjoint recursion  λ_K = ∇_θK J;  g_η += -α VJP_η(∇_θ L(θ_k), λ_{k+1});
 * λ_k = λ_{k+1} - α H_k λ_{k+1}, with Hessian-vector products through the agent (agent_loss.h)
 * and BPTT through the rule (rule.h). Plain SGD in the inner loop keeps it exact.
 *
 * Tabular agents take a per-state mean step: θ_{k+1} = θ_k - α D_k ∇L(θ_k), D_k diagonal with
 * batch / visits(s) on the rows of state s (agent_per_state_mean), so a rarely visited state
 * learns as fast as a frequent one and α is a fraction of the way per update. D_k is a constant
 * of the data, so the recursion only changes to λ_k = λ_{k+1} - α H_k D_k λ_{k+1} and the mixed
 * term is taken along D_k λ_{k+1}. MLP agents use D = I.
 * All buffers of a window are allocated once by window_init; nothing here allocates after. */
#ifndef LPG_METAGRAD_H
#define LPG_METAGRAD_H

#include "agent.h"
#include "agent_loss.h"
#include "env.h"
#include "real.h"
#include "rollout.h"
#include "rule.h"

#define WINDOW_MAX_K 16

/* The hyperparameters of one lifetime's window. */
typedef struct {
    int K;                       /* agent updates per window */
    real alpha_lr;               /* inner SGD step size */
    real alpha_y;                /* weight of the KL term of Eq. 2 */
    real beta0, beta1, beta2, beta3; /* H(π), H(y), L2 on π̂, L2 on ŷ */
} WindowParams;

typedef struct {
    int K, t_len, n, num_y;
    size_t num_params;             /* of the agent */
    Rollout rollout[WINDOW_MAX_K + 1];
    real *y, *y_next;              /* [K][t_len*n*num_y] the rule's y inputs, from collection */
    real *gamma;                   /* [n] */
    real *advantage;               /* [t_len*n] Â on rollout K */
    real *theta;                   /* [(K+1) x num_params] θ_0..θ_K */
    real *grad, *lambda, *hv;      /* [num_params] scratch */
    real *lambda_scaled;           /* [num_params] D λ, the per-state factors applied */
    real *dpi_hat;                 /* [t_len*n] */
    real *dy_hat, *dlog_y_hat;     /* [t_len*n*num_y] */
    void *mem;
} Window;

/* Allocates a window for an agent on an environment (K updates of t_len x n rollouts).
 * Returns 0, or -1 after reporting. Free with window_free. */
int window_init(Window *window, const EnvSpec *spec, const Agent *agent, int K, int t_len, int n);
void window_free(Window *window);

/* θ_k of the window (k = 0..K). */
real *window_theta(const Window *window, int k);

/* Fills y and y_next [t_len*n*num_y] with softmax of the y logits rollout recorded at s_t and
 * s_{t+1}, and points in at them, at gamma [n] and at rollout's rewards, dones and π(a|s):
 * the rule's input for one rollout, without a Window (lpg train). */
void rule_input_from_rollout(const Agent *agent, const Rollout *rollout, const real *gamma,
                             real *y, real *y_next, RuleInput *in);

/* Fills the rule's y inputs of rollout k from the agent outputs recorded in it, and points in
 * at rollout k's data. */
void window_prepare_input(Window *window, const Agent *agent, int k, RuleInput *in);

/* One inner update: runs the rule on in (t_len x n steps of rollout), then
 * theta_next = theta - alpha_lr D ∇_θ L(theta; η) (D: per-state factors of a tabular agent,
 * the identity for an MLP) using grad [num_params] as scratch.
 * Returns the loss L. theta_next may equal theta. */
real inner_update(const Agent *agent, AgentWork *awork, RuleWork *rwork, const real *eta,
                  const RuleLayout *layout, const Rollout *rollout, const RuleInput *in,
                  real alpha_lr, real alpha_y, const real *theta, real *theta_next, real *grad);

/* The first part of J (the log π Â and entropy terms) at theta on rollout with advantage Â;
 * when dtheta is not NULL, ADDS its gradient wrt θ there. */
real meta_objective(const Agent *agent, AgentWork *awork, const real *theta,
                    const Rollout *rollout, const real *advantage, const WindowParams *params,
                    real *dtheta);

/* Re-runs the K updates from window_theta(window, 0) with the window's fixed data and returns J
 * (writing θ_1..θ_K into the window). What finite differences of J in η differentiate. */
double window_replay(Window *window, const Agent *agent, AgentWork *awork, RuleWork *rwork,
                     const real *eta, const RuleLayout *layout, const WindowParams *params);

/* Given θ_0..θ_K in the window (from collection or window_replay), returns J and ADDS dJ/dη to
 * d_eta [layout->count]. */
double window_meta_gradient(Window *window, const Agent *agent, AgentWork *awork,
                            RuleWork *rwork, const real *eta, const RuleLayout *layout,
                            const WindowParams *params, real *d_eta);

#endif
