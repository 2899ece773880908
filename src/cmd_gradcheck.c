/* cmd_gradcheck.c: `lpg gradcheck <meta-config> [key=value ...]`: checks the exact meta-gradient
 * against finite differences on every environment of a meta-train config (gradcheck.h) and
 * prints one line per environment and parameter group of η, then a verdict. Exit code 0 when
 * every group passes, 1 when one fails, 2 on bad arguments or a bad config. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "gradcheck.h"
#include "meta_config.h"
#include "real.h"

typedef struct {
    CommandArgs words;        /* the config (words.path) and its key=value overrides */
    const char *env_name;     /* only this environment (its name or file), or NULL for all */
    int copies, unroll, samples; /* 0: the default */
    double step, floor_ratio; /* 0: the default */
} GradcheckArgs;

static void print_gradcheck_usage(FILE *out)
{
    GradcheckOptions o;
    gradcheck_default_options(&o);
    fprintf(out,
            "usage: lpg gradcheck <meta-config.json> [key=value ...] [--env NAME] [--copies N]\n"
            "                     [--unroll T] [--samples N] [--step H] [--floor R]\n\n"
            "Checks the exact meta-gradient dJ/deta (K inner updates, docs/method.md section 6)\n"
            "against central finite differences of J (fourth-order stencil) on the setup of a\n"
            "meta-train config: for each environment in 'envs', the agent (mlp_hidden, 30 y\n"
            "outputs), a random rule of width rule_hidden, a window of K updates with alpha_lr the\n"
            "first of the bandit's lrs for the agent's kind, alpha_y the first of alpha_ys, the\n"
            "config's betas, and A-hat from the critic (critic_lr or critic_tabular_lr,\n"
            "gae_lambda); with input_grad=true, the meta-gradient through the rule's inputs too.\n"
            "Prints the worst relative error |g - fd| / max(|g|, |fd|, floor) of each parameter\n"
            "group of eta, where floor = max(R x the largest |dJ/deta|, 100 eps |J| / h) (eps of\n"
            "the precision, the round-off of J over the step), then a verdict. A coordinate that\n"
            "fails at h is retried at 4h, h/10 and h/100 (round-off; relu kinks of MLP agents) and\n"
            "is judged by its best step. Exit code 0 when all groups pass, 1 when one fails, 2 on bad input.\n\n"
            "Precision: this binary computes in %s: h = %g, R = %g, pass below %g.\n"
            "build/lpg-double is the exact check (double: h = 2e-3, R = 1e-3, pass below 1e-6);\n"
            "build/lpg (float) resolves J only to about 1e-8, so it checks to 1e-2 with R = 0.1.\n\n"
            "  key=value      override a key of the config (see lpg meta-train --help)\n"
            "  --env NAME     check only the environment with this name (or file path)\n"
            "  --copies N     environment copies per rollout (default min(copies, %d))\n"
            "  --unroll T     steps per rollout (default min(unroll, %d))\n"
            "  --samples N    coordinates checked per parameter group (default %d)\n"
            "  --step H       the finite-difference step (default %g)\n"
            "  --floor R      the error floor as a fraction of the largest coordinate (default %g)\n",
            REAL_NAME, o.step, o.floor_ratio, o.threshold, o.copies, o.unroll, o.samples, o.step,
            o.floor_ratio);
}

static int parse_count(const char *option, const char *text, int max, int *out)
{
    unsigned long long value;
    if (parse_unsigned(text, (unsigned long long)max, &value) || value < 1)
        return lpg_error("gradcheck: %s: expected an integer in [1, %d], got '%s'", option, max,
                         text);
    *out = (int)value;
    return 0;
}

static int parse_fraction(const char *option, const char *text, double *out)
{
    double value;
    if (parse_double(text, &value) || !(value > 0 && value <= 1))
        return lpg_error("gradcheck: %s: expected a number in (0, 1], got '%s'", option, text);
    *out = value;
    return 0;
}

static int parse_gradcheck_args(int argc, char **argv, GradcheckArgs *args)
{
    memset(args, 0, sizeof *args);
    const char *copies = NULL, *unroll = NULL, *samples = NULL, *step = NULL, *floor_ratio = NULL;
    const CommandFlag flags[] = {
        {"--env", &args->env_name, NULL}, {"--copies", &copies, NULL},
        {"--unroll", &unroll, NULL},      {"--samples", &samples, NULL},
        {"--step", &step, NULL},          {"--floor", &floor_ratio, NULL},
    };
    int bad = command_args_parse("gradcheck", "config", argc, argv, flags, 6, 1, &args->words);
    if (bad)
        return bad;
    if ((copies && parse_count("--copies", copies, 1024, &args->copies)) ||
        (unroll && parse_count("--unroll", unroll, 1000, &args->unroll)) ||
        (samples && parse_count("--samples", samples, 1000000, &args->samples)) ||
        (step && parse_fraction("--step", step, &args->step)) ||
        (floor_ratio && parse_fraction("--floor", floor_ratio, &args->floor_ratio)))
        return 2;
    return 0;
}

static int min_int(int a, int b)
{
    return a < b ? a : b;
}

