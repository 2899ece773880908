/* test_gradcheck.c: `lpg gradcheck` end to end: on a small config it prints a line for every
 * environment and parameter group of η and passes (in float with build/lpg, in double with the
 * sanitized build), with input_grad too, and it refuses bad input with a message and a non-zero
 * exit. */
#include <stdio.h>
#include <string.h>

#include "rule.h"
#include "test.h"


/* True when out has a line "<env> <group> ... ok". */
static int has_group_line(const char *out, const char *env, const char *group)
{
    const char *line = out;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char first[64], second[64];
        if (sscanf(line, "%63s %63s", first, second) == 2 && strcmp(first, env) == 0 &&
            strcmp(second, group) == 0 && memmem(line, len, " ok", 3))
            return 1;
        line += len + (end ? 1 : 0);
    }
    return 0;
}

TEST(gradcheck_cli_passes_on_a_small_config)
{
    static char out[16384];
    int status = run_lpg("gradcheck tests/configs/gradcheck_small.json", out, sizeof out);
    CHECK_INT(status, 0);
    /* LPG_BIN is the float product binary, or the double one of the sanitizer run. */
    CHECK(strstr(out, "precision float") != NULL || strstr(out, "precision double") != NULL);
    CHECK(strstr(out, "judged against that floor") != NULL);
    CHECK(strstr(out, "verdict: PASS (22 groups") != NULL);
    CHECK(strstr(out, "note:") == NULL); /* the gradient is above the round-off floor */
    const char *envs[] = {"chain_short", "random_small"};
    for (int e = 0; e < 2; e++)
        for (int g = 0; g < RULE_GROUPS; g++)
            if (!has_group_line(out, envs[e], rule_group_names[g])) {
                CHECK(!"a group line is missing");
                fprintf(stderr, "    no passing line for %s %s\n", envs[e], rule_group_names[g]);
            }
    if (status != 0)
        fprintf(stderr, "%s", out);
}

TEST(gradcheck_cli_one_env_and_help)
{
    static char out[16384];
    CHECK_INT(run_lpg("gradcheck tests/configs/gradcheck_small.json --env chain_short --samples 2",
                      out, sizeof out), 0);
    CHECK(has_group_line(out, "chain_short", "lstm_wh"));
    CHECK(strstr(out, "random_small") == NULL);
    CHECK(strstr(out, "verdict: PASS (11 groups") != NULL);
    CHECK_INT(run_lpg("gradcheck --help", out, sizeof out), 0);
    CHECK(strstr(out, "usage: lpg gradcheck") != NULL);
    CHECK(strstr(out, "build/lpg-double") != NULL);
}

/* The input_grad key reaches the check (the header says so) and its gradient passes too. */
TEST(gradcheck_cli_checks_input_grad)
{
    static char out[16384];
    int status = run_lpg("gradcheck tests/configs/gradcheck_small.json input_grad=true", out,
                         sizeof out);
    CHECK_INT(status, 0);
    CHECK(strstr(out, "input_grad on") != NULL);
    CHECK(strstr(out, "verdict: PASS (22 groups") != NULL);
    if (status != 0)
        fprintf(stderr, "%s", out);
    CHECK_INT(run_lpg("gradcheck tests/configs/gradcheck_small.json --samples 1", out, sizeof out), 0);
    CHECK(strstr(out, "input_grad off") != NULL);
}

/* A lifetime-aware rule (lifetime_inputs): two more LSTM input rows, checked with the rest. */
TEST(gradcheck_cli_checks_a_lifetime_aware_rule)
{
    static char out[16384];
    int status = run_lpg("gradcheck tests/configs/gradcheck_small.json lifetime_inputs=true "
                         "input_grad=true", out, sizeof out);
    CHECK_INT(status, 0);
    CHECK(strstr(out, "lifetime inputs on") != NULL);
    CHECK(strstr(out, "verdict: PASS (22 groups") != NULL);
    if (status != 0)
        fprintf(stderr, "%s", out);
}

TEST(gradcheck_cli_refuses_bad_input)
{
    static char out[4096];
    CHECK(run_lpg("gradcheck tests/configs/gradcheck_bad.json", out, sizeof out) != 0);
    CHECK(strstr(out, "lpg: ") != NULL && strstr(out, "rule_hiden") != NULL);
    CHECK(strstr(out, "verdict") == NULL);
    CHECK(run_lpg("gradcheck tests/configs/no_such_config.json", out, sizeof out) != 0);
    CHECK(strstr(out, "no_such_config.json") != NULL);
    CHECK(run_lpg("gradcheck tests/configs/gradcheck_small.json --env nowhere", out, sizeof out) != 0);
    CHECK(strstr(out, "no environment named 'nowhere'") != NULL);
    CHECK(run_lpg("gradcheck tests/configs/gradcheck_small.json K=0", out, sizeof out) != 0);
    CHECK(strstr(out, "'K'") != NULL);
    CHECK(run_lpg("gradcheck tests/configs/gradcheck_small.json --copies 0", out, sizeof out) != 0);
    CHECK(strstr(out, "--copies") != NULL);
    CHECK(run_lpg("gradcheck", out, sizeof out) != 0);
    CHECK(strstr(out, "no config given") != NULL);
}
