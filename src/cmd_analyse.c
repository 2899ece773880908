/* cmd_analyse.c: `lpg analyse <analysis> <config> [key=value ...]`: what a rule's predictions y
 * hold (the paper's Figures 4-6). The analyses live in analyse_*.c (analyse.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse.h"
#include "commands.h"
#include "rule_file.h"
#include "util.h"

static void print_analyse_usage(void)
{
    AnalyseConfig defaults;
    analyse_config_defaults(&defaults);
    printf("usage: lpg analyse <ymap|values|converge> <config.json> [key=value ...]\n\n"
           "What a learned rule's predictions y hold. Every analysis runs on tabular grids (a\n"
           "tabular_grid file, or a procedural_grid file: a new layout per instance), holds the\n"
           "agent's policy fixed at the epsilon-greedy policy of the optimal values (exact value\n"
           "iteration on the grid's model, episode step limit left out) and updates only y with\n"
           "the rule; true values come from the same model.\n\n"
           "  ymap      (Figure 4) one grid: the y dimensions that correlate most with v_pi at\n"
           "            gamma, drawn over the grid beside it. Writes ymap.csv (a row per state\n"
           "            visited at least min_visits times: its y and values), ymap_dims.csv\n"
           "            (each dimension's correlation), ymap_grid.csv and ymap.png.\n"
           "  values    (Figure 5) y and a TD(lambda) value at gamma from 'instances' grids; a\n"
           "            one-hidden-layer MLP regresses v at each of value_gammas from y, another\n"
           "            from the TD value; their mean squared errors on the states of 'heldout'\n"
           "            more grids. Writes values.csv and values.png (bars).\n"
           "  converge  (Figure 6) two differently drawn y (init_std) under the same policy and\n"
           "            rollouts; KL(y0 || y1) over each rollout's states before every update,\n"
           "            averaged over 'instances' grids. Writes converge.csv and converge.png.\n\n"
           "Each writes into output_dir; the PNG is drawn with gnuplot (plot=false: CSV only),\n"
           "and the gnuplot script is kept beside it. A progress line goes to stderr. The method:\n"
           "docs/method.md (section 11).\n\n"
           "config keys (paths are relative to the config file; key=value overrides one key):\n");
    config_print_fields(analyse_config_fields, analyse_config_num_fields, &defaults);
}

int cmd_analyse(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        print_analyse_usage();
        return 0;
    }
    AnalyseKind kind;
    if (argc < 2 || argv[1][0] == '-')
        return lpg_error("analyse: no analysis given: ymap, values or converge (try 'lpg "
                         "analyse --help')"), 2;
    if (analyse_kind_parse(argv[1], &kind))
        return lpg_error("analyse: unknown analysis '%s': expected ymap, values or converge",
                         argv[1]), 2;
    CommandArgs args;
    int bad = command_args_parse("analyse", "config", argc - 1, argv + 1, NULL, 0, 1, &args);
    if (bad)
        return bad;
    AnalyseConfig config;
    if (analyse_config_load(&config, kind, args.path, args.noverrides, args.overrides) ||
        check_output_dir(config.output_dir, "output_dir"))
        return 1;
    RuleLayout layout;
    real *eta = rule_file_load(config.rule, &layout);
    if (!eta)
        return 1;
    if (layout.method != RULE_LPG || layout.y_raw) { /* the analyses read y as a distribution */
        lpg_error("%s: is a rule of kind %s; the analyses need an LPG rule (y a softmax)",
                  config.rule, rule_kind_name(&layout));
        free(eta);
        return 1;
    }
    if (layout.lifetime_inputs) { /* the analyses' agents have no lifetime to read */
        lpg_error("%s: reads lifetime inputs (n/N, log N); the analyses need a rule without them",
                  config.rule);
        free(eta);
        return 1;
    }
    int rc = kind == ANALYSE_YMAP     ? analyse_ymap(&config, &layout, eta, 1)
             : kind == ANALYSE_VALUES ? analyse_values(&config, &layout, eta, 1)
                                      : analyse_converge(&config, &layout, eta, 1);
    free(eta);
    return rc ? 1 : 0;
}
