/* gradcheck.h: the exact meta-gradient dJ/dη (metagrad.h) against central finite differences of
 * J, on the setup a meta-train config describes: what `lpg gradcheck` runs on each environment.
 *
 * One check collects one window as meta-training does (K rollouts each followed by an inner
 * update, rollout K with θ_K, the critic trained on all K+1 rollouts and Â from the last), then
 * compares window_meta_gradient (with the config's input_grad: through the rule's inputs too,
 * and window_replay then recomputes them from θ_k) with the fourth-order stencil
 *     (8 (J(η + h e_i) - J(η - h e_i)) - (J(η + 2h e_i) - J(η - 2h e_i))) / 12h
 * of window_replay on a sample of coordinates i of every parameter group of η (rule.h). The error
 * of a coordinate is |g - fd| / max(|g|, |fd|, floor), floor = the larger of floor_ratio x
 * max_i |g_i| and roundoff_ratio x ε |J| / h: tiny coordinates are judged against the floor,
 * where their differences are round-off, not signal.
 * A coordinate that fails at h is retried at 4h, h/10 and h/100 and judged by its best step:
 * round-off shrinks with a larger step, and a relu kink of the MLP agent that falls inside the
 * stencil is stepped over by a smaller one.
 * Precision: the check runs in `real`. In double (build/lpg-double) it is exact to 1e-6; in float
 * (build/lpg) J itself carries round-off of about 1e-8 absolute, so the step is larger, the
 * floor higher and the threshold looser (see gradcheck_default_options). When the round-off
 * floor exceeds every |g_i|, float cannot resolve the gradient at all (result->resolved = 0). */
#ifndef LPG_GRADCHECK_H
#define LPG_GRADCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "env.h"
#include "meta_config.h"

typedef struct {
    int copies, unroll;  /* each rollout of the window: copies x unroll steps */
    int samples;         /* coordinates checked per group (all of a smaller group) */
    double step;         /* h of the stencil */
    double floor_ratio;  /* floor >= floor_ratio x the largest |dJ/dη_i| */
    double roundoff_ratio; /* floor >= roundoff_ratio x ε |J| / h (ε of real): round-off */
    double threshold;    /* a group passes when its worst error is below this */
} GradcheckOptions;

typedef struct {
    const char *name;    /* rule_group_names[g] */
    size_t size;         /* reals in the group */
    int checked;         /* coordinates compared */
    int retried;         /* of which failed at h and were retried at 4h, h/10, h/100 */
    double worst;        /* worst relative error among them (infinity if one was not finite) */
} GradcheckGroup;

typedef struct {
    AgentKind kind;
    size_t agent_params, rule_params;
    double alpha_lr, alpha_y;
    int adam;                    /* the agent's inner step is Adam (inner_optimizer) */
    double J, max_grad;  /* J of the window and the largest |dJ/dη_i| */
    double roundoff_floor; /* roundoff_ratio x ε |J| / h */
    double floor;        /* the error floor used: the larger of the two */
    int passed;          /* every group below the threshold */
    int resolved;        /* some |g_i| is above the round-off floor (else the check is void) */
    GradcheckGroup group[RULE_GROUPS];
} GradcheckResult;

/* Options for the precision real has here: double: h = 2e-3, floor ratio 1e-3, threshold 1e-6;
 * float: h = 3e-2, floor ratio 0.1, threshold 1e-2. Both: round-off ratio 100, 4 copies x 8
 * steps, 12 coordinates per group. */
void gradcheck_default_options(GradcheckOptions *options);

/* Runs the check on env with config's agent (mlp_hidden, num_y = 30, no value head), rule
 * (rule_hidden), K, betas, input_grad, critic (critic_lr, gae_lambda), α_lr = the first of the
 * bandit's lrs for the agent's kind and α_y = the first alpha_ys; all randomness from seed.
 * Fills result; returns 0, or -1 after reporting (allocation or setup failure). */
int gradcheck_env(const MetaConfig *config, const EnvSpec *env, const GradcheckOptions *options,
                  uint64_t seed, GradcheckResult *result);

#endif
