/* analyse_config.c: keys, defaults and checks of the `lpg analyse` config (see analyse.h). */
#include <stddef.h>
#include <string.h>

#include "analyse.h"
#include "env.h"
#include "run_keys.h"
#include "util.h"

#define F(...) CONFIG_KEY(AnalyseConfig, __VA_ARGS__)
/* An output-only key (config.h). */
#define OUT(...) CONFIG_OUTPUT_KEY(AnalyseConfig, __VA_ARGS__)

const ConfigField analyse_config_fields[] = {
    F("rule", CONFIG_PATH, rule, 0, 0, "rule or meta-training checkpoint file"),
    F("env", CONFIG_PATH, env, 0, 0, "environment: a tabular_grid or procedural_grid file (required)"),
    OUT("output_dir", CONFIG_PATH, output_dir, 0, 0, "folder of the CSV and PNG"),
    F("seed", CONFIG_INT, seed, 0, 2000000000, "instance k (its layout, rollouts and y) draws from seed + k"),
    F("gamma", CONFIG_DOUBLE, gamma, 0, 0.9999, "the rule's discount input, and value iteration's and the TD value's"),
    F("epsilon", CONFIG_DOUBLE, epsilon, 1e-6, 1, "the fixed policy: epsilon-greedy on the optimal values at gamma"),
    F("random_start", CONFIG_BOOL, random_start, 0, 1, "episodes start at random free cells (so every cell is visited)"),
    RUN_KEY_COPIES(AnalyseConfig, 4096),
    RUN_KEY_UNROLL(AnalyseConfig),
    F("updates", CONFIG_INT, updates, 1, 10000000, "y updates per instance"),
    F("alpha_lr", CONFIG_DOUBLE, alpha_lr, 0, 1e6, "inner step (tabular: per-state mean)"),
    RUN_KEY_ALPHA_Y(AnalyseConfig),
    F("init_std", CONFIG_DOUBLE, init_std, 0, 100, "std of the initial y logits (0: uniform y; converge needs > 0)"),
    F("min_visits", CONFIG_INT, min_visits, 1, 2000000000, "states visited less often are left out"),
    F("dims", CONFIG_INT, dims, 1, RULE_Y_DIM, "ymap: y dimensions drawn (those most correlated with v_pi)"),
    F("mask", CONFIG_INT, mask, -1, 4095, "ymap: objects present in the maps, bit j for object j (-1: the most visited combination)"),
    F("instances", CONFIG_INT, instances, 1, 100000, "values: training grids; converge: grids averaged over"),
    F("heldout", CONFIG_INT, heldout, 1, 100000, "values: held-out grids the errors are measured on"),
    F("value_gammas", CONFIG_DOUBLE_LIST, value_gammas, 0, 0.9999, "values: discounts of the regressed values"),
    F("fit_hidden", CONFIG_INT, fit_hidden, 1, 4096, "values: hidden width of the regression MLPs"),
    F("fit_steps", CONFIG_INT, fit_steps, 1, 10000000, "values: full-batch Adam steps per regression"),
    F("fit_lr", CONFIG_DOUBLE, fit_lr, 1e-9, 10, "values: Adam's learning rate"),
    F("td_lambda", CONFIG_DOUBLE, td_lambda, 0, 1, "values: lambda of the TD(lambda) baseline value"),
    F("td_lr", CONFIG_DOUBLE, td_lr, 1e-6, 1, "values: its per-state mean step"),
    F("vi_tol", CONFIG_DOUBLE, vi_tol, 1e-14, 1, "value iteration stops when no value moves by more"),
    OUT("plot", CONFIG_BOOL, plot, 0, 1, "draw the PNG with gnuplot"),
};
const int analyse_config_num_fields =
    (int)(sizeof analyse_config_fields / sizeof analyse_config_fields[0]);

static const char *const kind_names[] = {"ymap", "values", "converge"};

int analyse_kind_parse(const char *name, AnalyseKind *kind)
{
    for (int k = 0; k < 3; k++)
        if (strcmp(name, kind_names[k]) == 0) {
            *kind = (AnalyseKind)k;
            return 0;
        }
    return -1;
}

void analyse_config_defaults(AnalyseConfig *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->rule, "checkpoints/grid.lpg");
    strcpy(c->output_dir, "results/analysis");
    c->seed = 1;
    c->gamma = 0.99;
    c->epsilon = 0.1;
    c->random_start = 1;
    c->copies = 64;
    c->unroll = 20;
    c->updates = 500;
    c->alpha_lr = 4;
    c->alpha_y = 0.5;
    c->init_std = 0;
    c->min_visits = 10;
    c->dims = 4;
    c->mask = -1;
    c->instances = 128;
    c->heldout = 10;
    c->value_gammas.count = 4;
    c->value_gammas.item[0] = 0.995;
    c->value_gammas.item[1] = 0.99;
    c->value_gammas.item[2] = 0.95;
    c->value_gammas.item[3] = 0.9;
    c->fit_hidden = 64;
    c->fit_steps = 3000;
    c->fit_lr = 3e-3;
    c->td_lambda = 0.95;
    c->td_lr = 0.5;
    c->vi_tol = 1e-8;
    c->plot = 1;
}

int analyse_config_load(AnalyseConfig *c, AnalyseKind kind, const char *path, int noverrides,
                        char **overrides)
{
    analyse_config_defaults(c);
    if (config_load(path, analyse_config_fields, analyse_config_num_fields, c, noverrides,
                    overrides))
        return -1;
    if (!c->env[0])
        return lpg_error("%s: key 'env': an environment file is required", path);
    if (!c->rule[0])
        return lpg_error("%s: key 'rule': a rule file is required", path);
    if (kind == ANALYSE_CONVERGE && c->init_std <= 0)
        return lpg_error("%s: key 'init_std': converge draws two different y, it needs init_std "
                         "> 0", path);
    EnvSpec spec;
    if (env_load(c->env, &spec))
        return -1;
    if (spec.kind != ENV_TABULAR_GRID && spec.kind != ENV_PROCEDURAL_GRID)
        return lpg_error("%s: key 'env': %s is a %s; the analyses need a tabular_grid or "
                         "procedural_grid", path, c->env, env_kind_name(spec.kind));
    return 0;
}
