/* stats.c: NaN-skipping mean and standard error (see stats.h). */
#include "stats.h"

#include <math.h>

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
