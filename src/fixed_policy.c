/* fixed_policy.c: an analysis instance, a fixed policy whose y the rule updates (see
 * fixed_policy.h). */
#include "fixed_policy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "inner_update.h"
#include "softmax.h"
#include "util.h"

#define VI_MAX_SWEEPS 1000000

/* The grid of this instance: the file's, or a layout drawn from the procedural ranges. */
static int instance_spec(EnvSpec *spec, const EnvSpec *file_spec, const AnalyseConfig *c,
                         Rng *rng)
{
    if (file_spec->kind == ENV_PROCEDURAL_GRID) {
        uint64_t layout_seed = ((uint64_t)rng_u32(rng) << 32) | rng_u32(rng);
        env_draw_layout(file_spec, layout_seed, spec);
    } else if (file_spec->kind == ENV_TABULAR_GRID) {
        *spec = *file_spec;
    } else {
        return lpg_error("%s: key 'env': the analyses need a tabular_grid or procedural_grid, "
                         "got %s", file_spec->path, env_kind_name(file_spec->kind));
    }
    spec->gamma = c->gamma;
    if (c->random_start)
        spec->start_cell = -1;
    return 0;
}

/* Value iteration, the ε-greedy policy and its logits. */
static int solve_policy(FixedPolicyRun *run, const AnalyseConfig *c)
{
    GridMdp *mdp = &run->mdp;
    size_t sa = (size_t)mdp->states * mdp->actions;
    run->v_opt = lpg_calloc((size_t)mdp->states, sizeof *run->v_opt, "optimal values");
    run->policy = lpg_calloc(sa, sizeof *run->policy, "fixed policy");
    run->log_policy = lpg_calloc(sa, sizeof *run->log_policy, "fixed policy logits");
    if (!run->v_opt || !run->policy || !run->log_policy ||
        grid_mdp_optimal(mdp, c->vi_tol, VI_MAX_SWEEPS, run->v_opt) < 0)
        return -1;
    grid_mdp_epsilon_greedy(mdp, run->v_opt, c->epsilon, run->policy);
    for (size_t k = 0; k < sa; k++)
        run->log_policy[k] = (real)log(run->policy[k]);
    return 0;
}

/* Agent k: y logits drawn with init_std, action logits the policy's. */
static void init_agent(FixedPolicyRun *run, int k, double init_std)
{
    const Agent *agent = &run->agent;
    real *theta = run->theta[k];
    for (size_t j = 0; j < agent->num_params; j++)
        theta[j] = init_std > 0 ? (real)(init_std * rng_normal(&run->rng)) : 0;
    for (int s = 0; s < run->mdp.states; s++)
        memcpy(theta + (size_t)s * agent->num_outputs, run->log_policy + (size_t)s * agent->num_actions,
               (size_t)agent->num_actions * sizeof(real));
}

static int alloc_buffers(FixedPolicyRun *run, const AnalyseConfig *c, const RuleLayout *layout)
{
    size_t rows = (size_t)c->unroll * c->copies, params = run->agent.num_params;
    for (int k = 0; k < run->copies_of_y; k++)
        if (!(run->theta[k] = lpg_calloc(params, sizeof(real), "agent parameters")))
            return -1;
    run->rwork = rule_work_create(layout, c->copies, c->unroll);
    run->pi_taken = lpg_calloc(rows, sizeof(real), "rule inputs");
    run->gammas = lpg_calloc((size_t)c->copies, sizeof(real), "discounts");
    run->grad = lpg_calloc(params, sizeof(real), "agent gradient");
    run->visits = lpg_calloc((size_t)run->spec.num_states, sizeof(int64_t), "visit counts");
    if (!run->rwork || !run->pi_taken || !run->gammas || !run->grad || !run->visits)
        return -1;
    for (int i = 0; i < c->copies; i++)
        run->gammas[i] = (real)c->gamma;
    return 0;
}

int fixed_policy_init(FixedPolicyRun *run, const EnvSpec *file_spec, const AnalyseConfig *c,
                      const RuleLayout *layout, uint64_t seed, int copies_of_y)
{
    memset(run, 0, sizeof *run);
    run->copies_of_y = copies_of_y;
    rng_seed(&run->rng, seed, RNG_STREAM_ANALYSE);
    if (instance_spec(&run->spec, file_spec, c, &run->rng))
        return -1;
    uint64_t env_seed = ((uint64_t)rng_u32(&run->rng) << 32) | rng_u32(&run->rng);
    AgentSpec as;
    if (env_batch_init(&run->env, &run->spec, c->copies, env_seed) ||
        grid_mdp_init(&run->mdp, &run->env, c->gamma) || solve_policy(run, c) ||
        agent_spec_for_env(&as, &run->spec, 0, NULL, 0, RULE_Y_DIM, 0) ||
        agent_setup(&run->agent, &as) ||
        agent_work_init(&run->work, &run->agent, (c->unroll + 1) * c->copies) ||
        rollout_init(&run->rollout, &run->spec, &run->agent, c->unroll, c->copies) ||
        alloc_buffers(run, c, layout))
        return -1;
    for (int k = 0; k < copies_of_y; k++)
        init_agent(run, k, c->init_std);
    return 0;
}

void fixed_policy_free(FixedPolicyRun *run)
{
    free(run->v_opt);
    free(run->policy);
    free(run->log_policy);
    for (int k = 0; k < 2; k++)
        free(run->theta[k]);
    rule_work_free(run->rwork);
    free(run->pi_taken);
    free(run->gammas);
    free(run->grad);
    free(run->visits);
    rollout_free(&run->rollout);
    agent_work_free(&run->work);
    env_batch_free(&run->env);
    memset(run, 0, sizeof *run);
}

void fixed_policy_collect(FixedPolicyRun *run)
{
    Rollout *r = &run->rollout;
    rollout_collect(r, &run->env, &run->agent, &run->work, run->theta[0], &run->rng);
    for (int row = 0; row < r->t_len * r->n; row++)
        run->visits[r->obs_index[row]]++;
}

void fixed_policy_update_y(FixedPolicyRun *run, int k, const real *eta, const RuleLayout *layout,
                           const AnalyseConfig *c)
{
    const Agent *agent = &run->agent;
    RuleInput in; /* agent k's y on the rollout (the policy, π(a|s), is the same for both) */
    rule_input_at(agent, layout, &run->work, run->theta[k], &run->rollout, run->gammas, NULL,
                  run->pi_taken, &in);
    inner_update(agent, &run->work, run->rwork, eta, layout, &run->rollout, &in,
                 (real)c->alpha_lr, (real)c->alpha_y, run->theta[k], run->theta[k], run->grad);
    /* Back to the fixed policy: only y moves. */
    for (int s = 0; s < run->mdp.states; s++)
        memcpy(run->theta[k] + (size_t)s * agent->num_outputs,
               run->log_policy + (size_t)s * agent->num_actions,
               (size_t)agent->num_actions * sizeof(real));
}

const real *fixed_policy_y_logits(const FixedPolicyRun *run, int k, int state)
{
    return run->theta[k] + (size_t)state * run->agent.num_outputs + run->agent.y_offset;
}

double fixed_policy_rollout_kl(const FixedPolicyRun *run)
{
    const Rollout *r = &run->rollout;
    int rows = r->t_len * r->n;
    double total = 0;
    for (int row = 0; row < rows; row++) {
        int s = r->obs_index[row];
        total += analyse_kl_logits(fixed_policy_y_logits(run, 0, s),
                                   fixed_policy_y_logits(run, 1, s), RULE_Y_DIM);
    }
    return total / rows;
}
