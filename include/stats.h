/* stats.h: summaries over seeds that skip missing values (NaN: a seed with no finished episode),
 * and the p-values behind eval's verdicts with their Holm-Bonferroni correction. */
#ifndef LPG_STATS_H
#define LPG_STATS_H

#include <stddef.h>

/* Over the values x[0], x[stride], ..., x[(n-1)*stride] that are not NaN: writes their mean and
 * the standard error of that mean (sample standard deviation / sqrt(count); 0 for one value) and
 * returns their count. With none, mean and se are NaN; se may be NULL. */
int mean_se_skip_nan(const double *x, int n, size_t stride, double *mean, double *se);

/* The two-sided p-value of a difference of two means under the normal approximation, the one
 * eval's "two standard errors" verdict uses: z = (mean_a - mean_b) / sqrt(se_a^2 + se_b^2),
 * p = P(|Z| > |z|) = erfc(|z| / sqrt 2), so |z| > 2 exactly when p < STATS_ALPHA_2SE. With both
 * standard errors 0, p is 0 when the means differ and 1 when they are equal. NaN when any input
 * is NaN. */
double p_two_sided_normal(double mean_a, double se_a, double mean_b, double se_b);

/* The level of the two-standard-error rule: P(|Z| > 2) = erfc(sqrt 2) = 0.0455003. */
#define STATS_ALPHA_2SE 0.04550026389635842

/* Holm-Bonferroni over the p-values p[0..n-1] that are not NaN (K of them): sorted ascending,
 * the i-th smallest (i from 1) gets min(1, max over j <= i of (K - j + 1) p_(j)), written to
 * adjusted[] at its own index (NaN stays NaN). A hypothesis is rejected at level alpha, with the
 * family-wise error rate at most alpha, exactly when its adjusted p-value is at most alpha.
 * Returns K, or -1 when out of memory (reported). */
int holm_adjust(const double *p, int n, double *adjusted);

/* A value and where it came from, for sorting values while keeping their places. */
typedef struct {
    double value;
    int index;
} RankedValue;

/* Sorts r ascending by value; equal values keep the order of their indices (deterministic). */
void sort_ranked(RankedValue *r, int n);

#endif
