/* eval_config.c: keys, defaults and checks of the `lpg eval` config (see eval.h). */
#include <cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "eval.h"
#include "run_keys.h"
#include "util.h"

#define F(...) CONFIG_KEY(EvalConfig, __VA_ARGS__)
/* An output-only key (config.h): MPI ranks may differ in it. */
#define OUT(...) CONFIG_OUTPUT_KEY(EvalConfig, __VA_ARGS__)

const ConfigField eval_config_fields[] = {
    F("rule", CONFIG_PATH, rule, 0, 0, "rule or meta-training checkpoint file, method \"lpg\" (or "
      "\"rules\": [{\"name\", \"path\"}, ...], see above)"),
    F("envs", CONFIG_PATH_LIST, envs, 0, 0, "environment files, one row each (required)"),
    F("seed", CONFIG_INT, seed, 0, 2000000000, "first seed; the seeds are seed .. seed+seeds-1"),
    F("seeds", CONFIG_INT, seeds, 1, 1024, "agents trained per environment and method"),
    F("steps", CONFIG_INT, steps, 1, 2000000000, "environment steps per seed (all copies)"),
    F("steps_tabular_grid", CONFIG_INT, family_steps[EVAL_TABULAR_GRID], 0, 2000000000, "steps per seed on tabular and procedural grids (0: steps)"),
    F("steps_random_grid", CONFIG_INT, family_steps[EVAL_RANDOM_GRID], 0, 2000000000, "steps per seed on random grids, MLP agents (0: steps)"),
    F("steps_chain", CONFIG_INT, family_steps[EVAL_CHAIN], 0, 2000000000, "steps per seed on chains without distraction bits (0: steps)"),
    F("steps_chain_distraction", CONFIG_INT, family_steps[EVAL_CHAIN_DISTRACTION], 0, 2000000000, "steps per seed on chains with distraction bits (0: steps)"),
    F("steps_minatar", CONFIG_INT, family_steps[EVAL_MINATAR], 0, 2000000000, "steps per seed on MinAtar games (0: steps)"),
    RUN_KEY_COPIES(EvalConfig, 4096),
    RUN_KEY_UNROLL(EvalConfig),
    RUN_KEY_THREADS(EvalConfig, TRAIN_MAX_THREADS),
    RUN_KEY_MAX_MEMORY(EvalConfig),
    RUN_KEY_MLP_HIDDEN(EvalConfig),
    RUN_KEY_AGENT(EvalConfig),
    F("tabular_alpha_lr", CONFIG_DOUBLE, tabular_alpha_lr, 0, 1e6, "lpg: per-state mean step of tabular agents"),
    F("chain_alpha_lr", CONFIG_DOUBLE, chain_alpha_lr, 0, 1e6, "lpg: per-state mean step of tabular agents on chains (0: tabular_alpha_lr)"),
    F("mlp_alpha_lr", CONFIG_DOUBLE, mlp_alpha_lr, 0, 1e6, "lpg: inner step of MLP agents (SGD's step, or Adam's with inner_optimizer adam)"),
    RUN_KEY_INNER_OPTIMIZER(EvalConfig, inner_optimizer),
    RUN_KEY_ALPHA_Y(EvalConfig),
    F("a2c_tabular_grid", CONFIG_PATH, a2c[EVAL_TABULAR_GRID], 0, 0, "tuned A2C train config: tabular grids"),
    F("a2c_random_grid", CONFIG_PATH, a2c[EVAL_RANDOM_GRID], 0, 0, "tuned A2C train config: random grids"),
    F("a2c_chain", CONFIG_PATH, a2c[EVAL_CHAIN], 0, 0, "tuned A2C train config: chains"),
    F("a2c_chain_distraction", CONFIG_PATH, a2c[EVAL_CHAIN_DISTRACTION], 0, 0,
      "tuned A2C train config: chains with distraction bits"),
    F("a2c_minatar", CONFIG_PATH, a2c[EVAL_MINATAR], 0, 0, "tuned A2C train config: MinAtar games"),
    F("log_points", CONFIG_INT, log_points, 1, 100000, "points of each learning curve"),
    OUT("output_dir", CONFIG_PATH, output_dir, 0, 0, "curves, results.md, results.csv, results.json"),
};
const int eval_config_num_fields = (int)(sizeof eval_config_fields / sizeof eval_config_fields[0]);

const EvalFamilyRow eval_families[EVAL_FAMILIES] = {
    [EVAL_TABULAR_GRID] = {"steps_tabular_grid", "a2c_tabular_grid", "tabular grids",
                           "a2c/tabular_grid.json"},
    [EVAL_RANDOM_GRID] = {"steps_random_grid", "a2c_random_grid", "random grids",
                          "a2c/random_grid.json"},
    [EVAL_CHAIN] = {"steps_chain", "a2c_chain", "chains", "a2c/chain.json"},
    [EVAL_CHAIN_DISTRACTION] = {"steps_chain_distraction", "a2c_chain_distraction",
                                "chains with distraction bits", "a2c/chain_distraction.json"},
    [EVAL_MINATAR] = {"steps_minatar", "a2c_minatar", "MinAtar", "a2c/minatar.json"},
};

