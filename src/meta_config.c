/* meta_config.c: keys, defaults and checks of the meta-training config. */
#include "meta_config.h"

#include <stddef.h>
#include <string.h>

#include "agent.h"
#include "bandit.h"
#include "run_keys.h"
#include "util.h"

#define F(...) CONFIG_KEY(MetaConfig, __VA_ARGS__)
/* An output-only key (config.h): a resumed run may change it. */
#define OUT(...) CONFIG_OUTPUT_KEY(MetaConfig, __VA_ARGS__)
/* A key whose value is one of names, stored as its index. */
#define E(...) CONFIG_CHOICE(MetaConfig, __VA_ARGS__)

static const char *const level_sampler_names[] = {"uniform", "regret", NULL};
static const char *const meta_optimizer_names[] = {"metagrad", "es", NULL};

const ConfigField meta_config_fields[] = {
    F("envs", CONFIG_PATH_LIST, envs, 0, 0, "environment files (relative to this config)"),
    F("seed", CONFIG_INT, seed, 0, 2147483647, "seed of the whole run"),
    F("lifetimes", CONFIG_INT, lifetimes, 1, META_LIFETIMES_MAX, "parallel lifetimes"),
    RUN_KEY_COPIES(MetaConfig, 1024),
    RUN_KEY_UNROLL(MetaConfig),
    F("K", CONFIG_INT, K, 1, 16, "agent updates per meta-gradient window"),
    F("lifetime_updates", CONFIG_INT, lifetime_updates, 1, 100000000, "agent updates per lifetime"),
    F("mlp_lifetime_updates", CONFIG_INT, mlp_lifetime_updates, 0, 100000000, "agent updates per lifetime of MLP agents (0: lifetime_updates)"),
    OUT("meta_steps", CONFIG_INT, meta_steps, 1, META_STEPS_MAX, "meta-steps of the run"),
    F("rule_hidden", CONFIG_INT, rule_hidden, 1, 4096, "LSTM width of the rule"),
    RUN_KEY_MLP_HIDDEN(MetaConfig),
    RUN_KEY_AGENT(MetaConfig),
    F("meta_lr", CONFIG_DOUBLE, meta_lr, 0, 1, "Adam learning rate on eta"),
    F("meta_clip", CONFIG_DOUBLE, meta_clip, 0, 1e9, "global-norm clip of the meta-gradient (0: off)"),
    F("beta0", CONFIG_DOUBLE, beta0, 0, 100, "weight of H(pi) in J"),
    F("beta1", CONFIG_DOUBLE, beta1, 0, 100, "weight of H(y) in J"),
    F("beta2", CONFIG_DOUBLE, beta2, 0, 100, "weight of the L2 on pi_hat"),
    F("beta3", CONFIG_DOUBLE, beta3, 0, 100, "weight of the L2 on y_hat"),
    F("tabular_lrs", CONFIG_DOUBLE_LIST, tabular_lrs, 1e-6, 1e6, "bandit: alpha_lr of tabular agents"),
    F("mlp_lrs", CONFIG_DOUBLE_LIST, mlp_lrs, 1e-6, 1e6, "bandit: alpha_lr of MLP agents"),
    F("alpha_ys", CONFIG_DOUBLE_LIST, alpha_ys, 0, 1e3, "bandit: alpha_y"),
    F("critic_lr", CONFIG_DOUBLE, critic_lr, 0, 1e6, "SGD step of the MLP critic behind A-hat"),
    F("critic_tabular_lr", CONFIG_DOUBLE, critic_tabular_lr, 0, 1, "tabular critic: fraction of the way to the mean target per update"),
    F("gae_lambda", CONFIG_DOUBLE, gae_lambda, 0, 1, "lambda of the critic's GAE"),
    RUN_KEY_THREADS(MetaConfig, META_MAX_THREADS),
    RUN_KEY_MAX_MEMORY(MetaConfig),
    OUT("run_dir", CONFIG_PATH, run_dir, 0, 0, "output folder: checkpoint.lpg, log.jsonl"),
    OUT("checkpoint_every", CONFIG_INT, checkpoint_every, 1, 100000000, "meta-steps between checkpoints"),
    OUT("log_every", CONFIG_INT, log_every, 1, 100000000, "meta-steps between progress lines"),
    OUT("rule_every", CONFIG_INT, rule_every, 0, 100000000, "meta-steps between rule snapshots <run_dir>/rules/rule_<step>.lpg (0: off)"),
    F("input_grad", CONFIG_BOOL, input_grad, 0, 1, "meta-gradient also through the rule's inputs pi(a|s), y(s), y(s') as functions of theta_k (exact; off: stop-gradient; docs/method.md section 6)"),
    RUN_KEY_INNER_OPTIMIZER(MetaConfig, optimizer),
    E("method", method, rule_method_names, "\"lpg\" (the rule predicts y) or \"lpg_v\" (the rule reads a TD(lambda) value, the critic, and outputs only pi_hat; docs/method.md section 12)"),
    F("lifetime_inputs", CONFIG_BOOL, lifetime_inputs, 0, 1, "the rule also reads the agent's progress through its lifetime, n/N and log N (docs/method.md section 10.4)"),
    F("lifetime_range", CONFIG_DOUBLE_LIST, lifetime_range, 1, 100000000, "[min, max]: each lifetime's length in updates drawn log-uniform from this range (rounded up to whole windows) instead of lifetime_updates; absent (the default): fixed lengths"),
    F("mlp_lifetime_range", CONFIG_DOUBLE_LIST, mlp_lifetime_range, 1, 100000000, "[min, max]: the same for MLP agents (absent: lifetime_range when set, else mlp_lifetime_updates)"),
    F("y_softmax", CONFIG_BOOL, y_softmax, 0, 1, "lpg: y and y_hat are softmax distributions and the agent descends KL(y||y_hat) (false: unconstrained, with 1/2 ||y - y_hat||^2; an ablation)"),
    E("level_sampler", level_regret, level_sampler_names, "levels of the procedural environments: \"uniform\" (a fresh random layout per lifetime) or \"regret\" (a buffer of layouts replayed by their regret against tuned A2C; docs/method.md section 10.6)"),
    F("level_buffer_size", CONFIG_INT, level_buffer_size, 1, 100000, "regret: levels kept per procedural environment (GROOVE: 4000)"),
    F("level_replay_prob", CONFIG_DOUBLE, level_replay_prob, 0, 1, "regret: probability that a new lifetime replays a buffered level instead of drawing a fresh one (GROOVE: 0.5)"),
    F("level_temperature", CONFIG_DOUBLE, level_temperature, 0.001, 100, "regret: beta of the rank weights (1/rank)^(1/beta) (PLR: 0.1)"),
    F("level_staleness", CONFIG_DOUBLE, level_staleness, 0, 1, "regret: rho, the staleness share of the replay distribution (PLR: 0.1)"),
    F("level_a2c_tabular_grid", CONFIG_PATH, level_a2c_tabular_grid, 0, 0, "regret: tuned A2C train config scoring procedural_grid levels (relative to this config)"),
    F("level_a2c_random_grid", CONFIG_PATH, level_a2c_random_grid, 0, 0, "regret: tuned A2C train config scoring procedural_random_grid levels"),
    E("meta_optimizer", use_es, meta_optimizer_names, "\"metagrad\" (the exact meta-gradient over windows of K updates) or \"es\" (evolution strategies over whole lifetimes; the es_* keys; docs/method.md section 13)"),
    F("es_sigma", CONFIG_DOUBLE, es_sigma, 0, 1e3, "es: std of the perturbations of eta (> 0)"),
    F("es_population", CONFIG_INT, es_population, 1, 65536, "es: antithetic pairs per generation (members: twice this)"),
    F("es_lr", CONFIG_DOUBLE, es_lr, 0, 1, "es: Adam learning rate on eta (no clipping)"),
    F("es_lifetimes_per_member", CONFIG_INT, es_lifetimes_per_member, 1, 4096, "es: lifetimes per generation (environment, seeds, length drawn once), each run by every member"),
    F("init_rule", CONFIG_PATH, init_rule, 0, 0, "a rule file eta starts from instead of the seeded initialisation (its width and kind must be the config's; for fine-tuning, e.g. ES from a meta-gradient rule); absent: the seeded initialisation"),
};
const int meta_config_num_fields = (int)(sizeof meta_config_fields / sizeof meta_config_fields[0]);

