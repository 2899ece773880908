/* agent_loss.h: the agent's LPG loss (docs/method.md §4, Eq. 2) and its first and second derivatives.
 *
 * Per sample b, with π = softmax(action logits l), q = softmax(y logits u) and the rule's
 * outputs π̂ (a scalar) and ŷ (a distribution, given as log ŷ as rule.h provides it):
 *     L_b = -π̂ log π(a) + α_y KL(q || ŷ),    KL(q || ŷ) = Σ_j q_j (log q_j - log ŷ_j)
 *     ∂L_b/∂l = π̂ (π - e_a)                   ∂L_b/∂u = α_y q ⊙ (r - KL),  r = log q - log ŷ
 *     ∇²_l L_b δl = π̂ π ⊙ (δl - π·δl)
 *     ∇²_u L_b δu = α_y q ⊙ [(δu - q·δu) ⊙ (r - KL + 1) - δKL],  δKL = ∂L_b/∂u · δu / α_y
 * The loss of a batch is scale * Σ_b L_b (scale = 1/B for the mean); the value output, if any,
 * gets zero gradient. The meta-gradient also needs the "mixed" derivatives: of the directional
 * derivative ⟨∇_out L_b, δout⟩ with respect to the rule's outputs,
 *     ∂/∂π̂ = -c,  c = δl_a - π·δl (the tangent of log π(a)),
 *     ∂/∂log ŷ = -α_y δq,  δq = q ⊙ (δu - q·δu) (the tangent of y).
 * With y_raw (a rule without softmax on y, rule.h) the prediction term is instead the mean
 * squared error over the m entries (y is the raw output u itself, and log_y_hat holds ŷ):
 *     (α_y / 2m) ‖u - ŷ‖²,  ∂/∂u = (α_y/m) (u - ŷ),  ∇²_u δu = (α_y/m) δu,
 *     mixed ∂/∂ŷ = -(α_y/m) δu
 * (q is not read then). The mean, not the sum, keeps its curvature (α_y/m) near the KL's at a
 * spread-out y (about α_y/m too), so that the bandit's α_lr x α_y grid stays stable: with the
 * sum, a tabular agent's per-state step of α_lr α_y >= 2 overshoots and diverges.
 * Nothing here allocates; the batch versions work on rows laid out as agent.h describes. */
#ifndef LPG_AGENT_LOSS_H
#define LPG_AGENT_LOSS_H

#include <stdint.h>

#include "agent.h"
#include "real.h"

/* What the update rule says about a batch of B agent steps, in the same row order as the
 * agent's outputs (e.g. time-major t*n + i, as rule.h). Not owned. */
typedef struct {
    const int32_t *action;  /* [B] the action taken */
    const real *pi_hat;     /* [B] π̂ */
    const real *log_y_hat;  /* [B x num_y] log ŷ; may be NULL when the agent has num_y == 0 */
    real alpha_y;           /* weight of the KL term */
    real scale;             /* the loss is scale * Σ_b L_b */
    int y_raw;              /* 1: (1/2m)‖u - ŷ‖² in place of the KL, log_y_hat holds ŷ */
} LpgLossInput;

/* One row of agent outputs with its softmaxes (agent_softmax computes them once for a batch). */
typedef struct {
    const real *logits, *pi; /* action logits l [A] and π = softmax(l) */
    real lse_pi;             /* log Σ_j exp(l_j) */
    const real *u, *q;       /* y logits u [m] and q = softmax(u); unused when m == 0 */
    real lse_y;              /* log Σ_j exp(u_j) */
} OutputRow;

/* Row b of work->out with the softmaxes agent_softmax left in work. */
OutputRow output_row(const Agent *agent, const AgentWork *work, int b);

/* ---- one sample ----------------------------------------------------------------------- */

/* Returns L_b and writes its gradient: dlogits [num_actions], dy_logits [num_y] (num_y may be
 * 0, then the y part of o, log_y_hat and dy_logits are not read). */
