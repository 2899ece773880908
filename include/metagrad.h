/* metagrad.h: the exact meta-gradient dJ/dη through K agent updates (DESIGN.md sections 4-5).
 *
 * A window is K rollouts R_0..R_{K-1}, each followed by one SGD step of the agent on the LPG
 * loss (Eq. 2) with the rule's outputs, and one more rollout R_K with θ_K on which the
 * meta-objective is measured:
 *     J = mean_b [log π_θK(a_b|s_b) Â_b + β0 H(π_θK(s_b)) + β1 H(y_θK(s_b))]
 *         - β2 mean_{k,b} π̂²  - β3 mean_{k,b} ‖ŷ‖²
 * The data (observations, actions, rewards, dones and Â) are fixed once collected: trajectories
 * are not differentiated (the states visited and actions taken do not move with η). dJ/dη runs
 * the adjoint recursion  λ_K = ∇_θK J;  g_η += -α VJP_η(∇_θ L(θ_k), λ_{k+1});
 * λ_k = λ_{k+1} - α H_k λ_{k+1}, with Hessian-vector products through the agent (agent_loss.h)
 * and BPTT through the rule (rule.h). Plain SGD in the inner loop keeps it exact.
 *
 * The rule's inputs x_k = [r, d, γ, π_θk(a|s), φ(y_θk(s)), φ(y_θk(s'))]. By default (DESIGN.md
 * section 3) they are stop-gradient: stored at collection and used as constants. With
 * WindowParams.input_grad the meta-gradient also follows their dependence on θ_k, which depends
 * on η for k >= 1. Forward: window_replay recomputes π(a_t|s_t), y(s_t) and y(s_{t+1}) of update
 * k >= 1 from θ_k at the rollout's stored observations and actions (at the nominal η these equal
 * the collected values; under a perturbed η they follow θ_k). The inner update still treats the
 * rule's outputs o_k as constants of ∇_θ L. Backward: with
 * θ_{k+1} = θ_k - α D g(θ_k, o_k(η, x(θ_k))) the recursion gains one term,
 *     λ_k = λ_{k+1} - α H_k D λ_{k+1} + (∂x_k/∂θ_k)ᵀ (∂o_k/∂x_k)ᵀ u_k    (k >= 1),
 * u_k being the upstream gradient into the rule's outputs that the η part already builds (-α
 * times the mixed term along D λ_{k+1}, plus J's L2 terms on window k's outputs). (∂o/∂x)ᵀ is
 * rule_backward_log_inputs; (∂x/∂θ)ᵀ is the agent's backward pass from its logits at s_t
 * (π(a_t|s_t) and y_t) and at s_{t+1} (y'_t; rollout row t+1, the bootstrap row for the last
 * step). For tabular agents this path is the only way the y head reaches J: the π and y logits
 * of a state are disjoint parameters, so without it ŷ is trained by the L2/entropy terms alone.
 *
 * Tabular agents take a per-state mean step: θ_{k+1} = θ_k - α D_k ∇L(θ_k), D_k diagonal with
 * batch / visits(s) on the rows of state s (agent_per_state_mean), so a rarely visited state
 * learns as fast as a frequent one and α is a fraction of the way per update. D_k is a constant
 * of the data, so the recursion only changes to λ_k = λ_{k+1} - α H_k D_k λ_{k+1} and the mixed
 * term is taken along D_k λ_{k+1}. MLP agents use D = I.
 * All buffers of a window are allocated once by window_init; nothing here allocates after. */
#ifndef LPG_METAGRAD_H
#define LPG_METAGRAD_H

#include <stdint.h>

#include "agent.h"
#include "agent_loss.h"
#include "env.h"
#include "inner_update.h"
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
    int input_grad;              /* 1: the rule's inputs of updates k >= 1 follow θ_k (see above) */
} WindowParams;

typedef struct {
    int K, t_len, n, num_y;
    size_t num_params;             /* of the agent */
    Rollout rollout[WINDOW_MAX_K + 1];
    real *y, *y_next;              /* [K][t_len*n*num_y] the rule's y inputs, from collection;
                                    * with input_grad, those of k >= 1 are recomputed from θ_k */
    real *gamma;                   /* [n] */
    real *advantage;               /* [t_len*n] Â on rollout K */
    real *theta;                   /* [(K+1) x num_params] θ_0..θ_K */
    real *grad, *lambda, *hv;      /* [num_params] scratch */
    real *lambda_scaled;           /* [num_params] D λ, the per-state factors applied */
    real *dpi_hat;                 /* [t_len*n] */
    real *dy_hat, *dlog_y_hat;     /* [t_len*n*num_y] */
    real *pi_taken;                /* [K][t_len*n] π_θk(a_t|s_t) recomputed (input_grad) */
    real *d_pi_taken;              /* [t_len*n] ∂J/∂ of the rule's inputs (input_grad) */
    real *d_y, *d_y_next;          /* [t_len*n*num_y] */
    int64_t episodes_ended[WINDOW_MAX_K + 1]; /* per rollout, from window_collect */
    double returns_ended[WINDOW_MAX_K + 1];   /* the sum of those episodes' returns */
    void *mem;
} Window;

/* Allocates a window for an agent on an environment (K updates of t_len x n rollouts).
 * Returns 0, or -1 after reporting. Free with window_free. */
int window_init(Window *window, const EnvSpec *spec, const Agent *agent, int K, int t_len, int n);
void window_free(Window *window);

/* θ_k of the window (k = 0..K). */
real *window_theta(const Window *window, int k);

/* The window's forward: for k = 0..K-1 collects rollout k with θ_k from env (continuing its
 * episodes, actions drawn from rng) and takes the inner update to θ_{k+1}; then collects rollout
 * K with θ_K. Records per rollout the episodes that ended and the sum of their returns. The
 * advantage Â on rollout K is the caller's to fill (a critic's) before window_meta_gradient,
 * the backward. awork must hold batches of n. */
void window_collect(Window *window, EnvBatch *env, const Agent *agent, AgentWork *awork,
                    RuleWork *rwork, const real *eta, const RuleLayout *layout,
                    const WindowParams *params, Rng *rng);

/* The first part of J (the log π Â and entropy terms) at theta on rollout with advantage Â;
 * when dtheta is not NULL, ADDS its gradient wrt θ there. */
real meta_objective(const Agent *agent, AgentWork *awork, const real *theta,
                    const Rollout *rollout, const real *advantage, const WindowParams *params,
                    real *dtheta);

/* Re-runs the K updates from window_theta(window, 0) with the window's fixed data and returns J
 * (writing θ_1..θ_K into the window). What finite differences of J in η differentiate. With
 * params->input_grad the rule's inputs of updates k >= 1 are recomputed from θ_k (awork must
 * then hold (t_len+1)*n rows). */
double window_replay(Window *window, const Agent *agent, AgentWork *awork, RuleWork *rwork,
                     const real *eta, const RuleLayout *layout, const WindowParams *params);

/* Given θ_0..θ_K in the window (from collection or window_replay), returns J and ADDS dJ/dη to
 * d_eta [layout->count]. With params->input_grad, also through the rule's inputs (see above;
 * awork must then hold (t_len+1)*n rows). */
double window_meta_gradient(Window *window, const Agent *agent, AgentWork *awork,
                            RuleWork *rwork, const real *eta, const RuleLayout *layout,
                            const WindowParams *params, real *d_eta);

#endif