static void set_list(ConfigDoubleList *list, const double *values, int count)
{
    list->count = count;
    for (int i = 0; i < count; i++)
        list->item[i] = values[i];
}

void meta_config_defaults(MetaConfig *c)
{
    memset(c, 0, sizeof *c);
    c->seed = 1;
    c->lifetimes = 16;
    c->copies = 32;
    c->unroll = 20;
    c->K = 5;
    c->lifetime_updates = 500;
    c->meta_steps = 1000;
    c->rule_hidden = 32;
    c->mlp_hidden.count = 1;
    c->mlp_hidden.item[0] = 32;
    c->agent = AGENT_CHOICE_MLP;
    c->meta_lr = 1e-3;
    c->meta_clip = 0.5;
    c->beta0 = 0.05;
    c->beta1 = 0.001;
    c->beta2 = 0.005;
    c->beta3 = 0.001;
    set_list(&c->tabular_lrs, (const double[]){0.5, 1, 2}, 3);
    set_list(&c->mlp_lrs, (const double[]){0.25, 0.5, 1}, 3);
    set_list(&c->alpha_ys, (const double[]){0.1, 0.5, 1}, 3);
    c->critic_lr = 0.5;
    c->critic_tabular_lr = 0.5;
    c->gae_lambda = 0.95;
    c->threads = 2;
    strcpy(c->run_dir, "runs/meta");
    c->checkpoint_every = 50;
    c->log_every = 10;
    c->rule_every = 0;
    c->input_grad = 0;
    c->optimizer = INNER_SGD;
    c->method = RULE_LPG;
    c->y_softmax = 1;
    c->level_regret = 0;
    c->level_buffer_size = 4000;
    c->level_replay_prob = 0.5;
    c->level_temperature = 0.1;
    c->level_staleness = 0.1;
    c->use_es = 0;
    c->es_sigma = 0.1;      /* GROOVE's corrected setting (April 2024) */
    c->es_population = 512; /* GROOVE: 512 agents, doubled into antithetic pairs */
    c->es_lr = 0.01;        /* GROOVE's corrected setting */
    c->es_lifetimes_per_member = 1;
}

