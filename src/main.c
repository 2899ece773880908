/* main.c: the lpg binary. Parses the first word and dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>
#include <cblas.h>

#include "blas_cpu.h"
#include "commands.h"
#include "cpu_pin.h"
#include "dist.h"
#include "util.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    int ranks; /* splits its work across MPI ranks (dist.h) */
} Command;

static const Command commands[] = {
    {"env", cmd_env, "show an environment's sizes; --render plays random steps as text", 0},
    {"train", cmd_train, "train agents with A2C or a saved rule on one environment, over seeds", 0},
    {"meta-train", cmd_meta_train, "meta-train an update rule over many lifetimes (--resume continues)", 1},
    {"eval", cmd_eval, "a saved rule against tuned A2C on held-out environments, over seeds", 1},
    {"info", cmd_info, "show how a rule file or meta-training checkpoint was made (--sections)", 0},
    {"analyse", cmd_analyse, "what a rule's y learns: ymap, values, converge (Figures 4-6)", 0},
    {"gradcheck", cmd_gradcheck, "check the meta-gradient against finite differences on a config", 0},
    {NULL, NULL, NULL, 0},
};

static void print_usage(FILE *out)
{
    fprintf(out, "usage: lpg <command> [args]    (lpg <command> --help for details)\n\n"
                 "Learned Policy Gradient (Oh et al., NeurIPS 2020): meta-learn an RL update rule\n"
                 "on toy environments and train fresh agents with it. The method as implemented:\n"
                 "docs/method.md.\n\ncommands:\n");
    for (const Command *c = commands; c->name; c++)
        fprintf(out, "  %-12s %s\n", c->name, c->summary);
    fprintf(out, "  %-12s %s\n  %-12s %s\n", "help", "this text", "--version", "print the version");
}

static int run_command(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("lpg %s\n", LPG_VERSION);
        return 0;
    }
    for (const Command *c = commands; c->name; c++) {
        if (strcmp(name, c->name) != 0)
            continue;
        if (dist_size() > 1 && !c->ranks)
            return lpg_error("%s runs as one process; of the commands only meta-train and eval "
                             "split their work across MPI ranks (run %s with -np 1)", name,
                             name), 2;
        return c->run(argc - 1, argv + 1);
    }
    lpg_error("unknown command '%s' (try 'lpg help')", name);
    return 2;
}

int main(int argc, char **argv)
{
    if (cpu_pin_apply(argv))
        return 2;
    blas_cpu_fix(argv);
    /* Lifetimes run on our own threads; OpenBLAS threading on tiny matrices only costs time. */
    openblas_set_num_threads(1);
    if (dist_init(&argc, &argv))
        return 1;
    /* In build/lpg-mpi a failing rank ends the whole job, naming itself. */
    return dist_finish(run_command(argc, argv));
}
