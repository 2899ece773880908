/* test.h: the tiny test framework. A test is `TEST(name) { ... }` at the start of a line in any
 * test file under tests/; the Makefile collects the names, so nothing else registers it. CHECK records a
 * failure with file:line and goes on; REQUIRE records one and stops the test. */
#ifndef LPG_TEST_H
#define LPG_TEST_H

#include <math.h>
#include <stdio.h>

#include "real.h"

extern int test_failures; /* failures in the current test */

#define TEST(name) void test_##name(void); void test_##name(void)

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            test_failures++;                                                             \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);   \
        }                                                                                \
    } while (0)

/* REQUIRE: a setup step the rest of the test depends on. On failure it counts as a failed check
 * and ends the current function at once (REQUIRE_OR(cond, value) returns value from a helper
 * that returns one), so a broken setup fails cleanly instead of running on garbage. */
#define REQUIRE_OR(cond, retval)                                                         \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            test_failures++;                                                             \
            fprintf(stderr, "  %s:%d: REQUIRE(%s) failed; the test stops here\n",        \
                    __FILE__, __LINE__, #cond);                                          \
            return retval;                                                               \
        }                                                                                \
    } while (0)
#define REQUIRE(cond) REQUIRE_OR(cond, )

#define CHECK_INT(a, b)                                                                  \
    do {                                                                                 \
        long long va_ = (long long)(a), vb_ = (long long)(b);                            \
        if (va_ != vb_) {                                                                \
            test_failures++;                                                             \
            fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld\n", __FILE__,      \
                    __LINE__, #a, va_, #b, vb_);                                         \
        }                                                                                \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                            \
    do {                                                                                 \
        double va_ = (double)(a), vb_ = (double)(b);                                     \
        if (!(fabs(va_ - vb_) <= (tol))) {                                               \
            test_failures++;                                                             \
            fprintf(stderr, "  %s:%d: %s = %.12g, expected %s = %.12g (tol %g)\n",       \
                    __FILE__, __LINE__, #a, va_, #b, vb_, (double)(tol));                \
        }                                                                                \
    } while (0)

/* The suite is built twice: in double (build/test_lpg and its sanitized copy) and in float over
 * the product's own objects (build/float-test/test_lpg). A value computed in `real` is checked
 * against its worked value in double with CHECK_CLOSE and one of these tolerances, which follow
 * the build's precision (float keeps 24 bits, about 7 digits; double 53, about 16):
 *   TOL_ROUND  a few roundings (a softmax entry, a return over a few steps, one optimiser step):
 *              1e-15 in double, 1e-6 in float;
 *   TOL_LONG   a longer chain (a matrix product, a network's pass, a sum over many terms):
 *              1e-12 in double, 1e-5 in float.
 * Values exact in both precisions (integers, sums of powers of two) keep exact checks. */
#ifdef LPG_DOUBLE
#define TOL_ROUND 1e-15
#define TOL_LONG 1e-12
#else
#define TOL_ROUND 1e-6
#define TOL_LONG 1e-5
#endif

/* CHECK_CLOSE(a, b, tol): |a - b| <= tol * max(1, |b|), a tolerance for values of order 1 scaled
 * up to larger ones. */
#define CHECK_CLOSE(a, b, tol)                                                           \
    do {                                                                                 \
        double va_ = (double)(a), vb_ = (double)(b);                                     \
        double tol_ = (double)(tol) * (fabs(vb_) > 1 ? fabs(vb_) : 1);                   \
        if (!(fabs(va_ - vb_) <= tol_)) {                                                \
            test_failures++;                                                             \
            fprintf(stderr, "  %s:%d: %s = %.12g, expected %s = %.12g (tol %g)\n",       \
                    __FILE__, __LINE__, #a, va_, #b, vb_, tol_);                         \
        }                                                                                \
    } while (0)

/* DOUBLE_ONLY("why"): the first statement of a test that only means something in double (central
 * finite differences, a bound near double's rounding, a golden value of a double run). In the
 * float build the test stops there and the runner reports it as skipped, with why, and counts it
 * apart from passes; in the double build it does nothing. */
extern const char *test_skip_reason; /* set when the current test stopped as skipped */
#ifdef LPG_DOUBLE
#define DOUBLE_ONLY(why) ((void)(why))
#else
#define DOUBLE_ONLY(why)                                                                 \
    do {                                                                                 \
        test_skip_reason = (why);                                                        \
        return;                                                                          \
    } while (0)
#endif

/* Runs the lpg binary (path from $LPG_BIN, default build/lpg) with args (a shell word list);
 * stores stdout+stderr in out (truncated to outsize) and returns the exit status. */
int run_lpg(const char *args, char *out, size_t outsize);

/* Relative error |a-b| / max(|a|, |b|, floor). */
double rel_error(double a, double b, double floor);

/* Writes a rule file of LSTM width 8 with η = eta (layout of rule_layout(.., 8)) to path, in
 * this build's precision. Returns 0 or -1. */
int write_rule_file_width8(const char *path, const real *eta);

#endif
