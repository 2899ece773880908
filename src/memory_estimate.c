/* memory_estimate.c: the peak memory of a run from its config (see memory_estimate.h). A
 * meta-training lifetime's window, rollouts, agent and critic are sized by their modules' own
 * buffer tables (window_bytes, agent_work_bytes, critic_bytes), so the estimate cannot drift
 * from what is allocated; the rule's activations and A2C's buffers follow rule.c and a2c.c.
 * scripts/memory-check compares the estimate with the measured peak resident memory. */
#include "memory_estimate.h"

#include <unistd.h>

#include "agent.h"
#include "critic.h"
#include "exact_sum.h"
#include "inner_update.h"
#include "metagrad.h"
#include "rule.h"
#include "util.h"

#define GIB (1024.0 * 1024.0 * 1024.0)
#define MALLOC_SLACK 1.05 /* allocator overhead and small buffers not counted below */
/* The program itself: code, libraries and OpenBLAS's work buffers (peak resident memory of a
 * one-lifetime grid run, less its buffers). */
#define PROCESS_BYTES (12.0 * 1024 * 1024)

typedef struct {
    double params;  /* agent parameters P */
    double outputs; /* outputs per row */
    double hidden;  /* hidden activations per row (0: tabular) */
    double states;  /* tabular states (0: MLP) */
    double obs;     /* observation reals per row (0: tabular) */
    double patches; /* conv: im2col reals per row (0: others) */
} Sizes;

/* The agent's sizes for spec (the layout agent_setup computes), or all zero if it has none. */
static Sizes agent_sizes(const EnvSpec *spec, int conv_filters, const ConfigIntList *mlp_hidden,
                         int num_y, int has_value)
{
    Sizes z = {0, 0, 0, 0, 0, 0};
    AgentSpec as;
    Agent agent;
    if (agent_spec_for_env(&as, spec, conv_filters, mlp_hidden->item, mlp_hidden->count, num_y,
                           has_value) ||
        agent_setup(&agent, &as))
        return z;
    z.params = (double)agent.num_params;
    z.outputs = agent.num_outputs;
    for (int l = 0; l + 1 < agent.num_layers; l++)
        z.hidden += (double)agent.layer_rows[l] * agent.layer_out[l];
    if (as.kind == AGENT_CONV)
        z.patches = (double)agent.layer_rows[0] * agent.layer_in[0];
    z.states = spec->num_states > 0 ? spec->num_states : 0;
    z.obs = spec->obs_dim > 0 ? spec->obs_dim : 0;
    return z;
}

/* Work space of an agent for batches of `rows`: activations, tangents and gradients. */
static double agent_work_reals(Sizes a, double rows)
{
    return 4 * rows * (a.hidden + a.outputs) + rows * a.patches + a.states;
}

/* One rollout of T steps of n copies (rows1 = (T + 1) n observations). */
static double rollout_reals(Sizes a, double n, double t_len)
{
    double rows = n * t_len, rows1 = n * (t_len + 1);
    return rows1 * (a.obs + a.outputs + 1) + 4 * rows;
}

/* An environment batch of n copies. */
static double env_bytes(const EnvSpec *spec, double n)
{
    double cells = (double)spec->width * spec->height;
    double per_copy = 128 + (spec->obs_dim > 0 ? spec->obs_dim * sizeof(real) : 0) +
                      (spec->kind == ENV_RANDOM_GRID ? cells : 0) + 1024 /* game states */;
    return n * per_copy + cells * 16;
}

/* One lifetime (lifetime.c's lifetime_start): its window (with its K + 1 rollouts), the agent's
 * and the critic's work space, the rule's activations, its meta-gradient and its environment.
 * Also returns the bytes it adds to a checkpoint (θ, m_0, v_0 with Adam, the critic, the
 * environment). */
static double lifetime_bytes(const MetaConfig *c, const EnvSpec *spec, double rule_count,
                             double *checkpoint_bytes)
{
    int n = c->copies, T = c->unroll;
    AgentSpec as;
    Agent agent;
    *checkpoint_bytes = 0;
    if (agent_spec_for_env(&as, spec, c->conv_filters, c->mlp_hidden.item, c->mlp_hidden.count,
                           RULE_Y_DIM, 0) ||
        agent_setup(&agent, &as))
        return 0;
    InnerOptimizer optimizer = inner_optimizer_for(&agent, c->optimizer);
    RuleLayout layout;
    rule_layout_lifetime(&layout, c->rule_hidden, c->lifetime_inputs);
    double bytes = (double)window_bytes(spec, &agent, c->K, T, n, optimizer) +
                   (double)agent_work_bytes(&agent, (T + 1) * n) +
                   (double)critic_bytes(spec, c->conv_filters, c->mlp_hidden.item,
                                        c->mlp_hidden.count, T, n) +
                   (double)rule_work_bytes(&layout, n, T) + rule_count * sizeof(real) +
                   env_bytes(spec, n);
    Sizes critic = agent_sizes(spec, c->conv_filters, &c->mlp_hidden, 0, 1);
    double adam = optimizer == INNER_ADAM ? 1 : 0;
    *checkpoint_bytes = ((1 + 2 * adam) * (double)agent.num_params + critic.params) * sizeof(real) +
                        env_bytes(spec, n);
    return bytes;
}

