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

/* Fills y and y_next [t_len*n*num_y] with softmax of the y logits rollout recorded at s_t and
 * s_{t+1} (a y_raw rule: the logits themselves), and points in at them, at gamma [n] and at
 * rollout's rewards, dones and π(a|s). For an LPG-V rule y and y_next are not used (they may
 * be NULL) and in reads the values v(s_t) from value [(t_len+1)*n] (v(s_{t+1}) from value + n);
 * value is not read for the other kinds. */
void rule_input_from_rollout(const Agent *agent, const RuleLayout *layout, const Rollout *rollout,
                             const real *gamma, real *y, real *y_next, const real *value,
                             RuleInput *in);

/* The LPG loss input of rollout's t_len*n rows from the rule's outputs in rwork (the mean over
 * rows: scale 1/(t_len*n); the loss's form follows the rule's kind). Points into rollout and
 * rwork. */
LpgLossInput inner_loss_input(const Rollout *rollout, const RuleWork *rwork, real alpha_y);

/* One inner update: runs the rule on in (t_len x n steps of rollout), then
 * theta_next = theta - alpha_lr D ∇_θ L(theta; η) (D: per-state factors of a tabular agent,
 * the identity for an MLP) using grad [num_params] as scratch.
 * Returns the loss L. theta_next may equal theta. */
real inner_update(const Agent *agent, AgentWork *awork, RuleWork *rwork, const real *eta,
                  const RuleLayout *layout, const Rollout *rollout, const RuleInput *in,
                  real alpha_lr, real alpha_y, const real *theta, real *theta_next, real *grad);

#endif
