/* lifetime.c: starting, running and checkpointing one lifetime (see lifetime.h). */
#include "lifetime.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env_state.h"
#include "rollout.h"
#include "util.h"

void lifetime_describe(Lifetime *life, const EnvSpec *spec, int env_index, int arm, int length,
                       int report)
{
    memset(life, 0, sizeof *life);
    life->env_index = env_index;
    life->spec = spec;
    life->arm = arm;
    life->length = length;
    life->report = report;
}

/* lifetime_start, with the layout of a procedural spec drawn from *level when level is not
 * NULL (else from the environment's seed, as always). */
static int start(Lifetime *life, const MetaConfig *config, const EnvSpec *spec, int env_index,
                 int arm, double alpha_lr, double alpha_y, int length, int report,
                 const RuleLayout *layout, uint64_t seed, const uint64_t *level)
{
    lifetime_describe(life, spec, env_index, arm, length, report);
    rng_seed(&life->rng, seed, RNG_STREAM_LIFETIME);
    const int n = config->copies, t_len = config->unroll;
    AgentSpec as;
    int num_y = layout->method == RULE_LPG_V ? 0 : RULE_Y_DIM; /* LPG-V: no y, the critic's V */
    if (agent_spec_for_env(&as, spec, config->conv_filters, config->mlp_hidden.item,
                           config->mlp_hidden.count, num_y, 0) ||
        agent_setup(&life->agent, &as))
        return -1;
    Rng env_rng = rng_split(&life->rng), critic_rng = rng_split(&life->rng);
    uint64_t env_seed = ((uint64_t)rng_u32(&env_rng) << 32) | rng_u32(&env_rng);
    life->alive = 1; /* from here on lifetime_free releases what was made */
    if (env_batch_init_layout(&life->env, spec, n, env_seed, level ? *level : env_seed) ||
        agent_work_init(&life->awork, &life->agent, (t_len + 1) * n) ||
        window_init(&life->window, spec, &life->agent, config->K, t_len, n,
                    inner_optimizer_for(&life->agent, config->optimizer)) ||
        critic_init(&life->critic, spec, config->conv_filters, config->mlp_hidden.item,
                    config->mlp_hidden.count, t_len, n, &critic_rng)) {
        lifetime_free(life);
        return -1;
    }
    life->rwork = rule_work_create(layout, n, t_len);
    life->d_eta = lpg_calloc(layout->count, sizeof(real), "lifetime meta-gradient");
    if (!life->rwork || !life->d_eta) {
        lifetime_free(life);
        return -1;
    }
    for (int i = 0; i < n; i++)
        life->window.gamma[i] = (real)spec->gamma;
    agent_init_params(&life->agent, window_theta(&life->window, 0), &life->rng);
    real critic_lr = (real)(spec->num_states > 0 ? config->critic_tabular_lr : config->critic_lr);
    WindowParams p = {config->K, (real)alpha_lr, (real)alpha_y, (real)config->beta0,
                      (real)config->beta1, (real)config->beta2, (real)config->beta3,
                      config->input_grad, critic_lr, (real)config->gae_lambda};
    life->params = p;
    return 0;
}

int lifetime_start(Lifetime *life, const MetaConfig *config, const EnvSpec *spec, int env_index,
                   int arm, double alpha_lr, double alpha_y, int length, int report,
                   const RuleLayout *layout, uint64_t seed)
{
    return start(life, config, spec, env_index, arm, alpha_lr, alpha_y, length, report, layout,
                 seed, NULL);
}

int lifetime_start_on_level(Lifetime *life, const MetaConfig *config, const EnvSpec *spec,
                            int env_index, int arm, double alpha_lr, double alpha_y, int length,
                            int report, const RuleLayout *layout, uint64_t seed, uint64_t level)
{
    return start(life, config, spec, env_index, arm, alpha_lr, alpha_y, length, report, layout,
                 seed, &level);
}

void lifetime_free(Lifetime *life)
{
    if (!life->alive)
        return;
    env_batch_free(&life->env);
    agent_work_free(&life->awork);
    window_free(&life->window);
    critic_free(&life->critic);
    rule_work_free(life->rwork);
    free(life->d_eta);
    memset(life, 0, sizeof *life);
}