void eval_config_defaults(EvalConfig *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->rule, "../checkpoints/general.lpg");
    c->seed = 1000; /* away from the seeds A2C was tuned on and rules were meta-trained on */
    c->seeds = 16;
    c->steps = 320000;
    c->copies = 32;
    c->unroll = 20;
    c->threads = 4;
    c->mlp_hidden.count = 1;
    c->mlp_hidden.item[0] = 32;
    c->agent = AGENT_CHOICE_MLP;
    /* The rule steps default to those chosen for the default rule, checkpoints/general.lpg. */
    c->tabular_alpha_lr = 4;
    c->chain_alpha_lr = 8;
    c->mlp_alpha_lr = 0.003;
    c->inner_optimizer = INNER_ADAM;
    c->alpha_y = 1;
    for (int f = 0; f < EVAL_FAMILIES; f++)
        strcpy(c->a2c[f], eval_families[f].a2c_default);
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

/* ---- the rules ------------------------------------------------------------------------ */

static const char *const rule_keys[] = {"name", "path", "tabular_alpha_lr", "chain_alpha_lr",
                                        "mlp_alpha_lr", "alpha_y", "inner_optimizer", NULL};

/* A method name: 1..31 letters, digits, '_' or '-' (it names curve files), not "a2c". */
static int check_rule_name(const char *name, const char *where)
{
    size_t len = strlen(name);
    int ok = len > 0 && len < EVAL_NAME_MAX && strcmp(name, "a2c") != 0;
    for (size_t i = 0; ok && i < len; i++)
        ok = isalnum((unsigned char)name[i]) || name[i] == '_' || name[i] == '-';
    if (!ok)
        return lpg_error("%s: key 'name': \"%s\" must be 1 to %d letters, digits, '_' or '-', and "
                         "not \"a2c\"", where, name, EVAL_NAME_MAX - 1);
    return 0;
}

/* Adds a rule, its path relative to base_dir (NULL: as it is); alphas NaN: the config's,
 * filled in by eval_config_check. */
static int add_rule(EvalConfig *c, const char *name, const char *path, const char *base_dir,
                    const char *where)
{
    if (c->num_rules >= EVAL_MAX_RULES)
        return lpg_error("%s: key 'rules': at most %d rules", where, EVAL_MAX_RULES);
    EvalRule *r = &c->rules[c->num_rules];
    if (check_rule_name(name, where))
        return -1;
    for (int i = 0; i < c->num_rules; i++)
        if (strcmp(c->rules[i].name, name) == 0)
            return lpg_error("%s: key 'rules': two rules are named \"%s\"", where, name);
    snprintf(r->name, sizeof r->name, "%s", name);
    if (base_dir ? config_resolve_path(base_dir, path, r->path, sizeof r->path)
                 : snprintf(r->path, sizeof r->path, "%s", path) >= (int)sizeof r->path)
        return lpg_error("%s: key 'path': path too long", where);
    r->tabular_alpha_lr = r->chain_alpha_lr = r->mlp_alpha_lr = r->alpha_y = NAN;
    c->num_rules++;
    return 0;
}

/* A rule's own "inner_optimizer" (a string, checked by eval_config_check), if it has one. */
static int read_rule_optimizer(const cJSON *item, EvalRule *r, const char *where)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(item, "inner_optimizer");
    if (!value)
        return 0;
    if (!cJSON_IsString(value) ||
        snprintf(r->inner_optimizer, sizeof r->inner_optimizer, "%s", value->valuestring) >=
            (int)sizeof r->inner_optimizer)
        return lpg_error("%s: key 'inner_optimizer': expected \"sgd\" or \"adam\"", where);
    return 0;
}

/* "rules": [{"name", "path"[, "tabular_alpha_lr", "chain_alpha_lr", "mlp_alpha_lr", "alpha_y",
 * "inner_optimizer"]}, ...],
 * paths relative to base_dir. */
