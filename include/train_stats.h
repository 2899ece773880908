/* train_stats.h: what a rule does to an agent under `lpg train` (config key stats_output).
 *
 * For diagnosing a rule on an agent kind: after every LPG update, the rule's inputs and outputs
 * on that update's rollout and the change of the policy it caused, as means over the rollout's
 * t_len*n rows. A curve point's value is the mean over the updates since the previous point;
 * the CSV holds the mean over seeds. Measuring costs one extra agent forward per update and
 * changes nothing in the run. */
#ifndef LPG_TRAIN_STATS_H
#define LPG_TRAIN_STATS_H

#include "agent.h"
#include "rollout.h"
#include "rule.h"

enum {
    STAT_PI_HAT,     /* π̂ */
    STAT_PI_HAT_SQ,  /* π̂², for its spread over rows */
    STAT_PI_HAT_ABS, /* |π̂| */
    STAT_PI_TAKEN,   /* π(a|s) of the action taken (input; 1/A for a uniform policy) */
    STAT_ENTROPY,    /* H(π(.|s)) before the update */
    STAT_STEP_KL,    /* KL(π_before || π_after) on the rollout's states: the policy change */
    STAT_PHI_Y,      /* φ(y(s)) (input) */
    STAT_PHI_Y_SQ,   /* φ(y(s))² */
    STAT_COUNT
};

/* Names of the CSV columns, STAT_COUNT - 2 of them: the squares become standard deviations. */
extern const char *const train_stats_columns[];
extern const int train_stats_num_columns;

/* Adds one update's row means to acc [STAT_COUNT]. r holds the rollout the update used (its out
 * rows are the outputs before the update), rwork the rule's forward on it, theta the parameters
 * after the update; work must hold a batch of r->t_len * r->n rows (its out is overwritten). */
void train_stats_add(double *acc, const Agent *agent, AgentWork *work, const Rollout *r,
                     const RuleWork *rwork, const real *theta);

/* Writes the columns of one point from the sums acc [STAT_COUNT] over count updates into
 * point [train_stats_num_columns] (NaN when count is 0). */
void train_stats_point(const double *acc, int64_t count, double *point);

#endif