int lifetime_finished(const Lifetime *life)
{
    return life->updates >= life->length;
}

/* 2 * loss / Var(targets) of the critic's last update (NaN when its targets are constant). */
static double unexplained_fraction(const Critic *c, double loss)
{
    int rows = c->t_len * c->n;
    double sum = 0, sum_sq = 0;
    for (int b = 0; b < rows; b++) {
        sum += c->target[b];
        sum_sq += (double)c->target[b] * c->target[b];
    }
    double mean = sum / rows, var = sum_sq / rows - mean * mean;
    return var > 0 ? 2 * loss / var : NAN;
}

/* Adds the episodes that ended in the window just collected to the counts, and those in the
 * life's last fifth to its final return. */
static void count_episodes(Lifetime *life, int64_t *episodes, double *return_sum)
{
    const Window *w = &life->window;
    for (int k = 0; k <= w->K; k++) {
        *episodes += w->episodes_ended[k];
        *return_sum += w->returns_ended[k];
        if (life->updates + k >= life->length - life->length / 5) {
            life->final_count += w->episodes_ended[k];
            life->final_sum += w->returns_ended[k];
        }
    }
}

void lifetime_collect(Lifetime *life, const real *eta, const RuleLayout *layout,
                      int64_t *episodes, double *return_sum)
{
    Window *w = &life->window;
    /* The critic learns from every rollout of the window (inside window_collect); Â comes from
     * the last one, computed before the critic's step on it. */
    w->updates = life->updates;
    w->length = life->length;
    window_collect(w, &life->env, &life->agent, &life->awork, life->rwork, eta, layout,
                   &life->params, &life->critic, &life->rng);
    count_episodes(life, episodes, return_sum);
    life->critic_loss = w->critic_loss;
    life->critic_fvu = unexplained_fraction(&life->critic, life->critic_loss);
}

void lifetime_window(Lifetime *life, const real *eta, const RuleLayout *layout,
                     int64_t *episodes, double *return_sum)
{
    Window *w = &life->window;
    const WindowParams *p = &life->params;
    lifetime_collect(life, eta, layout, episodes, return_sum);
    memset(life->d_eta, 0, layout->count * sizeof(real));
    life->J = window_meta_gradient(w, &life->agent, &life->awork, life->rwork, eta, layout, p,
                                   life->d_eta);
    window_advance(w);
    life->updates += w->K;
}

void lifetime_forward(Lifetime *life, const real *eta, const RuleLayout *layout,
                      int64_t *episodes, double *return_sum)
{
    Window *w = &life->window;
    /* The agent's steps never read the critic unless the rule does (LPG-V): skip it then. */
    Critic *critic = layout->method == RULE_LPG_V ? &life->critic : NULL;
    w->updates = life->updates;
    w->length = life->length;
    window_collect(w, &life->env, &life->agent, &life->awork, life->rwork, eta, layout,
                   &life->params, critic, &life->rng);
    count_episodes(life, episodes, return_sum);
    window_advance(w);
    life->updates += w->K;
}

double lifetime_final_return(const Lifetime *life)
{
    if (life->final_count > 0)
        return life->final_sum / (double)life->final_count;
    double sum = 0;
    for (int i = 0; i < life->env.n; i++)
        sum += life->env.running_return[i];
    return sum / life->env.n;
}

static int section_name(char *out, const char *prefix, const char *what)
{
    int len = snprintf(out, CHECKPOINT_NAME_MAX, "%s_%s", prefix, what);
    return (len < 0 || len >= CHECKPOINT_NAME_MAX) ? lpg_error("section name %s_%s too long", prefix, what) : 0;
}

/* Adam's moments of the agent (sections <prefix>_adam_m and <prefix>_adam_v), when its inner
 * step is Adam: m_0, v_0 of the window, the state between windows. */
