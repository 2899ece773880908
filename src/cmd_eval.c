/* cmd_eval.c: `lpg eval <config> [key=value ...]`: saved rules against tuned A2C on several
 * environments over seeds; writes the curves and results tables and prints the table. The
 * work lives in eval.c. */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "dist.h"
#include "eval.h"
#include "util.h"

static void print_eval_usage(void)
{
    EvalConfig defaults;
    eval_config_defaults(&defaults);
    printf("usage: lpg eval <config.json> [key=value ...]\n\n"
           "Trains fresh agents on each environment of 'envs' with each saved rule and with A2C,\n"
           "over the same seeds, step budget, copies and unroll. The budget is 'steps', or per\n"
           "family steps_tabular_grid, steps_random_grid, steps_chain, steps_chain_distraction,\n"
           "steps_minatar\n"
           "where set (MLP agents on random grids learn over far more steps than tabular agents).\n"
           "The rules are either 'rule' (one file, method \"lpg\") or a list in the file:\n"
           "  \"rules\": [{\"name\": \"general\", \"path\": \"../checkpoints/general.lpg\"},\n"
           "            {\"name\": \"grid\", \"path\": \"../checkpoints/grid.lpg\",\n"
           "             \"tabular_alpha_lr\": 4, \"mlp_alpha_lr\": 0.5, \"alpha_y\": 0.5,\n"
           "             \"inner_optimizer\": \"adam\"}]\n"
           "(up to %d; the alphas and the optimizer are optional, default the keys below); on\n"
           "the command line\n"
           "rules=general:<file>,grid:<file>, or rule=<file> for one. A2C's learning keys\n"
           "(optimizer, lr, entropy_cost, value_cost, gae_lambda, grad_clip, rmsprop_decay,\n"
           "optimizer_eps) come from the tuned train config of the environment's family\n"
           "(a2c_tabular_grid, a2c_random_grid, a2c_chain, a2c_chain_distraction for chains with\n"
           "distraction bits, a2c_minatar); their other keys are ignored. A rule's inner step is\n"
           "tabular_alpha_lr for tabular agents (chain_alpha_lr on chains, if set), mlp_alpha_lr\n"
           "for MLP agents (docs/method.md section 9); MLP agents take it by SGD, or by Adam with\n"
           "inner_optimizer \"adam\"; alpha_y weighs the KL on y. Each is a key of the config or\n"
           "of a rule entry; as A2C's settings, they are tuned per family, on other seeds.\n\n"
           "Writes into output_dir one learning curve per environment and method\n"
           "(<env>.<rule name>.csv, <env>.a2c.csv, as `lpg train` writes them) and the results:\n"
           "results.md (the table it prints), results.csv (one row per environment and method)\n"
           "and results.json (per environment and method: mean, se, seeds, episodes, verdict).\n"
           "Final score: each seed's reward per step over its last %d%% of steps (every step\n"
           "counts, so it is defined however long episodes are; scripts/sweep uses the same),\n"
           "then mean and standard error over seeds. The mean return of the episodes that ended\n"
           "in that window is given beside it. A rule's verdict against A2C names the one ahead\n"
           "by more than two standard errors of the difference, else 'tie'. One line per\n"
           "environment and method goes to stderr. scripts/plot <output_dir> draws the curves.\n\n"
           "mpirun -np N build/lpg-mpi eval <config> splits the (environment, method, seed) jobs\n"
           "across N MPI ranks by their estimated cost (threads within a rank as here); rank 0\n"
           "gathers the results and alone writes the same files, byte for byte, as build/lpg.\n\n"
           "config keys (paths, defaults too, are relative to the config file; key=value\n"
           "overrides one key, its paths relative to the working folder):\n",
           EVAL_MAX_RULES, TRAIN_FINAL_PERCENT);
    config_print_fields(eval_config_fields, eval_config_num_fields, &defaults);
}

/* Writes the tables and prints the Markdown one. Returns 0 or -1. */
static int report(const EvalConfig *config, const EvalRow *rows)
{
    if (eval_write_tables(config, rows, config->envs.count))
        return -1;
    char *table = eval_table_markdown(config, rows, config->envs.count);
    if (!table)
        return -1;
    printf("%s\nresults: %s/results.md, %s/results.csv, %s/results.json\n", table,
           config->output_dir, config->output_dir, config->output_dir);
    free(table);
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        print_eval_usage();
        return 0;
    }
    CommandArgs args;
    int bad = command_args_parse("eval", "config", argc, argv, NULL, 0, 1, &args);
    if (bad)
        return bad;
    EvalConfig config;
    if (eval_config_load(&config, args.path, args.noverrides, args.overrides))
        return 1;
    EvalRow *rows = lpg_calloc((size_t)config.envs.count, sizeof *rows, "results");
    if (!rows)
        return 1;
    int rc = eval_run(&config, rows);
    if (rc >= 0 && dist_rank() != 0) /* rank 0 has every rank's results and reports them */
        rc = 0;
    else if (rc >= 0 && report(&config, rows))
        rc = 1;
    else if (rc > 0)
        lpg_error("eval: some runs failed (see above); their rows say \"failed\"");
    free(rows);
    return rc ? 1 : 0;
}
