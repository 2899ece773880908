/* inner_update.h: one step of an agent with a rule η (docs/method.md, "The agent's update"):
 * the rule's input read from a rollout, and θ' = θ - α_lr D ∇_θ L(θ; η) on the LPG loss (Eq. 2).
 * `lpg train` uses it alone; the meta-gradient (metagrad.h) runs it K times per window.
 * Nothing here allocates: the caller owns every buffer. */
#ifndef LPG_INNER_UPDATE_H
#define LPG_INNER_UPDATE_H

#include "agent.h"
#include "agent_loss.h"
#include "real.h"
#include "rollout.h"
#include "rule.h"

/* The rule's input for rollout under θ: runs the agent at theta on the rollout's (t_len+1)*n
 * observations (awork must hold that many rows) and takes the softmaxes of its outputs once
 * (agent_softmax); writes π_θ(a_t|s_t) to pi_taken [t_len*n] (unless NULL) and points in at it,
 * at the y of s_t and s_{t+1} in awork, at gamma [n] and at rollout's rewards and dones. The
 * forward pass and the softmaxes stay in awork for inner_update and the meta-gradient, so in is
 * valid until the next agent_softmax on awork. The rule's kind (layout) decides what y is: for a
 * y_raw rule the y logits themselves, written over awork->y (the loss of such a rule does not
 * read the softmax of y); an LPG-V rule reads no y but the values v(s_t) in value [(t_len+1)*n]
 * (v(s_{t+1}) from value + n), which are not read for the other kinds. */
void rule_input_at(const Agent *agent, const RuleLayout *layout, AgentWork *awork,
                   const real *theta, const Rollout *rollout, const real *gamma,
                   const real *value, real *pi_taken, RuleInput *in);

/* The LPG loss input of rollout's t_len*n rows from the rule's outputs in rwork (the mean over
 * rows: scale 1/(t_len*n); the loss's form follows the rule's kind). Points into rollout and
 * rwork. */
LpgLossInput inner_loss_input(const Rollout *rollout, const RuleWork *rwork, real alpha_y);

/* One inner update: runs the rule on in (from rule_input_at on awork at theta, nothing else run
 * on awork since), then
 * theta_next = theta - alpha_lr D ∇_θ L(theta; η) (D: per-state factors of a tabular agent,
 * the identity for an MLP) using grad [num_params] as scratch (only the parameters the batch
 * touches are written, agent_touched).
 * Returns the loss L. theta_next may equal theta. */
real inner_update(const Agent *agent, AgentWork *awork, RuleWork *rwork, const real *eta,
                  const RuleLayout *layout, const Rollout *rollout, const RuleInput *in,
                  real alpha_lr, real alpha_y, const real *theta, real *theta_next, real *grad);

#endif
