/* cmd_train.c: `lpg train <config> [key=value ...]`: trains one agent per seed on one
 * environment with A2C or a saved rule, writes the learning curve CSV and prints the final
 * return over seeds. The loop lives in train.c. */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "memory_estimate.h"
#include "env.h"
#include "rule_file.h"
#include "stats.h"
#include "train.h"
#include "util.h"

static void print_train_usage(void)
{
    TrainConfig defaults;
    train_config_defaults(&defaults);
    printf("usage: lpg train <config.json> [key=value ...]\n\n"
           "Trains one agent per seed on one environment, with A2C (method \"a2c\": the agent\n"
           "plus a value head) or with a saved rule (method \"lpg\": the agent with 30 y outputs,\n"
           "updated by Eq. 2 with the rule's outputs; method \"lpg_v\" for an LPG-V rule: the\n"
           "agent without y, a TD(lambda) value the rule reads, section 12; a rule of the other\n"
           "kind is refused). Writes a learning curve CSV: steps, mean\n"
           "return over seeds and its standard error, mean reward per step and its standard\n"
           "error, then one return column per seed (seed_<s>) and one reward per step column per\n"
           "seed (reward_per_step_seed_<s>). A point's return is the mean return of the episodes\n"
           "that ended since the previous point (nan when none did); its reward per step covers\n"
           "every step since the previous point. Prints the final score: each seed's reward per\n"
           "step over its last %d%% of steps, then mean +- standard error over seeds (defined\n"
           "however long episodes are; lpg eval and scripts/sweep use the same score), and the\n"
           "mean return of the episodes that ended in that window. A progress line goes to\n"
           "stderr. Results do not depend on 'threads'. The method: docs/method.md (the rule's\n"
           "update: section 4; A2C: section 9).\n\n"
           "config keys (paths are relative to the config file; key=value overrides one key):\n",
           TRAIN_FINAL_PERCENT);
    config_print_fields(train_config_fields, train_config_num_fields, &defaults);
}

/* Prints up to 10 evenly spaced points of the curve, then the final score over seeds. */
static void print_summary(const TrainResult *result, const TrainConfig *c, const EnvSpec *spec)
{
    double mean, se, rate, rate_se;
    int count, rows = result->num_points < 10 ? result->num_points : 10;
    printf("%12s  %12s  %10s  %15s\n", "steps", "return", "std err", "reward per step");
    for (int i = 1; i <= rows; i++) {
        int k = (int)((long long)result->num_points * i / rows) - 1;
        train_point_stats(result, k, &mean, &se, &count);
        mean_se_skip_nan(result->reward_curve + k, result->num_seeds, (size_t)result->num_points,
                         &rate, &rate_se);
        printf("%12lld  %12.4g  %10.2g  %15.4g\n", (long long)result->point_steps[k], mean, se,
               rate);
    }
    TrainScore score;
    train_final_score(result, &score);
    long long steps = (long long)result->point_steps[result->num_points - 1];
    printf("%s on %s: final score %.4g +- %.2g reward per step over the last %d%% of steps "
           "(%d seeds, %lld steps each, %.1fs)\n", train_method_names[c->method], spec->name,
           score.mean, score.se, TRAIN_FINAL_PERCENT, score.seeds, steps, result->seconds);
    printf("%s on %s: final return %.4g +- %.2g (%lld episodes ended in that window)\n",
           train_method_names[c->method], spec->name, score.return_mean, score.return_se,
           (long long)score.episodes);
    printf("learning curve: %s\n", c->output);
}

int cmd_train(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        print_train_usage();
        return 0;
    }
    CommandArgs args;
    int bad = command_args_parse("train", "config", argc, argv, NULL, 0, 1, &args);
    if (bad)
        return bad;
    TrainConfig config;
    if (train_config_load(&config, args.path, args.noverrides, args.overrides))
        return 1;
    EnvSpec spec;
    if (env_load(config.env, &spec) ||
        agent_check_kind(config.conv_filters, &spec, 1, args.path))
        return 1;
    RuleLayout layout;
    real *eta = NULL;
    if (config.method_kind == TRAIN_LPG && !(eta = rule_file_load(config.rule, &layout)))
        return 1;
    /* Refused before any work: an output that cannot be written, a run too big for memory. */
    if (check_output_file(config.output, "output") ||
        memory_check(memory_train(&config, &spec, eta ? layout.hidden : 0), config.max_memory,
                     args.path)) {
        free(eta);
        return 1;
    }
    TrainResult result;
    int rc = train_run(&config, &spec, &layout, eta, 1, &result);
    free(eta);
    if (rc)
        return 1;
    rc = train_write_csv(&result, &config, config.output);
    if (rc == 0 && result.stats)
        rc = train_write_stats_csv(&result, config.stats_output);
    if (rc == 0)
        print_summary(&result, &config, &spec);
    train_result_free(&result);
    return rc ? 1 : 0;
}
