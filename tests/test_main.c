/* test_main.c: the test runner. Runs every TEST (or those whose names contain argv[1]) and ends
 * with the line "N passed, N failed", followed by ", N skipped" when a DOUBLE_ONLY test was
 * skipped (in the float build). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cblas.h>

#include "blas_cpu.h"
#include "checkpoint.h"
#include "rule.h"
#include "rule_file.h"
#include "test.h"

int test_failures;
const char *test_skip_reason;

#define X(name) void test_##name(void);
#include "test_list.h"
#undef X

typedef struct {
    const char *name;
    void (*fn)(void);
} TestCase;

static const TestCase all_tests[] = {
#define X(name) {#name, test_##name},
#include "test_list.h"
#undef X
};

int run_lpg(const char *args, char *out, size_t outsize)
{
    const char *bin = getenv("LPG_BIN");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin ? bin : "build/lpg", args);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, outsize - 1, p);
    out[n] = '\0';
    char sink[4096];
    while (fread(sink, 1, sizeof sink, p) > 0) {
    }
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

double rel_error(double a, double b, double floor)
{
    double scale = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    if (scale < floor)
        scale = floor;
    return fabs(a - b) / scale;
}

int write_rule_file_width8(const char *path, const real *eta)
{
    RuleLayout layout;
    rule_layout(&layout, 8);
    CheckpointWriter w;
    checkpoint_writer_init(&w);
    int rc = rule_file_add(&w, &layout, eta) || checkpoint_write(&w, path);
    checkpoint_writer_free(&w);
    return rc ? -1 : 0;
}

int main(int argc, char **argv)
{
    blas_cpu_fix(argv); /* the kernels the product runs with (test_linalg.c checks them) */
    openblas_set_num_threads(1);
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0, skipped = 0;
    for (size_t i = 0; i < sizeof all_tests / sizeof all_tests[0]; i++) {
        if (filter && !strstr(all_tests[i].name, filter))
            continue;
        test_failures = 0;
        test_skip_reason = NULL;
        fflush(stdout);
        all_tests[i].fn();
        if (test_failures == 0 && test_skip_reason) {
            skipped++;
            printf("skip %s (double only: %s)\n", all_tests[i].name, test_skip_reason);
        } else if (test_failures == 0) {
            passed++;
            printf("ok   %s\n", all_tests[i].name);
        } else {
            failed++;
            printf("FAIL %s (%d checks)\n", all_tests[i].name, test_failures);
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed", passed, failed);
    if (skipped)
        printf(", %d skipped", skipped);
    printf("\n");
    return failed ? 1 : 0;
}
