/* test_util.c: the shared helpers: buffers_alloc's layout, the number parsers, make_dirs, the
 * NaN-skipping mean and standard error. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buffers.h"
#include "real.h"
#include "stats.h"
#include "test.h"
#include "util.h"

TEST(buffers_alloc_lays_out_the_table_in_order)
{
    real *a = NULL, *b = NULL, *none = (real *)&a;
    int32_t *c = NULL;
    uint8_t *d = NULL;
    double *e = NULL;
    BufferSpec table[] = {BUFFER(a, 3), BUFFER(none, 0), BUFFER(b, 5), BUFFER(d, 3), BUFFER(c, 2),
                          BUFFER(e, 1)};
    void *mem = buffers_alloc(table, BUFFER_COUNT(table), "test buffers");
    REQUIRE(mem != NULL);
    CHECK((void *)a == mem);
    CHECK(none == NULL);           /* a buffer of count 0 gets NULL */
    CHECK(b == a + 3);             /* reals follow each other without gaps */
    CHECK((uint8_t *)d == (uint8_t *)(b + 5));
    CHECK((uintptr_t)c % sizeof(int32_t) == 0 && (uint8_t *)c >= d + 3 && (uint8_t *)c < d + 3 + 4);
    CHECK((uintptr_t)e % sizeof(double) == 0 && (uint8_t *)e >= (uint8_t *)(c + 2));
    int zero = 1; /* zeroed, and every byte is writable (ASan checks the bounds) */
    for (int i = 0; i < 3; i++)
        zero &= a[i] == 0 && d[i] == 0;
    CHECK(zero && c[1] == 0 && e[0] == 0);
    free(mem);
}

/* buffers_size is the block buffers_alloc makes, alignment gaps included. Worked for the float
 * build's 4-byte reals: a 3 x 4 = 12, b 5 x 4 = 20 (to 32), d 3 bytes (to 35), c aligned to 36
 * then 2 x 4 (to 44), e aligned to 48 then 8: 56. The double build: 24 + 40 = 64, d to 67, c at
 * 68 to 76, e at 80: 88. */
TEST(buffers_size_counts_the_gaps_of_alignment)
{
    real *a = NULL, *b = NULL;
    int32_t *c = NULL;
    uint8_t *d = NULL;
    double *e = NULL;
    BufferSpec table[] = {BUFFER(a, 3), BUFFER(b, 5), BUFFER(d, 3), BUFFER(c, 2), BUFFER(e, 1)};
    CHECK_INT((int)buffers_size(table, BUFFER_COUNT(table)), sizeof(real) == 4 ? 56 : 88);
    CHECK_INT((int)buffers_size(table, 1), 3 * (int)sizeof(real));
    CHECK_INT((int)buffers_size(table, 0), 0);
}

TEST(number_parsers_take_whole_words_only)
{
    double x;
    CHECK(parse_double("0.25", &x) == 0 && x == 0.25);
    CHECK(parse_double("-1e3", &x) == 0 && x == -1000);
    CHECK(parse_double("", &x) != 0);
    CHECK(parse_double("1.5x", &x) != 0);
    CHECK(parse_double("1e999", &x) != 0);
    unsigned long long u;
    CHECK(parse_unsigned("42", 100, &u) == 0 && u == 42);
    CHECK(parse_unsigned("18446744073709551615", UINT64_MAX, &u) == 0 && u == UINT64_MAX);
    CHECK(parse_unsigned("101", 100, &u) != 0);
    CHECK(parse_unsigned("-1", 100, &u) != 0);
    CHECK(parse_unsigned(" 1", 100, &u) != 0);
    CHECK(parse_unsigned("", 100, &u) != 0);
    CHECK(parse_unsigned("7 ", 100, &u) != 0);
    CHECK(parse_unsigned("18446744073709551616", UINT64_MAX, &u) != 0);
}

TEST(make_dirs_creates_every_missing_folder)
{
    struct stat st;
    CHECK_INT(make_dirs("build/test_util_dirs/a/b"), 0);
    CHECK(stat("build/test_util_dirs/a/b", &st) == 0 && S_ISDIR(st.st_mode));
    CHECK_INT(make_dirs("build/test_util_dirs/a/b"), 0); /* again: nothing to do */
    CHECK_INT(make_parent_dirs("build/test_util_dirs/c/d/file.csv"), 0);
    CHECK(stat("build/test_util_dirs/c/d", &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(stat("build/test_util_dirs/c/d/file.csv", &st) != 0); /* the file itself is not made */
}

TEST(mean_se_skip_nan_ignores_missing_values)
{
    /* Strided: every other value; NaN ones are left out. */
    const double x[] = {1, 99, NAN, 99, 3, 99, 5, 99};
    double mean, se;
    CHECK_INT(mean_se_skip_nan(x, 4, 2, &mean, &se), 3);
    CHECK_NEAR(mean, 3, 1e-15);
    CHECK_NEAR(se, sqrt(4.0 / 3), 1e-15); /* sample sd 2, over sqrt(3) */
    CHECK_INT(mean_se_skip_nan(x, 1, 1, &mean, &se), 1);
    CHECK(mean == 1 && se == 0);
    const double none[] = {NAN, NAN};
    CHECK_INT(mean_se_skip_nan(none, 2, 1, &mean, NULL), 0);
    CHECK(isnan(mean));
}
