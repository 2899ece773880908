/* train_stats.c: the rule's inputs, outputs and policy change per update (see train_stats.h). */
#include "train_stats.h"

#include <math.h>

#include "softmax.h"

const char *const train_stats_columns[] = {"pi_hat_mean", "pi_hat_std", "pi_hat_abs", "pi_taken",
                                           "entropy", "step_kl", "phi_y_mean", "phi_y_std"};
const int train_stats_num_columns =
    (int)(sizeof train_stats_columns / sizeof train_stats_columns[0]);

/* H(p) and KL(p || q) of the softmaxes of two logit rows of length n. */
static void entropy_and_kl(const real *before, const real *after, int n, double *entropy,
                           double *kl)
{
    double lse_b = log_sum_exp_row(before, n), lse_a = log_sum_exp_row(after, n);
    *entropy = 0;
    *kl = 0;
    for (int j = 0; j < n; j++) {
        double log_p = before[j] - lse_b, log_q = after[j] - lse_a, p = exp(log_p);
        *entropy -= p * log_p;
        *kl += p * (log_p - log_q);
    }
}

void train_stats_add(double *acc, const Agent *agent, AgentWork *work, const Rollout *r,
                     const RuleWork *rwork, const real *theta)
{
    int rows = r->t_len * r->n, outs = agent->num_outputs, a = agent->num_actions;
    agent_forward(agent, work, theta, rollout_obs(r, 0), rows, work->out);
    double sum[STAT_COUNT] = {0};
    for (int b = 0; b < rows; b++) {
        double pi_hat = rwork->pi_hat[b], phi = rwork->phi_out[b], entropy, kl;
        entropy_and_kl(r->out + (size_t)b * outs, work->out + (size_t)b * outs, a, &entropy, &kl);
        sum[STAT_PI_HAT] += pi_hat;
        sum[STAT_PI_HAT_SQ] += pi_hat * pi_hat;
        sum[STAT_PI_HAT_ABS] += fabs(pi_hat);
        sum[STAT_PI_TAKEN] += r->pi_taken[b];
        sum[STAT_ENTROPY] += entropy;
        sum[STAT_STEP_KL] += kl;
        sum[STAT_PHI_Y] += phi;
        sum[STAT_PHI_Y_SQ] += phi * phi;
    }
    for (int j = 0; j < STAT_COUNT; j++)
        acc[j] += sum[j] / rows;
}

static double spread(double mean, double mean_sq)
{
    double var = mean_sq - mean * mean;
    return var > 0 ? sqrt(var) : 0;
}

void train_stats_point(const double *acc, int64_t count, double *point)
{
    double m[STAT_COUNT];
    for (int j = 0; j < STAT_COUNT; j++)
        m[j] = count > 0 ? acc[j] / (double)count : NAN;
    double cols[] = {m[STAT_PI_HAT],    spread(m[STAT_PI_HAT], m[STAT_PI_HAT_SQ]),
                     m[STAT_PI_HAT_ABS], m[STAT_PI_TAKEN],
                     m[STAT_ENTROPY],   m[STAT_STEP_KL],
                     m[STAT_PHI_Y],     spread(m[STAT_PHI_Y], m[STAT_PHI_Y_SQ])};
    for (int j = 0; j < train_stats_num_columns; j++)
        point[j] = count > 0 ? cols[j] : NAN;
}
