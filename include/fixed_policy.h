/* fixed_policy.h: one instance of the analyses (analyse.h): a tabular grid, the ε-greedy policy
 * on its optimal values (grid_mdp.h) written into tabular agents as their action logits, and
 * y updated by a rule while the policy stays fixed.
 *
 * With copies_of_y = 2 there are two agents with the same policy and differently drawn y; both
 * learn from the same rollouts (collected with the first; the policies are identical, so the
 * trajectories are as likely under either). An update is inner_update (Eq. 2) followed by
 * restoring the action logits: a tabular agent's action and y logits are separate parameters,
 * so that is exactly an update of y alone. */
#ifndef LPG_FIXED_POLICY_H
#define LPG_FIXED_POLICY_H

#include <stdint.h>

#include "agent.h"
#include "analyse.h"
#include "env.h"
#include "grid_mdp.h"
#include "rollout.h"
#include "rule.h"

typedef struct {
    EnvSpec spec;            /* the grid run: the file's, or the layout drawn for this instance */
    EnvBatch env;
    GridMdp mdp;
    double *v_opt;           /* [states] optimal values at gamma */
    double *policy;          /* [states x A] the fixed policy */
    real *log_policy;        /* [states x A] its logits */
    Agent agent;
    AgentWork work;
    Rollout rollout;
    int copies_of_y;         /* 1 or 2 */
    real *theta[2];          /* [num_params] agents: the policy's logits, their own y logits */
    RuleWork *rwork;
    real *pi_taken, *gammas, *grad; /* [T*n], [n], [num_params] */
    int64_t *visits;         /* [states] rollout steps at each state, over every collect */
    Rng rng;
} FixedPolicyRun;

/* Sets up instance `seed` of the config's environment (file_spec: loaded from config->env; a
 * procedural grid draws its layout from the seed): model, value iteration at config->gamma,
 * the policy, copies_of_y agents with y logits drawn with config->init_std, the rollout and the
 * rule's buffers for layout. Returns 0, or -1 after reporting; free with fixed_policy_free (safe
 * on a zeroed run). */
int fixed_policy_init(FixedPolicyRun *run, const EnvSpec *file_spec, const AnalyseConfig *config,
                      const RuleLayout *layout, uint64_t seed, int copies_of_y);
void fixed_policy_free(FixedPolicyRun *run);

/* Collects one rollout with the fixed policy and counts its states in visits. */
void fixed_policy_collect(FixedPolicyRun *run);

/* Updates the y of agent k (0 or 1) with the rule on the last rollout. */
void fixed_policy_update_y(FixedPolicyRun *run, int k, const real *eta, const RuleLayout *layout,
                           const AnalyseConfig *config);

/* Agent k's y logits at state s (num_y of them, inside theta[k]). */
const real *fixed_policy_y_logits(const FixedPolicyRun *run, int k, int state);

/* Mean over the last rollout's T*n steps of KL(y_0(s) ‖ y_1(s)) (needs copies_of_y = 2). */
double fixed_policy_rollout_kl(const FixedPolicyRun *run);

#endif
