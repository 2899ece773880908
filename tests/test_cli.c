/* test_cli.c: every command splits its words the same way: unknown flags, a missing or second
 * file, and bad overrides give one kind of message and exit status 2 (1 for a bad value). */
#include <stdio.h>
#include <string.h>

#include "test.h"

TEST(cli_every_command_refuses_unknown_flags_alike)
{
    const char *commands[][2] = {
        {"env", "configs/envs/tabular_dense.json"}, {"train", "tests/configs/train_chain.json"},
        {"eval", "configs/eval_quick.json"},        {"meta-train", "configs/grid.json"},
        {"info", "checkpoints/grid.lpg"},           {"gradcheck", "configs/grid.json"},
    };
    char out[4096], args[256], expected[256];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        snprintf(args, sizeof args, "%s %s --bogus", commands[i][0], commands[i][1]);
        CHECK_INT(run_lpg(args, out, sizeof out), 2);
        snprintf(expected, sizeof expected,
                 "lpg: %s: unknown option '--bogus' (try 'lpg %s --help')\n", commands[i][0],
                 commands[i][0]);
        if (strcmp(out, expected) != 0)
            fprintf(stderr, "  %s gave: %s", args, out);
        CHECK(strcmp(out, expected) == 0);
        /* With no file at all: one line naming what is missing (info alone shows the program's
         * provenance instead, test_info.c). */
        if (strcmp(commands[i][0], "info") == 0)
            continue;
        CHECK_INT(run_lpg(commands[i][0], out, sizeof out), 2);
        CHECK(strstr(out, "given (try 'lpg ") != NULL);
    }
}

/* Runs lpg with args and checks its exit status and its whole output, one error line. */
static void check_cli(const char *args, int status, const char *expected_line)
{
    char out[4096];
    CHECK_INT(run_lpg(args, out, sizeof out), status);
    size_t len = strlen(expected_line);
    int same = strncmp(out, expected_line, len) == 0 && strcmp(out + len, "\n") == 0;
    if (!same)
        fprintf(stderr, "  lpg %s gave: %s", args, out);
    CHECK(same);
}

TEST(cli_second_file_and_missing_option_value)
{
    check_cli("train tests/configs/train_chain.json stray", 2,
              "lpg: train: more than one config given ('tests/configs/train_chain.json', 'stray')");
    check_cli("info a.lpg b.lpg", 2, "lpg: info: more than one file given ('a.lpg', 'b.lpg')");
    check_cli("gradcheck configs/grid.json --copies", 2, "lpg: gradcheck: --copies needs a value");
    check_cli("env configs/envs/tabular_dense.json --seed", 2, "lpg: env: --seed needs a value");
}

TEST(cli_override_errors_name_the_key_once)
{
    check_cli("train tests/configs/train_chain.json lr=abc", 1,
              "lpg: command line: key 'lr': expected a number, got 'abc'");
    check_cli("train tests/configs/train_chain.json bogus=1", 1,
              "lpg: command line: unknown key 'bogus'");
    check_cli("meta-train configs/grid.json seeds=-1", 1, "lpg: command line: unknown key 'seeds'");
    check_cli("eval configs/eval_quick.json seeds=0", 1,
              "lpg: command line: key 'seeds': value 0 is out of range [1, 1024]");
}

TEST(cli_agent_key_is_checked_against_the_environments)
{
    check_cli("train tests/configs/train_chain.json agent=cnn", 1,
              "lpg: command line: key 'agent': expected \"mlp\" or \"conv\", got \"cnn\"");
    check_cli("train tests/configs/train_chain.json agent=conv", 1,
              "lpg: tests/configs/train_chain.json: key 'agent': \"conv\" needs an environment "
              "whose observation is an image (MinAtar, random grids), and "
              "tests/configs/../../configs/envs/chain_short.json is not one");
    check_cli("meta-train configs/grid.json agent=conv run_dir=build/test_runs/conv_refused", 1,
              "lpg: configs/grid.json: key 'agent': \"conv\" needs an environment whose "
              "observation is an image (MinAtar, random grids), and none of the 5 is one");
}
