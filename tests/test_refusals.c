/* test_refusals.c: configs that would fail late are refused before any work: a run that needs
 * more memory than the machine or max_memory (with the figure), and outputs that cannot be
 * written (an output_dir that is a file, an output that is a folder, a run_dir that is a file). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memory_estimate.h"
#include "test.h"
#include "util.h"

#define TINY "tests/configs/meta_tiny.json"

TEST(memory_estimates_grow_with_the_config)
{
    MetaConfig c;
    CHECK_INT(meta_config_load(&c, TINY, 0, NULL), 0);
    EnvSpec spec;
    CHECK_INT(env_load("configs/envs/tabular_dense.json", &spec), 0);
    double one = memory_meta_train(&c, &spec, 1);
    c.lifetimes *= 2;
    double two = memory_meta_train(&c, &spec, 1);
    c.lifetimes = c.lifetimes / 2 * 3;
    double three = memory_meta_train(&c, &spec, 1);
    c.lifetimes = c.lifetimes / 3 * 2;
    CHECK(one > 1e5 && one < 1e8);
    /* Lifetimes add linearly; the rest (the program itself, 12 MiB, and η, Adam and the
     * meta-gradient's exact sum, a few hundred KiB at this rule width) is fixed. */
    double fixed = 2 * one - two;
    CHECK(two > one && fixed > 12.0 * 1024 * 1024 && fixed < 13.0 * 1024 * 1024);
    CHECK_NEAR((three - two) / (two - one), 1.0, 1e-9);
    c.unroll = 1000;
    CHECK(memory_meta_train(&c, &spec, 1) > 1.1 * two); /* rollouts and work space grow */
    CHECK(memory_machine_bytes() > 1e8);
}

TEST(huge_configs_are_refused_before_any_work_with_the_figure)
{
    char out[8192];
    CHECK_INT(system("rm -rf build/test_runs/huge"), 0);
    CHECK_INT(run_lpg("meta-train configs/all.json lifetimes=4096 run_dir=build/test_runs/huge",
                      out, sizeof out), 1);
    CHECK(strstr(out, "lpg: configs/all.json: needs about ") != NULL);
    CHECK(strstr(out, "GiB of memory, more than this machine's ") != NULL);
    CHECK(access("build/test_runs/huge/checkpoint.lpg", F_OK) != 0);
    CHECK(strstr(out, "meta-step") == NULL);
    CHECK_INT(run_lpg("meta-train " TINY " max_memory=0.001 run_dir=build/test_runs/huge", out,
                      sizeof out), 1);
    CHECK(strstr(out, "more than max_memory = 0.001 GiB") != NULL);
    CHECK_INT(run_lpg("train configs/a2c/random_grid.json copies=4096 seeds=1024 threads=256 "
                      "mlp_hidden=4096,4096,4096,4096", out, sizeof out), 1);
    CHECK(strstr(out, "lpg: configs/a2c/random_grid.json: needs about ") != NULL);
    CHECK(strstr(out, "final return") == NULL);
    CHECK_INT(run_lpg("train tests/configs/train_chain.json max_memory=0.00001", out, sizeof out), 1);
    CHECK(strstr(out, "more than max_memory = 1e-05 GiB") != NULL);
    CHECK_INT(run_lpg("eval tests/configs/eval_tiny.json rule=checkpoints/grid.lpg max_memory=0.00001",
                      out, sizeof out), 1);
    CHECK(strstr(out, "tests/configs/eval_tiny.json: needs about") != NULL);
}

TEST(unwritable_outputs_are_refused_before_any_work)
{
    char out[8192];
    CHECK_INT(system("mkdir -p build/test_outputs && : > build/test_outputs/a_file"), 0);
    CHECK_INT(run_lpg("eval tests/configs/eval_tiny.json rule=checkpoints/grid.lpg "
                      "output_dir=build/test_outputs/a_file", out, sizeof out), 1);
    CHECK(strstr(out, "key 'output_dir': build/test_outputs/a_file is a file, not a folder") != NULL);
    CHECK(strstr(out, "final return") == NULL); /* nothing ran */
    CHECK_INT(run_lpg("train tests/configs/train_chain.json output=.", out, sizeof out), 1);
    CHECK(strstr(out, "key 'output': . is a folder; expected a file name") != NULL);
    CHECK(strstr(out, "final return") == NULL);
    CHECK_INT(run_lpg("train tests/configs/train_chain.json output=build/test_outputs/a_file/x.csv",
                      out, sizeof out), 1);
    CHECK(strstr(out, "final return") == NULL);
    CHECK_INT(run_lpg("meta-train " TINY " run_dir=build/test_outputs/a_file", out, sizeof out), 1);
    CHECK(strstr(out, "key 'run_dir': build/test_outputs/a_file is a file, not a folder") != NULL);
    /* Leftover .tmp files of a killed run are removed before the run writes. */
    CHECK_INT(system("mkdir -p build/test_outputs/eval && : > build/test_outputs/eval/results.md.tmp"
                     " && : > build/test_outputs/eval/keep.txt"), 0);
    CHECK_INT(run_lpg("eval tests/configs/eval_tiny.json rule=checkpoints/grid.lpg "
                      "output_dir=build/test_outputs/eval max_memory=0.00001", out, sizeof out), 1);
    CHECK(access("build/test_outputs/eval/results.md.tmp", F_OK) != 0);
    CHECK(access("build/test_outputs/eval/keep.txt", F_OK) == 0);
    CHECK_INT(system(": > build/test_outputs/curve.csv.tmp"), 0);
    CHECK_INT(run_lpg("train tests/configs/train_chain.json steps=2000 seeds=1 "
                      "output=build/test_outputs/curve.csv", out, sizeof out), 0);
    CHECK(access("build/test_outputs/curve.csv.tmp", F_OK) != 0);
    CHECK(access("build/test_outputs/curve.csv", F_OK) == 0);
}