/* The ES keys: σ is positive, a generation is not too large. */
static int check_es(const MetaConfig *c, const char *path)
{
    if (!(c->es_sigma > 0))
        return lpg_error("%s: key 'es_sigma': must be > 0, got %g", path, c->es_sigma);
    if (2LL * c->es_population * c->es_lifetimes_per_member > META_ES_LIFETIMES_MAX)
        return lpg_error("%s: keys 'es_population' x 'es_lifetimes_per_member': %lld lifetimes per "
                         "generation, more than %d", path,
                         2LL * c->es_population * c->es_lifetimes_per_member, META_ES_LIFETIMES_MAX);
    return 0;
}

/* A lifetime range is absent or [min, max], whole numbers with K <= min <= max. */
static int check_range(const ConfigDoubleList *range, const char *key, int K, const char *path)
{
    if (range->count == 0)
        return 0;
    if (range->count != 2)
        return lpg_error("%s: key '%s': expected [min, max], got %d numbers", path, key,
                         range->count);
    double lo = range->item[0], hi = range->item[1];
    if (lo != (double)(long long)lo || hi != (double)(long long)hi || lo < K || hi < lo)
        return lpg_error("%s: key '%s': [%g, %g] is not two whole numbers with K (%d) <= min <= "
                         "max", path, key, lo, hi, K);
    return 0;
}

int meta_config_load(MetaConfig *c, const char *path, int noverrides, char **overrides)
{
    meta_config_defaults(c);
    if (config_load(path, meta_config_fields, meta_config_num_fields, c, noverrides, overrides))
        return -1;
    if (c->envs.count == 0)
        return lpg_error("%s: key 'envs': at least one environment file is required", path);
    if (agent_check_hidden(c->mlp_hidden.count, path))
        return -1;
    c->conv_filters = agent_choice_filters(c->agent);
    if ((long long)c->tabular_lrs.count * c->alpha_ys.count > BANDIT_MAX_ARMS ||
        (long long)c->mlp_lrs.count * c->alpha_ys.count > BANDIT_MAX_ARMS)
        return lpg_error("%s: keys 'tabular_lrs'/'mlp_lrs' x 'alpha_ys': at most %d bandit arms",
                         path, BANDIT_MAX_ARMS);
    if (check_range(&c->lifetime_range, "lifetime_range", c->K, path) ||
        check_range(&c->mlp_lifetime_range, "mlp_lifetime_range", c->K, path) ||
        check_es(c, path))
        return -1;
    if (c->level_regret && c->use_es) /* ES lifetimes draw their tasks per generation */
        return lpg_error("%s: keys 'level_sampler' and 'meta_optimizer': levels chosen by regret "
                         "are built for the meta-gradient's lifetimes, not ES generations; use "
                         "level_sampler \"uniform\" with meta_optimizer \"es\"", path);
    if (c->method == RULE_LPG_V && !c->y_softmax)
        return lpg_error("%s: key 'y_softmax': method \"lpg_v\" has no y; leave y_softmax true",
                         path);
    return 0;
}

void meta_config_rule_layout(const MetaConfig *c, RuleLayout *layout)
{
    rule_layout_lifetime(layout, c->rule_hidden, c->lifetime_inputs);
    if (c->method == RULE_LPG_V) {
        layout->method = RULE_LPG_V;
        layout->value_lr = c->critic_lr;
        layout->value_tabular_lr = c->critic_tabular_lr;
        layout->value_lambda = c->gae_lambda;
    }
    layout->y_raw = !c->y_softmax;
}
