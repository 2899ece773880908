/* test_stats.c: the p-values behind eval's verdicts and their Holm-Bonferroni correction, on
 * values worked by hand. */
#include <math.h>

#include "stats.h"
#include "test.h"

TEST(p_two_sided_normal_matches_the_two_standard_error_rule)
{
    /* z = (1.3 - 1.0) / sqrt(0.12^2 + 0.09^2) = 0.3 / 0.15 = 2: p = erfc(sqrt 2) = 0.0455003 */
    CHECK(fabs(p_two_sided_normal(1.3, 0.12, 1.0, 0.09) - 0.04550026389635842) < 1e-12);
    CHECK(fabs(STATS_ALPHA_2SE - erfc(sqrt(2.0))) < 1e-16);
    /* |z| = 1 and 3, either sign: 0.3173105 and 0.0026998 */
    CHECK(fabs(p_two_sided_normal(0.0, 0.3, 0.5, 0.4) - 0.31731050786291415) < 1e-12);
    CHECK(fabs(p_two_sided_normal(2.5, 0.4, 1.0, 0.3) - 0.0026997960632601866) < 1e-12);
    /* no spread: 0 when the means differ, 1 when equal; NaN in, NaN out */
    CHECK(p_two_sided_normal(1.0, 0.0, 0.5, 0.0) == 0);
    CHECK(p_two_sided_normal(1.0, 0.0, 1.0, 0.0) == 1);
    CHECK(isnan(p_two_sided_normal(NAN, 0.1, 1.0, 0.1)));
}

TEST(holm_adjust_matches_a_worked_example)
{
    /* K = 4 (the NaN is no comparison). Sorted: 0.005, 0.01, 0.03, 0.04; times 4, 3, 2, 1:
     * 0.02, 0.03, 0.06, 0.04; running maximum: 0.02, 0.03, 0.06, 0.06. At level 0.05 the two
     * smallest stand (0.005 <= 0.05/4, 0.01 <= 0.05/3) and the step-down stops at 0.03 > 0.05/2,
     * so 0.04 falls too although 0.04 <= 0.05/1. */
    const double p[5] = {0.01, 0.04, 0.03, 0.005, NAN};
    double adjusted[5];
    CHECK_INT(holm_adjust(p, 5, adjusted), 4);
    const double expected[4] = {0.03, 0.06, 0.06, 0.02};
    for (int i = 0; i < 4; i++)
        CHECK(fabs(adjusted[i] - expected[i]) < 1e-15);
    CHECK(isnan(adjusted[4]));
    /* capped at 1; equal p-values get equal adjusted values; one comparison is left alone */
    const double q[3] = {0.5, 0.6, 0.5};
    CHECK_INT(holm_adjust(q, 3, adjusted), 3);
    CHECK(adjusted[0] == 1 && adjusted[1] == 1 && adjusted[2] == 1);
    const double r[3] = {0.02, 0.02, 0.5};
    CHECK_INT(holm_adjust(r, 3, adjusted), 3);
    CHECK(fabs(adjusted[0] - 0.06) < 1e-15 && adjusted[0] == adjusted[1]);
    CHECK(fabs(adjusted[2] - 0.5) < 1e-15);
    const double one = 0.03;
    CHECK_INT(holm_adjust(&one, 1, adjusted), 1);
    CHECK(adjusted[0] == 0.03);
    CHECK_INT(holm_adjust(q, 0, adjusted), 0);
}
