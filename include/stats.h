/* stats.h: summaries over seeds that skip missing values (NaN: a seed with no finished episode). */
#ifndef LPG_STATS_H
#define LPG_STATS_H

#include <stddef.h>

/* Over the values x[0], x[stride], ..., x[(n-1)*stride] that are not NaN: writes their mean and
 * the standard error of that mean (sample standard deviation / sqrt(count); 0 for one value) and
 * returns their count. With none, mean and se are NaN; se may be NULL. */
int mean_se_skip_nan(const double *x, int n, size_t stride, double *mean, double *se);

#endif
