/* inner_update.h: one step of an agent with a rule η (docs/method.md, "The agent's update"):
 * the rule's input read from a rollout, and θ' = θ - α_lr D ∇_θ L(θ; η) on the LPG loss (Eq. 2),
 * or, for an MLP agent with inner_optimizer "adam", an Adam step on ∇_θ L.
 * `lpg train` uses it alone; the meta-gradient (metagrad.h) runs it K times per window.
 * Nothing here allocates: the caller owns every buffer. */
#ifndef LPG_INNER_UPDATE_H
#define LPG_INNER_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "agent_loss.h"
#include "real.h"
#include "rollout.h"
#include "rule.h"

/* The inner step of an agent that is not tabular (config key inner_optimizer): plain SGD, or
 * Adam on ∇_θ L. Tabular agents always take the per-state mean SGD step. */
typedef enum { INNER_SGD, INNER_ADAM } InnerOptimizer;
extern const char *const inner_optimizer_names[]; /* "sgd", "adam", NULL: the key inner_optimizer */
_Static_assert(sizeof(InnerOptimizer) == sizeof(int), "a config stores it as an int");

/* Adam's constants in the inner step (those of A2C's Adam). */
#define INNER_ADAM_BETA1 0.9
#define INNER_ADAM_BETA2 0.999
#define INNER_ADAM_EPS 1e-5

/* Parses "sgd" or "adam", the value of key `inner_optimizer` in where. Returns 0, or -1 after
 * reporting. */
int inner_optimizer_parse(const char *name, InnerOptimizer *optimizer, const char *where);

/* The optimizer an agent of this kind takes under the configured one: SGD for tabular agents. */
InnerOptimizer inner_optimizer_for(const Agent *agent, InnerOptimizer configured);

/* Adam's moments around one inner step: m, v before it, m_next, v_next after it (may be the
 * same arrays), and the step's number in the agent's life, from 1 (for the bias corrections). */
typedef struct {
    const real *m, *v;
    real *m_next, *v_next;
    int64_t step;
} InnerAdam;

/* One Adam step on n parameters from the gradient g: m' = β1 m + (1-β1) g,
 * v' = β2 v + (1-β2) g², theta_next = theta - alpha m̂/(√v̂ + ε) with m̂ = m'/(1-β1^step) and
 * v̂ = v'/(1-β2^step). theta_next may equal theta. */
void inner_adam_step(const InnerAdam *adam, size_t n, real alpha, const real *g, const real *theta,
                     real *theta_next);

/* The adjoint of inner_adam_step, from its moments after the step (adam->m_next, v_next) and g.
 * Given lambda_theta = ∂J/∂theta_next and lambda_m, lambda_v = ∂J/∂m_next, ∂J/∂v_next through
 * later steps, writes lambda_g = ∂J/∂g and overwrites lambda_m, lambda_v with ∂J/∂m, ∂J/∂v of
 * the moments before the step. (∂J/∂theta through theta_next alone is lambda_theta itself.)
 * Where v_next is 0, g was 0 and its share through v_next is taken as 0. */
void inner_adam_backward(const InnerAdam *adam, size_t n, real alpha, const real *g,
                         const real *lambda_theta, real *lambda_m, real *lambda_v,
                         real *lambda_g);

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
 * on awork since), then with adam NULL
 * theta_next = theta - alpha_lr D ∇_θ L(theta; η) (D: per-state factors of a tabular agent,
 * the identity for an MLP) using grad [num_params] as scratch (only the parameters the batch
 * touches are written, agent_touched); with adam (agents that are not tabular) the Adam step
 * inner_adam_step from ∇_θ L(theta; η), which is left in grad.
 * Returns the loss L. theta_next may equal theta. */
real inner_update(const Agent *agent, AgentWork *awork, RuleWork *rwork, const real *eta,
                  const RuleLayout *layout, const Rollout *rollout, const RuleInput *in,
                  const InnerAdam *adam, real alpha_lr, real alpha_y, const real *theta,
                  real *theta_next, real *grad);

#endif
