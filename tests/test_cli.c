/* test_cli.c: every command splits its words the same way: unknown flags, a missing or second
 * file, and bad overrides give one kind of message and exit status 2 (1 for a bad value). */
#include <stdio.h>
#include <string.h>

#include "test.h"

TEST(cli_every_command_refuses_unknown_flags_alike)
{
    const char *commands[][2] = {
        {"env", "configs/envs/tabular_dense.json"}, {"train", "configs/demo.json"},
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
        /* With no file at all: one line naming what is missing. */
        CHECK_INT(run_lpg(commands[i][0], out, sizeof out), 2);
        CHECK(strstr(out, "given (try 'lpg ") != NULL);
    }
}

TEST(cli_second_file_and_missing_option_value)
{
    char out[4096];
    CHECK_INT(run_lpg("train configs/demo.json stray", out, sizeof out), 2);
    CHECK(strcmp(out, "lpg: train: more than one config given ('configs/demo.json', 'stray')\n") == 0);
    CHECK_INT(run_lpg("info a.lpg b.lpg", out, sizeof out), 2);
    CHECK(strcmp(out, "lpg: info: more than one file given ('a.lpg', 'b.lpg')\n") == 0);
    CHECK_INT(run_lpg("gradcheck configs/grid.json --copies", out, sizeof out), 2);
    CHECK(strcmp(out, "lpg: gradcheck: --copies needs a value\n") == 0);
    CHECK_INT(run_lpg("env configs/envs/tabular_dense.json --seed", out, sizeof out), 2);
    CHECK(strcmp(out, "lpg: env: --seed needs a value\n") == 0);
}

TEST(cli_override_errors_name_the_key_once)
{
    char out[4096];
    CHECK_INT(run_lpg("train configs/demo.json lr=abc", out, sizeof out), 1);
    CHECK(strcmp(out, "lpg: command line: key 'lr': expected a number, got 'abc'\n") == 0);
    CHECK_INT(run_lpg("train configs/demo.json bogus=1", out, sizeof out), 1);
    CHECK(strcmp(out, "lpg: command line: unknown key 'bogus'\n") == 0);
    CHECK_INT(run_lpg("meta-train configs/grid.json seeds=-1", out, sizeof out), 1);
    CHECK(strcmp(out, "lpg: command line: unknown key 'seeds'\n") == 0);
    CHECK_INT(run_lpg("eval configs/eval_quick.json seeds=0", out, sizeof out), 1);
    CHECK(strstr(out, "lpg: command line: key 'seeds': value 0 is out of range") == out);
}
