/* metagrad.h: one window of K inner updates and its exact meta-gradient dJ/dη
 * (docs/method.md §5-6: the meta-objective J, the adjoint recursion, the per-state factors D and
 * input_grad). window_collect is the forward, window_meta_gradient the backward; window_replay
 * re-runs the forward from θ_0 for finite differences.
 * A Window owns every buffer of one lifetime's window, allocated once by window_init (one block,
 * buffers.h); nothing here allocates after. Rows are time-major, t*n + i, as in rollout.h. */
#ifndef LPG_METAGRAD_H
#define LPG_METAGRAD_H

#include <stdint.h>

#include "agent.h"
#include "agent_loss.h"
#include "critic.h"
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
    int input_grad;              /* 1: the rule's inputs of updates k >= 1 follow θ_k (§6) */
    real critic_lr, critic_lambda; /* the critic's step and λ (critic_update), when there is one */
} WindowParams;

typedef struct {
    int K, t_len, n, num_y;
    size_t num_params;             /* of the agent */
    Rollout rollout[WINDOW_MAX_K + 1];
    real *pi, *y;                  /* [K][(t_len+1)*n x A], [K][(t_len+1)*n x num_y] and */
    real *lse_pi, *lse_y;          /* [K][(t_len+1)*n]: agent_softmax at θ_k on rollout k, as
                                    * collected (the backward's softmaxes; y holds the rule's y
                                    * inputs) */
    real *value;                   /* LPG-V (an agent without y): [K][(t_len+1)*n] the critic's
                                    * V at every observation of rollout k, before its step on it:
                                    * the rule's value inputs */
    real *gamma;                   /* [n] */
    real *advantage;               /* [t_len*n] Â on rollout K */
    real *theta;                   /* [(K+1) x num_params] θ_0..θ_K */
    real *grad, *lambda, *hv;      /* [num_params] scratch */
    real *lambda_scaled;           /* [num_params] D λ, the per-state factors applied (only on
                                    * the parameters update k touches, agent_touched) */
    real *dpi_hat;                 /* [t_len*n] */
    real *dlog_y_hat;              /* [t_len*n*num_y] */
    real *pi_taken;                /* [K][t_len*n] π_θk(a_t|s_t) as collected */
    real *replay_pi_taken;         /* [t_len*n] window_replay's, where the inputs follow θ_k */
    real *d_pi_taken;              /* [t_len*n] ∂J/∂ of the rule's inputs (input_grad) */
    real *d_y, *d_y_next;          /* [t_len*n*num_y] */
    int adam;                      /* 1: the inner step is Adam (window_init's optimizer) */
    int64_t updates;               /* Adam: the agent's updates before θ_0 (bias corrections);
                                    * the caller's to set before window_collect; also
                                    * the lifetime inputs' n at θ_0 */
    int64_t length;                /* the life's length N in updates (lifetime inputs); the
                                    * caller's to set before window_collect */
    real *m, *v;                   /* Adam: [(K+1) x num_params] the moments m_0..m_K, v_0..v_K;
                                    * m_0, v_0 (the state at the window's start) are constants of
                                    * its meta-gradient, like θ_0 */
    real *g;                       /* Adam: [K x num_params] ∇_θ L(θ_k; η) of update k */
    real *lambda_m, *lambda_v;     /* Adam: [num_params] the adjoints of m_k and v_k */
    int64_t episodes_ended[WINDOW_MAX_K + 1]; /* per rollout, from window_collect */
    double returns_ended[WINDOW_MAX_K + 1];   /* the sum of those episodes' returns */
    double critic_loss;            /* the critic's loss on rollout K (window_collect) */
    void *mem;
} Window;

/* Allocates a window for an agent on an environment (K updates of t_len x n rollouts) whose
 * inner step is optimizer (Adam: not for a tabular agent; its moments start at zero). The agent
 * has RULE_Y_DIM y outputs (LPG rules), or none (LPG-V rules: the window then keeps the critic's
 * values as the rule's inputs). Returns 0, or -1 after reporting. Free with window_free. */
int window_init(Window *window, const EnvSpec *spec, const Agent *agent, int K, int t_len, int n,
                InnerOptimizer optimizer);
void window_free(Window *window);

/* The bytes window_init allocates for those sizes, its K + 1 rollouts included. */
size_t window_bytes(const EnvSpec *spec, const Agent *agent, int K, int t_len, int n,
                    InnerOptimizer optimizer);

/* θ_k of the window (k = 0..K). */
real *window_theta(const Window *window, int k);

/* Adam's m_k and v_k (k = 0..K), NULL when the inner step is SGD. */
real *window_m(const Window *window, int k);
real *window_v(const Window *window, int k);

/* Makes θ_K (and Adam's m_K, v_K) the next window's θ_0 (m_0, v_0) and counts the K updates. */
void window_advance(Window *window);

/* The window's forward: for k = 0..K-1 collects rollout k with θ_k from env (continuing its
 * episodes, actions drawn from rng), trains critic on it (critic_update with params' critic_lr
 * and critic_lambda; an LPG-V rule reads the critic's values from before that step) and takes
 * the inner update to θ_{k+1}; then collects rollout K with θ_K and trains critic on it, which
 * leaves Â on rollout K (from before that step) in window->advantage. Records per rollout the
 * episodes that ended and the sum of their returns. critic may be NULL for an LPG rule: Â is
 * then the caller's to fill before window_meta_gradient, the backward. The critic never depends
 * on η. awork must hold (t_len+1)*n rows. */
void window_collect(Window *window, EnvBatch *env, const Agent *agent, AgentWork *awork,
                    RuleWork *rwork, const real *eta, const RuleLayout *layout,
                    const WindowParams *params, Critic *critic, Rng *rng);

/* Re-runs the K updates from window_theta(window, 0) with the window's fixed data and returns J
 * (writing θ_1..θ_K into the window). What finite differences of J in η differentiate. With
 * params->input_grad the rule's inputs of updates k >= 1 are recomputed from θ_k, else they stay
 * as collected. awork must hold (t_len+1)*n rows. */
double window_replay(Window *window, const Agent *agent, AgentWork *awork, RuleWork *rwork,
                     const real *eta, const RuleLayout *layout, const WindowParams *params);

/* Given θ_0..θ_K as window_collect left them (window_replay at the η of collection gives the
 * same; the agent's softmaxes kept from collection are reused), returns J and ADDS dJ/dη to
 * d_eta [layout->count]. With params->input_grad, also through the rule's inputs
 * (docs/method.md §6). awork must hold (t_len+1)*n rows. */
double window_meta_gradient(Window *window, const Agent *agent, AgentWork *awork,
                            RuleWork *rwork, const real *eta, const RuleLayout *layout,
                            const WindowParams *params, real *d_eta);

#endif