static int save_moments(const Lifetime *life, CheckpointWriter *writer, const char *prefix)
{
    char name[CHECKPOINT_NAME_MAX];
    const Window *w = &life->window;
    if (!w->adam)
        return 0;
    if (section_name(name, prefix, "adam_m") ||
        checkpoint_add_real(writer, name, window_m(w, 0), life->agent.num_params) ||
        section_name(name, prefix, "adam_v") ||
        checkpoint_add_real(writer, name, window_v(w, 0), life->agent.num_params))
        return -1;
    return 0;
}

static int load_moments(Lifetime *life, const Checkpoint *ck, const char *prefix)
{
    char name[CHECKPOINT_NAME_MAX];
    Window *w = &life->window;
    size_t P = life->agent.num_params;
    if (!w->adam)
        return 0;
    if (section_name(name, prefix, "adam_m"))
        return -1;
    if (!checkpoint_find(ck, name))
        return lpg_error("%s: no section '%s': its lifetimes took SGD inner steps; resume with "
                         "inner_optimizer \"sgd\"", ck->path, name);
    if (checkpoint_get_real(ck, name, window_m(w, 0), P) ||
        section_name(name, prefix, "adam_v") || checkpoint_get_real(ck, name, window_v(w, 0), P))
        return -1;
    for (size_t i = 0; i < P; i++)
        if (window_v(w, 0)[i] < 0)
            return lpg_error("%s: section '%s': element %zu is negative (%g)", ck->path, name, i,
                             (double)window_v(w, 0)[i]);
    return 0;
}

int lifetime_save(const Lifetime *life, CheckpointWriter *writer, const char *prefix)
{
    char name[CHECKPOINT_NAME_MAX];
    int64_t counters[3] = {life->updates, life->final_count, 0};
    double sums[1] = {life->final_sum};
    if (section_name(name, prefix, "counters") || checkpoint_add_int64(writer, name, counters, 3) ||
        section_name(name, prefix, "final_sum") || checkpoint_add_bytes(writer, name, sums, sizeof sums) ||
        section_name(name, prefix, "rng") || checkpoint_add_bytes(writer, name, &life->rng, sizeof life->rng) ||
        section_name(name, prefix, "theta") ||
        checkpoint_add_real(writer, name, window_theta(&life->window, 0), life->agent.num_params) ||
        section_name(name, prefix, "critic") ||
        checkpoint_add_real(writer, name, life->critic.params, life->critic.net.num_params) ||
        section_name(name, prefix, "env") || env_batch_save_state(&life->env, writer, name) ||
        save_moments(life, writer, prefix))
        return -1;
    return 0;
}

int lifetime_load(Lifetime *life, const Checkpoint *ck, const char *prefix)
{
    char name[CHECKPOINT_NAME_MAX];
    int64_t counters[3];
    double sums[1];
    if (section_name(name, prefix, "counters") || checkpoint_get_int64(ck, name, counters, 3) ||
        section_name(name, prefix, "final_sum") || checkpoint_get_bytes(ck, name, sums, sizeof sums) ||
        section_name(name, prefix, "rng") || checkpoint_get_bytes(ck, name, &life->rng, sizeof life->rng) ||
        section_name(name, prefix, "theta") ||
        checkpoint_get_real(ck, name, window_theta(&life->window, 0), life->agent.num_params) ||
        section_name(name, prefix, "critic") ||
        checkpoint_get_real(ck, name, life->critic.params, life->critic.net.num_params) ||
        section_name(name, prefix, "env") || env_batch_load_state(&life->env, ck, name) ||
        load_moments(life, ck, prefix))
        return -1;
    if (counters[0] < 0 || counters[0] > life->length || counters[0] % life->window.K != 0 ||
        counters[1] < 0)
        return lpg_error("%s: section %s_counters: values out of range", ck->path, prefix);
    if (!isfinite(sums[0]))
        return lpg_error("%s: section %s_final_sum: not finite", ck->path, prefix);
    if ((life->rng.inc & 1u) == 0)
        return lpg_error("%s: section %s_rng: the stream selector is even", ck->path, prefix);
    life->updates = (int)counters[0];
    life->final_count = counters[1];
    life->final_sum = sums[0];
    return 0;
}