static int read_rules(EvalConfig *c, const cJSON *rules, const char *path, const char *base_dir)
{
    char where[LPG_PATH_MAX + 32];
    if (!cJSON_IsArray(rules) || cJSON_GetArraySize(rules) < 1)
        return lpg_error("%s: key 'rules': expected a list of 1 to %d objects {\"name\", "
                         "\"path\"}", path, EVAL_MAX_RULES);
    c->num_rules = 0;
    int k = 0;
    for (const cJSON *item = rules->child; item; item = item->next, k++) {
        snprintf(where, sizeof where, "%s: rules[%d]", path, k);
        if (!cJSON_IsObject(item))
            return lpg_error("%s: key 'rules': expected an object {\"name\", \"path\"}", where);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");
        const cJSON *file = cJSON_GetObjectItemCaseSensitive(item, "path");
        if (config_check_keys(item, rule_keys, where))
            return -1;
        if (!cJSON_IsString(name) || !cJSON_IsString(file))
            return lpg_error("%s: keys 'name' and 'path': expected two strings", where);
        if (add_rule(c, name->valuestring, file->valuestring, base_dir, where))
            return -1;
        EvalRule *r = &c->rules[c->num_rules - 1];
        if (config_get_double(item, "tabular_alpha_lr", 0, 0, 1e6, &r->tabular_alpha_lr, where) ||
            config_get_double(item, "chain_alpha_lr", 0, 0, 1e6, &r->chain_alpha_lr, where) ||
            config_get_double(item, "mlp_alpha_lr", 0, 0, 1e6, &r->mlp_alpha_lr, where) ||
            config_get_double(item, "alpha_y", 0, 0, 1e3, &r->alpha_y, where) ||
            read_rule_optimizer(item, r, where))
            return -1;
    }
    return 0;
}

/* The override "rules=<name>:<file>,<name>:<file>..." (files relative to the working folder). */
static int override_rules(EvalConfig *c, const char *value)
{
    char buf[4096];
    const char *where = "override 'rules'";
    if (snprintf(buf, sizeof buf, "%s", value) >= (int)sizeof buf)
        return lpg_error("%s: value too long", where);
    c->num_rules = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        if (!colon)
            return lpg_error("%s: expected <name>:<file>, got '%s'", where, tok);
        *colon = '\0';
        if (add_rule(c, tok, colon + 1, ".", where))
            return -1;
    }
    if (c->num_rules == 0)
        return lpg_error("%s: expected <name>:<file>,...", where);
    return 0;
}

/* ---- loading -------------------------------------------------------------------------- */

static int eval_config_check(EvalConfig *c, const char *where)
{
    if (c->envs.count < 1)
        return lpg_error("%s: key 'envs': at least one environment file is required", where);
    if (agent_check_hidden(c->mlp_hidden.count, where))
        return -1;
    c->conv_filters = agent_choice_filters(c->agent);
    if (c->num_rules == 0 && add_rule(c, "lpg", c->rule, NULL, where))
        return -1;
    for (int i = 0; i < c->num_rules; i++) {
        EvalRule *r = &c->rules[i];
        if (isnan(r->tabular_alpha_lr))
            r->tabular_alpha_lr = c->tabular_alpha_lr;
        if (isnan(r->chain_alpha_lr))
            r->chain_alpha_lr = c->chain_alpha_lr;
        if (r->chain_alpha_lr == 0)
            r->chain_alpha_lr = r->tabular_alpha_lr;
        if (isnan(r->mlp_alpha_lr))
            r->mlp_alpha_lr = c->mlp_alpha_lr;
        if (isnan(r->alpha_y))
            r->alpha_y = c->alpha_y;
        if (!r->inner_optimizer[0])
            snprintf(r->inner_optimizer, sizeof r->inner_optimizer, "%s",
                     inner_optimizer_names[c->inner_optimizer]);
        InnerOptimizer o;
        char rule_where[LPG_PATH_MAX + 64];
        snprintf(rule_where, sizeof rule_where, "%s: rule '%s'", where, r->name);
        if (inner_optimizer_parse(r->inner_optimizer, &o, rule_where))
            return -1;
    }
    return 0;
}

/* The file's keys; "rules" is read here, the others through the field table. */
static int apply_file(EvalConfig *c, const char *path)
{
    cJSON *root = config_parse_file(path);
    if (!root)
        return -1;
    char dir[LPG_PATH_MAX];
    config_dirname(path, dir, sizeof dir);
    cJSON *rules = cJSON_DetachItemFromObjectCaseSensitive(root, "rules");
    int rc = 0;
    if (rules && cJSON_GetObjectItemCaseSensitive(root, "rule"))
        rc = lpg_error("%s: keys 'rule' and 'rules': give one or the other", path);
    if (rc == 0)
        rc = config_apply_json(root, eval_config_fields, eval_config_num_fields, c, path, dir);
    if (rc == 0 && rules)
        rc = read_rules(c, rules, path, dir);
    cJSON_Delete(rules);
    cJSON_Delete(root);
    return rc;
}

int eval_config_load(EvalConfig *c, const char *path, int noverrides, char **overrides)
{
    eval_config_defaults(c);
    snprintf(c->source, sizeof c->source, "%s", path);
    if (resolve_default_paths(c, path) || apply_file(c, path))
        return -1;
    for (int i = 0; i < noverrides; i++) {
        const char *o = overrides[i];
        if (strncmp(o, "rules=", 6) == 0) {
            if (override_rules(c, o + 6))
                return -1;
            continue;
        }
        if (config_apply_override(o, eval_config_fields, eval_config_num_fields, c))
            return -1;
        if (strncmp(o, "rule=", 5) == 0)
            c->num_rules = 0; /* the one rule given replaces the file's list */
    }
    return eval_config_check(c, path);
}
