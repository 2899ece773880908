/* stats.c: NaN-skipping mean and standard error, and p-values with the Holm-Bonferroni
 * correction (see stats.h). */
#include "stats.h"

#include <math.h>
#include <stdlib.h>

#include "util.h"

int mean_se_skip_nan(const double *x, int n, size_t stride, double *mean, double *se)
{
    double sum = 0, sum_sq = 0;
    int count = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(x[i * stride]))
            sum += x[i * stride], count++;
    *mean = count ? sum / count : NAN;
    if (!se)
        return count;
    for (int i = 0; i < n; i++)
        if (!isnan(x[i * stride]))
            sum_sq += (x[i * stride] - *mean) * (x[i * stride] - *mean);
    *se = count > 1 ? sqrt(sum_sq / (count - 1) / count) : count == 1 ? 0 : NAN;
    return count;
}

double p_two_sided_normal(double mean_a, double se_a, double mean_b, double se_b)
{
    if (isnan(mean_a) || isnan(se_a) || isnan(mean_b) || isnan(se_b))
        return NAN;
    double diff = fabs(mean_a - mean_b), se = sqrt(se_a * se_a + se_b * se_b);
    if (se == 0)
        return diff > 0 ? 0 : 1;
    return erfc(diff / se / sqrt(2.0));
}

/* Ascending value; equal values by index. */
static int compare_ranked(const void *a, const void *b)
{
    const RankedValue *x = a, *y = b;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

void sort_ranked(RankedValue *r, int n)
{
    qsort(r, (size_t)n, sizeof *r, compare_ranked);
}

int holm_adjust(const double *p, int n, double *adjusted)
{
    RankedValue *ranked = lpg_calloc(n > 0 ? (size_t)n : 1, sizeof *ranked, "Holm correction");
    if (!ranked)
        return -1;
    int k = 0;
    for (int i = 0; i < n; i++) {
        adjusted[i] = NAN;
        if (!isnan(p[i]))
            ranked[k++] = (RankedValue){p[i], i};
    }
    sort_ranked(ranked, k);
    double running = 0;
    for (int i = 0; i < k; i++) {
        double scaled = (double)(k - i) * ranked[i].value;
        running = fmax(running, fmin(1.0, scaled));
        adjusted[ranked[i].index] = running;
    }
    free(ranked);
    return k;
}
