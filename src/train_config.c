/* train_config.c: keys, defaults and checks of the `lpg train` config (see train.h). */
#include <stddef.h>
#include <string.h>

#include "train.h"
#include "run_keys.h"
#include "util.h"

#define F(...) CONFIG_KEY(TrainConfig, __VA_ARGS__)
/* An output-only key (config.h). */
#define OUT(...) CONFIG_OUTPUT_KEY(TrainConfig, __VA_ARGS__)
/* A key whose value is one of names, stored as its index. */
#define E(...) CONFIG_CHOICE(TrainConfig, __VA_ARGS__)

const char *const train_method_names[] = {"a2c", "lpg", "lpg_v", NULL};

const ConfigField train_config_fields[] = {
    F("env", CONFIG_PATH, env, 0, 0, "environment file (required)"),
    E("method", method, train_method_names, "\"a2c\", \"lpg\" (a saved rule) or \"lpg_v\" (a saved LPG-V rule)"),
    F("rule", CONFIG_PATH, rule, 0, 0, "lpg: rule or meta-training checkpoint file"),
    F("seed", CONFIG_INT, seed, 0, 2000000000, "first seed; the seeds are seed .. seed+seeds-1"),
    F("seeds", CONFIG_INT, seeds, 1, 1024, "agents trained, one per seed"),
    F("steps", CONFIG_INT, steps, 1, 2000000000, "environment steps per seed (all copies)"),
    RUN_KEY_COPIES(TrainConfig, 4096),
    RUN_KEY_UNROLL(TrainConfig),
    RUN_KEY_THREADS(TrainConfig, TRAIN_MAX_THREADS),
    RUN_KEY_MAX_MEMORY(TrainConfig),
    RUN_KEY_MLP_HIDDEN(TrainConfig),
    RUN_KEY_AGENT(TrainConfig),
    F("tabular_init_std", CONFIG_DOUBLE, tabular_init_std, 0, 100, "std of initial tabular rows"),
    E("optimizer", a2c.optimizer, optimizer_names, "a2c: \"sgd\", \"rmsprop\" or \"adam\""),
    F("lr", CONFIG_DOUBLE, a2c.lr, 0, 1e6, "a2c: learning rate"),
    F("entropy_cost", CONFIG_DOUBLE, a2c.entropy_cost, 0, 100, "a2c: weight of the entropy bonus"),
    F("value_cost", CONFIG_DOUBLE, a2c.value_cost, 0, 100, "a2c: weight of the value loss"),
    F("gae_lambda", CONFIG_DOUBLE, a2c.gae_lambda, 0, 1, "a2c: GAE lambda (1: n-step returns)"),
    F("grad_clip", CONFIG_DOUBLE, a2c.grad_clip, 0, 1e9, "a2c: global-norm gradient clip (0: off)"),
    F("rmsprop_decay", CONFIG_DOUBLE, a2c.rmsprop_decay, 0, 1, "a2c: RMSprop decay"),
    F("optimizer_eps", CONFIG_DOUBLE, a2c.eps, 0, 1, "a2c: RMSprop/Adam epsilon"),
    F("alpha_lr", CONFIG_DOUBLE, alpha_lr, 0, 1e6, "lpg: inner step (tabular: per-state mean, 2-8 as meta-trained; MLP: SGD, or Adam's step size with inner_optimizer adam)"),
    RUN_KEY_INNER_OPTIMIZER(TrainConfig, inner_kind),
    RUN_KEY_ALPHA_Y(TrainConfig),
    F("log_points", CONFIG_INT, log_points, 1, 100000, "points of the learning curve"),
    OUT("output", CONFIG_PATH, output, 0, 0, "learning curve CSV"),
    OUT("stats_output", CONFIG_PATH, stats_output, 0, 0, "lpg: CSV of the rule's pi_hat, inputs and policy change per update, per point (\"\": off)"),
};
const int train_config_num_fields = (int)(sizeof train_config_fields / sizeof train_config_fields[0]);

void train_config_defaults(TrainConfig *c)
{
    memset(c, 0, sizeof *c);
    c->method = TRAIN_METHOD_A2C;
    c->seed = 0;
    c->seeds = 4;
    c->steps = 1000000;
    c->copies = 64;
    c->unroll = 20;
    c->threads = 2;
    c->mlp_hidden.count = 1;
    c->mlp_hidden.item[0] = 32;
    c->agent = AGENT_CHOICE_MLP;
    c->a2c.optimizer = OPTIMIZER_ADAM;
    c->a2c.lr = 1e-3;
    c->a2c.entropy_cost = 0.01;
    c->a2c.value_cost = 0.5;
    c->a2c.gae_lambda = 1;
    c->a2c.grad_clip = 0;
    c->a2c.rmsprop_decay = 0.99;
    c->a2c.eps = 1e-5;
    c->alpha_lr = 1;
    c->inner_kind = INNER_SGD;
    c->alpha_y = 0.5;
    c->log_points = 50;
    strcpy(c->output, "runs/train.csv");
}

int train_config_finish(TrainConfig *c, const char *where)
{
    if (!c->env[0])
        return lpg_error("%s: key 'env': an environment file is required", where);
    c->method_kind = c->method == TRAIN_METHOD_A2C ? TRAIN_A2C : TRAIN_LPG;
    if (c->method_kind == TRAIN_A2C && c->stats_output[0])
        return lpg_error("%s: key 'stats_output': rule statistics need a rule (method \"lpg\" or "
                         "\"lpg_v\")", where);
    if (c->method_kind == TRAIN_LPG && !c->rule[0])
        return lpg_error("%s: key 'rule': method \"%s\" needs a rule file", where,
                         train_method_names[c->method]);
    c->conv_filters = agent_choice_filters(c->agent);
    return agent_check_hidden(c->mlp_hidden.count, where);
}

int train_config_load(TrainConfig *c, const char *path, int noverrides, char **overrides)
{
    train_config_defaults(c);
    if (config_load(path, train_config_fields, train_config_num_fields, c, noverrides, overrides))
        return -1;
    return train_config_finish(c, path);
}
