/* critic.h: the value function behind the meta-objective's advantage Â (docs/method.md §5).
 *
 * A value-only network (agent.h with no action or y outputs and one value output): tabular where
 * the environment observes a state index, an MLP otherwise. It is trained alongside the agent,
 * for the meta-objective only: on each rollout, V of every row, GAE(γ, λ) advantages from those
 * values (Â for J), then one SGD step on the mean ½(V(s_t) - G^λ_t)² with the λ-returns G^λ as
 * fixed targets. It never enters the agent's LPG update. All buffers are allocated by critic_init,
 * for rollouts of exactly t_len x n. */
#ifndef LPG_CRITIC_H
#define LPG_CRITIC_H

#include "agent.h"
#include "env.h"
#include "real.h"
#include "rng.h"
#include "rollout.h"

typedef struct {
    Agent net;       /* num_actions = num_y = 0, has_value = 1: num_outputs = 1 */
    AgentWork work;  /* batches of (t_len+1)*n */
    int t_len, n;
    real *params;    /* [net.num_params] */
    real *grad;      /* [net.num_params] gradient of the last loss */
    real *value;     /* [(t_len+1)*n] V of every observation row of the last rollout seen */
    real *target;    /* [t_len*n] λ-returns of the last critic_update */
    int32_t *visits; /* tabular: [num_states] visits per state in the current update */
    void *mem;
} Critic;

/* Sets up a value-only network for env (the agent agent_spec_for_env makes: hidden widths
 * hidden[0..num_hidden), after conv_filters filters where env observes images and
 * conv_filters > 0), draws its initial parameters from rng (a tabular critic starts at zero)
 * and allocates everything for rollouts of t_len x n. Returns 0, or -1 after reporting; free
 * with critic_free (safe on a zeroed Critic). */
int critic_init(Critic *c, const EnvSpec *env, int conv_filters, const int *hidden,
                int num_hidden, int t_len, int n, Rng *rng);
void critic_free(Critic *c);

/* The bytes critic_init allocates for those sizes (0 if the network cannot be made). */
size_t critic_bytes(const EnvSpec *env, int conv_filters, const int *hidden, int num_hidden,
                    int t_len, int n);

/* On rollout r: V for all t_len+1 rows into c->value, GAE(γ, λ) advantages into advantage
 * [t_len*n] and λ-returns into c->target, then one SGD step of size lr on the mean
 * ½(V - λ-return)² over the t_len*n steps; a tabular critic averages each state's gradient over
 * that state's own visits instead (V(s) moves the fraction lr towards its mean target; lr in
 * (0, 1]). Returns that loss, measured before the step. */
double critic_update(Critic *c, const Rollout *r, real gamma, real lambda, real lr,
                     real *advantage);

/* The value loss mean_b ½(V_params(s_b) - target_b)² over the first t_len*n rows of r (targets
 * held fixed); writes its gradient into grad [net.num_params] when grad is not NULL. Leaves V
 * of all rows in c->value. What critic_update descends, exposed for gradient checks. */
double critic_loss(Critic *c, const real *params, const Rollout *r, const real *target,
                   real *grad);

#endif
