/* eval_config.c: keys, defaults and checks of the `lpg eval` config (see eval.h). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "eval.h"
#include "util.h"

#define F(key, type, member, min, max, help) {key, type, offsetof(EvalConfig, member), min, max, help}

const ConfigField eval_config_fields[] = {
    F("rule", CONFIG_PATH, rule, 0, 0, "rule or meta-training checkpoint file"),
    F("envs", CONFIG_PATH_LIST, envs, 0, 0, "environment files, one row each (required)"),
    F("seed", CONFIG_INT, seed, 0, 2000000000, "first seed; the seeds are seed .. seed+seeds-1"),
    F("seeds", CONFIG_INT, seeds, 1, 1024, "agents trained per environment and method"),
    F("steps", CONFIG_INT, steps, 1, 2000000000, "environment steps per seed (all copies)"),
    F("copies", CONFIG_INT, copies, 1, 4096, "environment copies per agent (n)"),
    F("unroll", CONFIG_INT, unroll, 1, 1000, "steps per rollout (T)"),
    F("threads", CONFIG_INT, threads, 1, TRAIN_MAX_THREADS, "threads running seeds"),
    F("mlp_hidden", CONFIG_DOUBLE_LIST, mlp_hidden, 1, 4096, "hidden widths of MLP agents"),
    F("tabular_alpha_lr", CONFIG_DOUBLE, tabular_alpha_lr, 0, 1e6, "lpg: per-state mean step of tabular agents"),
    F("mlp_alpha_lr", CONFIG_DOUBLE, mlp_alpha_lr, 0, 1e6, "lpg: inner step of MLP agents"),
    F("alpha_y", CONFIG_DOUBLE, alpha_y, 0, 1e3, "lpg: weight of the KL term on y"),
    F("a2c_tabular_grid", CONFIG_PATH, a2c_tabular_grid, 0, 0, "tuned A2C train config: tabular grids"),
    F("a2c_random_grid", CONFIG_PATH, a2c_random_grid, 0, 0, "tuned A2C train config: random grids"),
    F("a2c_chain", CONFIG_PATH, a2c_chain, 0, 0, "tuned A2C train config: chains"),
    F("a2c_chain_distraction", CONFIG_PATH, a2c_chain_distraction, 0, 0,
      "tuned A2C train config: chains with distraction bits"),
    F("log_points", CONFIG_INT, log_points, 1, 100000, "points of each learning curve"),
    F("output_dir", CONFIG_PATH, output_dir, 0, 0, "curves, results.md and results.csv"),
};
const int eval_config_num_fields = (int)(sizeof eval_config_fields / sizeof eval_config_fields[0]);

void eval_config_defaults(EvalConfig *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->rule, "../checkpoints/grid.lpg");
    c->seed = 1000; /* away from the seeds A2C was tuned on and rules were meta-trained on */
    c->seeds = 16;
    c->steps = 320000;
    c->copies = 32;
    c->unroll = 20;
    c->threads = 4;
    c->mlp_hidden.count = 1;
    c->mlp_hidden.item[0] = 32;
    c->tabular_alpha_lr = 4;
    c->mlp_alpha_lr = 0.5;
    c->alpha_y = 0.5;
    strcpy(c->a2c_tabular_grid, "a2c/tabular_grid.json");
    strcpy(c->a2c_random_grid, "a2c/random_grid.json");
    strcpy(c->a2c_chain, "a2c/chain.json");
    strcpy(c->a2c_chain_distraction, "a2c/chain_distraction.json");
    c->log_points = 50;
    strcpy(c->output_dir, "../results/eval");
}

/* Makes the default paths relative to the config file's folder, like paths written in it. */
static int resolve_default_paths(EvalConfig *c, const char *path)
{
    char dir[LPG_PATH_MAX], resolved[LPG_PATH_MAX];
    config_dirname(path, dir, sizeof dir);
    for (int i = 0; i < eval_config_num_fields; i++) {
        const ConfigField *f = &eval_config_fields[i];
        if (f->type != CONFIG_PATH)
            continue;
        char *slot = (char *)c + f->offset;
        if (config_resolve_path(dir, slot, resolved, sizeof resolved))
            return lpg_error("%s: key '%s': path too long", path, f->key);
        strcpy(slot, resolved);
    }
    return 0;
}

static int eval_config_check(const EvalConfig *c, const char *where)
{
    if (c->envs.count < 1)
        return lpg_error("%s: key 'envs': at least one environment file is required", where);
    if (agent_check_hidden(c->mlp_hidden.item, c->mlp_hidden.count, where))
        return -1;
    return 0;
}

int eval_config_load(EvalConfig *c, const char *path, int noverrides, char **overrides)
{
    eval_config_defaults(c);
    snprintf(c->source, sizeof c->source, "%s", path);
    if (resolve_default_paths(c, path) ||
        config_load(path, eval_config_fields, eval_config_num_fields, c, noverrides, overrides))
        return -1;
    return eval_config_check(c, path);
}