/* An ES run (es_run.h): the lifetimes alive at once (one per thread, each as large as the
 * costliest environment's), each thread's member parameters and noise, η with Adam and the
 * gradient's double sum, the generation's results, and a checkpoint of η and Adam. */
static double memory_es(const MetaConfig *c, const EnvSpec *specs, int num_envs,
                        double rule_count)
{
    double life = 0, saved = 0;
    for (int e = 0; e < num_envs; e++) {
        double bytes = lifetime_bytes(c, &specs[e], rule_count, &saved);
        life = bytes > life ? bytes : life;
    }
    double items = 2.0 * c->es_population * c->es_lifetimes_per_member;
    double alive = c->threads < items ? c->threads : items;
    double threads = alive * (life + rule_count * (sizeof(real) + 8.0));
    double shared = 4 * rule_count * sizeof(real) + rule_count * 8.0 + items * (3 * 8.0 + 24) +
                    2.2 * 3 * rule_count * sizeof(real);
    return MALLOC_SLACK * (threads + shared) + PROCESS_BYTES;
}

double memory_meta_train(const MetaConfig *c, const EnvSpec *specs, int num_envs)
{
    RuleLayout layout;
    rule_layout(&layout, c->rule_hidden);
    double rule_count = (double)layout.count;
    if (c->use_es)
        return memory_es(c, specs, num_envs, rule_count);
    /* Lifetimes draw their environment uniformly: the mean over environments. */
    double life = 0, checkpoint = 0;
    for (int e = 0; e < num_envs; e++) {
        double saved = 0;
        life += lifetime_bytes(c, &specs[e], rule_count, &saved) / num_envs;
        checkpoint += saved / num_envs;
    }
    /* η, its gradient and Adam, the gradient's exact sum; the lifetimes; a checkpoint's payload
     * and compressed copy. */
    double shared = 4 * rule_count * sizeof(real) + rule_count * EXACT_SUM_LIMBS * 8.0;
    return MALLOC_SLACK * (shared + c->lifetimes * (life + 2.2 * checkpoint)) + PROCESS_BYTES;
}

double memory_train(const TrainConfig *c, const EnvSpec *spec, int rule_hidden)
{
    double n = c->copies, T = c->unroll, rows = n * T, rows1 = n * (T + 1);
    int lpg = rule_hidden > 0;
    Sizes a = agent_sizes(spec, c->conv_filters, &c->mlp_hidden, lpg ? RULE_Y_DIM : 0, !lpg);
    double adam = lpg && c->inner_kind == INNER_ADAM && a.states == 0 ? 2 * a.params : 0;
    RuleLayout layout;
    rule_layout(&layout, lpg ? rule_hidden : 1);
    double learner = lpg ? (double)rule_work_bytes(&layout, c->copies, c->unroll) / sizeof(real) +
                               2 * rows1 * RULE_Y_DIM + a.params + adam
                         : 3 * a.params + 4 * rows;
    double seed_reals = 2 * a.params + rollout_reals(a, n, T) + agent_work_reals(a, rows1) + learner;
    double seed = seed_reals * sizeof(real) + env_bytes(spec, n);
    int running = c->threads < c->seeds ? c->threads : c->seeds;
    double rule = lpg ? (double)layout.count * sizeof(real) : 0;
    double curves = (double)c->seeds * c->log_points * 16;
    return MALLOC_SLACK * (running * seed + rule + curves) + PROCESS_BYTES;
}

double memory_machine_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (double)pages * (double)page : 0;
}

int memory_check(double need, double max_memory_gib, const char *where)
{
    if (max_memory_gib > 0 && need > max_memory_gib * GIB)
        return lpg_error("%s: needs about %.3g GiB of memory, more than max_memory = %g GiB; make "
                         "the run smaller (lifetimes, copies, unroll, threads, widths) or raise "
                         "max_memory", where, need / GIB, max_memory_gib);
    double machine = memory_machine_bytes();
    if (machine > 0 && need > machine)
        return lpg_error("%s: needs about %.3g GiB of memory, more than this machine's %.3g GiB; "
                         "make the run smaller (lifetimes, copies, unroll, threads, widths)",
                         where, need / GIB, machine / GIB);
    return 0;
}
