/* cmd_eval.c: `lpg eval <config> [key=value ...]`: a saved rule against tuned A2C on several
 * environments over seeds; writes the curves and results tables and prints the table. The
 * work lives in eval.c. */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "eval.h"
#include "util.h"

static void print_eval_usage(void)
{
    EvalConfig defaults;
    eval_config_defaults(&defaults);
    printf("usage: lpg eval <config.json> [key=value ...]\n\n"
           "Trains fresh agents on each environment of 'envs' with the saved rule (LPG) and with\n"
           "A2C, over the same seeds, step budget, copies and unroll. A2C's learning keys\n"
           "(optimizer, lr, entropy_cost, value_cost, gae_lambda, grad_clip, rmsprop_decay,\n"
           "optimizer_eps) come from the tuned train config of the environment's family\n"
           "(a2c_tabular_grid, a2c_random_grid, a2c_chain, a2c_chain_distraction for chains with\n"
           "distraction bits); their other keys are ignored. LPG's inner step is\n"
           "tabular_alpha_lr for tabular agents, mlp_alpha_lr for MLP agents.\n\n"
           "Writes into output_dir one learning curve per environment and method\n"
           "(<env>.lpg.csv, <env>.a2c.csv, as `lpg train` writes them) and the table of final\n"
           "returns, results.md and results.csv, and prints the table. Final return: each seed's\n"
           "mean return over the last %d%% of the curve points, then mean and standard error over\n"
           "seeds; 'better' names the method ahead by more than two standard errors of the\n"
           "difference, else 'tie'. One line per environment and method goes to stderr.\n"
           "scripts/plot <output_dir> draws the curves.\n\n"
           "config keys (paths, defaults too, are relative to the config file; key=value\n"
           "overrides one key, its paths relative to the working folder):\n",
           EVAL_FINAL_PERCENT);
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
    printf("%s\nresults: %s/results.md, %s/results.csv\n", table, config->output_dir,
           config->output_dir);
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
    if (rc >= 0 && report(&config, rows))
        rc = 1;
    else if (rc > 0)
        lpg_error("eval: some runs failed (see above); their rows say \"failed\"");
    free(rows);
    return rc ? 1 : 0;
}