real lpg_loss_sample(const OutputRow *o, int num_actions, int action, real pi_hat,
                     const real *log_y_hat, int num_y, real alpha_y, real *dlogits,
                     real *dy_logits);

/* Writes the Hessian of L_b (wrt the logits) times the tangents: h_logits [num_actions] =
 * ∇²_l L_b · logits_tangent, h_y_logits [num_y] = ∇²_u L_b · y_logits_tangent. */
void lpg_loss_sample_hvp(const OutputRow *o, const real *logits_tangent,
                         const real *y_logits_tangent, int num_actions, real pi_hat,
                         const real *log_y_hat, int num_y, real alpha_y, real *h_logits,
                         real *h_y_logits);

/* The mixed derivatives (see the file comment), times scale: returns scale * ∂⟨∇L_b, δout⟩/∂π̂
 * = -scale * c and ADDS scale * ∂⟨∇L_b, δout⟩/∂log ŷ = -scale * α_y δq to dlog_y_hat [num_y]. */
real lpg_loss_sample_mixed(const OutputRow *o, const real *logits_tangent,
                           const real *y_logits_tangent, int num_actions, int action, int num_y,
                           real alpha_y, real scale, real *dlog_y_hat);

/* ---- a batch of agent outputs --------------------------------------------------------- */

/* The batch functions read the outputs in work->out and their softmaxes (agent_softmax must have
 * run over at least batch rows). */

/* Returns scale * Σ_b L_b and writes its gradient wrt the outputs to dout [batch x num_outputs]. */
real lpg_loss_batch(const Agent *agent, const LpgLossInput *in, const AgentWork *work, int batch,
                    real *dout);

/* ADDS scale * the mixed derivatives of each row, along work->out_tangent, to dpi_hat [batch]
 * and dlog_y_hat [batch x num_y] (not touched when num_y == 0; y_raw: the derivative wrt ŷ),
 * ready for rule_backward. */
void lpg_loss_batch_mixed(const Agent *agent, const LpgLossInput *in, const AgentWork *work,
                          int batch, real *dpi_hat, real *dlog_y_hat);

/* ---- through the agent network -------------------------------------------------------- */

/* Returns the loss at θ and ADDS its gradient to dtheta [num_params]. Uses work->out and
 * work->dout (left holding the outputs and ∂L/∂out) and the softmax buffers. */
real lpg_loss_gradient(const Agent *agent, AgentWork *work, const real *theta, AgentObs obs,
                       int batch, const LpgLossInput *in, real *dtheta);

/* As lpg_loss_gradient after agent_forward at θ over these observations (batch or more rows) and
 * agent_softmax over batch rows or more have run on work: no forward pass, no softmax. */
real lpg_loss_backward(const Agent *agent, AgentWork *work, const real *theta, AgentObs obs,
                       int batch, const LpgLossInput *in, real *dtheta);

/* Returns the loss at θ and ADDS the Hessian-vector product ∇²_θ L · v to hv [num_params].
 * Leaves in work: out (outputs), dout (∂L/∂out), out_tangent (δout = J v, what
 * lpg_loss_batch_mixed needs) and dout_tangent (∇²_out L · δout). */
real lpg_loss_hvp(const Agent *agent, AgentWork *work, const real *theta, AgentObs obs,
                  int batch, const LpgLossInput *in, const real *v, real *hv);

/* As lpg_loss_hvp without the loss, after agent_forward and agent_softmax as for
 * lpg_loss_backward: work->out_tangent and dout_tangent are left the same, and work->dout too
 * for an MLP; a tabular agent's Hessian does not read the loss's gradient, so for it dout is not
 * computed (the meta-gradient's inner loop, where this is the cost). */
void lpg_loss_hvp_after_forward(const Agent *agent, AgentWork *work, const real *theta,
                                AgentObs obs, int batch, const LpgLossInput *in, const real *v,
                                real *hv);

#endif