static void print_header(const GradcheckArgs *args, const GradcheckOptions *o, int K,
                         int input_grad, int lifetime_inputs)
{
    int exact = sizeof(real) == sizeof(double);
    printf("lpg gradcheck %s: precision %s%s, K = %d, rollouts %d copies x %d steps, "
           "input_grad %s, lifetime inputs %s\n", args->words.path, REAL_NAME,
           exact ? "" : " (a loose check; build/lpg-double is the exact one)", K, o->copies,
           o->unroll, input_grad ? "on (through the rule's inputs too)" : "off",
           lifetime_inputs ? "on (n/N, log N)" : "off");
    printf("finite differences: fourth-order central stencil, h = %g (a failing coordinate is "
           "retried at 4h, h/10, h/100), up to %d coordinates per group\n", o->step, o->samples);
    printf("error: |g - fd| / max(|g|, |fd|, floor), floor = max(%g x max|dJ/deta|, %g x "
           "eps x |J| / h) (smaller coordinates are judged against that floor); pass below %g\n",
           o->floor_ratio, o->roundoff_ratio, o->threshold);
}

static void print_result(const EnvSpec *env, const GradcheckResult *r, double threshold,
                         double seconds)
{
    printf("env %s (%s): %s agent, %zu params; rule %zu params; alpha_lr %g%s, alpha_y %g; "
           "J = %.6g, max|dJ/deta| = %.3g, floor %.2g (%.1f s)\n", env->name, env->path,
           r->kind == AGENT_TABULAR ? "tabular" : r->kind == AGENT_CONV ? "conv" : "mlp", r->agent_params, r->rule_params,
           r->alpha_lr, r->adam ? " (Adam steps)" : "", r->alpha_y, r->J, r->max_grad, r->floor,
           seconds);
    if (!r->resolved)
        printf("  note: every |dJ/deta| is below the round-off floor %.2g of %s: the lines below "
               "say nothing here; check this environment with build/lpg-double\n",
               r->roundoff_floor, REAL_NAME);
    for (int g = 0; g < RULE_GROUPS; g++) {
        const GradcheckGroup *group = &r->group[g];
        printf("  %-20s %-8s %4d of %6zu coords  worst rel error %.2e  %s", env->name,
               group->name, group->checked, group->size, group->worst,
               group->worst < threshold ? "ok" : "FAIL");
        if (group->retried)
            printf("  (%d retried at other steps)", group->retried);
        printf("\n");
    }
}

static int env_selected(const EnvSpec *env, const char *name)
{
    return !name || strcmp(env->name, name) == 0 || strcmp(env->path, name) == 0;
}

/* Loads every environment file of the config (so that a bad one is reported before any work)
 * and checks that --env names one of them. Returns 0, or -1 after reporting. */
static int check_envs(const MetaConfig *config, const GradcheckArgs *args)
{
    int selected = 0;
    for (int e = 0; e < config->envs.count; e++) {
        EnvSpec env;
        if (env_load(config->envs.item[e], &env))
            return -1;
        selected += env_selected(&env, args->env_name);
    }
    if (selected == 0)
        return lpg_error("gradcheck: no environment named '%s' in %s", args->env_name,
                         args->words.path);
    return 0;
}

/* Checks every selected environment; returns the number of failed groups, or -1 on an error. */
static int run_checks(const MetaConfig *config, const GradcheckArgs *args,
                      const GradcheckOptions *o, int *groups_checked, int *unresolved)
{
    int failed = 0;
    for (int e = 0; e < config->envs.count; e++) {
        EnvSpec env;
        if (env_load(config->envs.item[e], &env))
            return -1;
        if (!env_selected(&env, args->env_name))
            continue;
        GradcheckResult result;
        double start = now_seconds();
        if (gradcheck_env(config, &env, o, (uint64_t)config->seed + (uint64_t)e, &result))
            return -1;
        print_result(&env, &result, o->threshold, now_seconds() - start);
        fflush(stdout);
        for (int g = 0; g < RULE_GROUPS; g++)
            failed += !(result.group[g].worst < o->threshold);
        *groups_checked += RULE_GROUPS;
        *unresolved += !result.resolved;
    }
    return failed;
}

int cmd_gradcheck(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        print_gradcheck_usage(stdout);
        return 0;
    }
    GradcheckArgs args;
    MetaConfig config;
    if (parse_gradcheck_args(argc, argv, &args) ||
        meta_config_load(&config, args.words.path, args.words.noverrides, args.words.overrides))
        return 2;
    if (check_envs(&config, &args))
        return 2;
    GradcheckOptions o;
    gradcheck_default_options(&o);
    o.copies = args.copies ? args.copies : min_int(config.copies, o.copies);
    o.unroll = args.unroll ? args.unroll : min_int(config.unroll, o.unroll);
    if (args.samples)
        o.samples = args.samples;
    if (args.step > 0)
        o.step = args.step;
    if (args.floor_ratio > 0)
        o.floor_ratio = args.floor_ratio;
    print_header(&args, &o, config.K, config.input_grad, config.lifetime_inputs);
    int groups = 0, unresolved = 0;
    int failed = run_checks(&config, &args, &o, &groups, &unresolved);
    if (failed < 0)
        return 2;
    if (failed == 0 && unresolved > 0)
        printf("verdict: PASS (%d groups below %g in %s; but %d environment(s) below the "
               "round-off of %s, not checked: run build/lpg-double)\n", groups, o.threshold,
               REAL_NAME, unresolved, REAL_NAME);
    else if (failed == 0)
        printf("verdict: PASS (%d groups below %g in %s)\n", groups, o.threshold, REAL_NAME);
    else
        printf("verdict: FAIL (%d of %d groups at or above %g in %s)\n", failed, groups,
               o.threshold, REAL_NAME);
    return failed == 0 ? 0 : 1;
}
