/* test_framework.c: the test macros themselves (test.h): REQUIRE ends the function it fails in. */
#include "test.h"

static int reached;

static void setup_that_fails(void)
{
    REQUIRE(1 + 1 == 3);
    reached = 1;
}

static double helper_that_fails(void)
{
    REQUIRE_OR(1 + 1 == 3, -1.0);
    return 1.0;
}

TEST(framework_require_stops_the_test_and_counts_each_failure)
{
    int before = test_failures;
    fprintf(stderr, "  (two REQUIRE failures below are expected)\n");
    setup_that_fails();
    double value = helper_that_fails();
    int counted = test_failures - before;
    test_failures = before; /* the failures were the point */
    CHECK(!reached);
    CHECK(value == -1.0);
    CHECK_INT(counted, 2);
}
