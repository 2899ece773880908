/* analyse_converge.c: `lpg analyse converge`, the paper's Figure 6 (see analyse.h): two agents
 * with the same fixed policy and differently drawn y, updated by the rule on the same
 * rollouts; KL(y0 ‖ y1) on each rollout's states before every update, averaged over instances. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse.h"
#include "fixed_policy.h"
#include "util.h"

/* Mean over rows of KL(ŷ0 ‖ ŷ1) between two sets of the rule's log ŷ. */
static double targets_kl(const real *log_y_hat0, const real *log_y_hat1, int rows)
{
    double total = 0;
    for (size_t row = 0; row < (size_t)rows; row++)
        total += analyse_kl_logits(log_y_hat0 + row * RULE_Y_DIM, log_y_hat1 + row * RULE_Y_DIM,
                                   RULE_Y_DIM);
    return total / rows;
}

/* One instance: kl[u] (u = 0..updates) is the mean KL(y0 ‖ y1) over the states of rollout u,
 * measured before update u (u = updates: after the last update, on one more rollout);
 * target_kl[u] (u < updates) the mean KL between the rule's targets ŷ for the two in update u. */
static int run_instance(const EnvSpec *file_spec, const AnalyseConfig *c,
                        const RuleLayout *layout, const real *eta, int k, double *kl,
                        double *target_kl)
{
    FixedPolicyRun run;
    int rows = c->unroll * c->copies;
    real *first = lpg_calloc((size_t)rows * RULE_Y_DIM, sizeof(real), "targets");
    if (!first ||
        fixed_policy_init(&run, file_spec, c, layout, (uint64_t)c->seed + (uint64_t)k, 2)) {
        free(first);
        fixed_policy_free(&run);
        return -1;
    }
    for (int u = 0; u <= c->updates; u++) {
        fixed_policy_collect(&run);
        kl[u] = fixed_policy_rollout_kl(&run);
        if (u == c->updates)
            break;
        fixed_policy_update_y(&run, 0, eta, layout, c);
        memcpy(first, run.rwork->log_y_hat, (size_t)rows * RULE_Y_DIM * sizeof(real));
        fixed_policy_update_y(&run, 1, eta, layout, c);
        target_kl[u] = targets_kl(first, run.rwork->log_y_hat, rows);
    }
    target_kl[c->updates] = NAN;
    free(first);
    fixed_policy_free(&run);
    return 0;
}

/* The mean over instances of column u of x [instances x (updates + 1)]. */
static double column_mean(const AnalyseConfig *c, const double *x, int u)
{
    double total = 0;
    for (int k = 0; k < c->instances; k++)
        total += x[(size_t)k * (c->updates + 1) + u];
    return total / c->instances;
}

static int write_csv(const AnalyseConfig *c, const double *kl, const double *target_kl)
{
    AnalyseText t = {0};
    analyse_text_add(&t, "update,mean_kl,se_kl,mean_target_kl,instances\n");
    int n = c->instances;
    for (int u = 0; u <= c->updates; u++) {
        double mean = column_mean(c, kl, u), var = 0;
        for (int k = 0; k < n; k++) {
            double d = kl[(size_t)k * (c->updates + 1) + u] - mean;
            var += d * d;
        }
        double se = n > 1 ? sqrt(var / (n - 1) / n) : 0;
        double target = u < c->updates ? column_mean(c, target_kl, u) : NAN;
        analyse_text_add(&t, "%d,%.8g,%.4g,", u, mean, se);
        if (isnan(target))
            analyse_text_add(&t, "nan,%d\n", n);
        else
            analyse_text_add(&t, "%.8g,%d\n", target, n);
    }
    return analyse_text_write(&t, c->output_dir, "converge.csv");
}

static int plot(const AnalyseConfig *c, const char *env_name)
{
    AnalyseText t = {0};
    analyse_text_add(&t, "set datafile separator ','\n"
                         "set title \"Two differently initialised y updated by the rule under the "
                         "same fixed policy\\n%s, %d instances, band +- 1 standard error\" "
                         "noenhanced\n"
                         "set xlabel 'y updates'\nset ylabel 'KL, mean over rollout states'\n"
                         "set logscale y\nset grid lc rgb '#dddddd'\n"
                         "set style fill transparent solid 0.25 noborder\nset key top right\n"
                         "plot '%s/converge.csv' skip 1 using 1:($2-$3 > 0 ? $2-$3 : $2/10):($2+$3) "
                         "with filledcurves lc rgb '#1f77b4' notitle, '' skip 1 using 1:2 with lines "
                         "lw 2 lc rgb '#1f77b4' title 'KL(y0 || y1)', '' skip 1 using 1:4 with "
                         "lines lw 1 dt 2 lc rgb '#d62728' title \"KL between the rule's targets "
                         "for them\"\n", env_name, c->instances, c->output_dir);
    return analyse_plot(c->output_dir, "converge", 640, 420, &t);
}

int analyse_converge(const AnalyseConfig *c, const RuleLayout *layout, const real *eta,
                     int progress)
{
    EnvSpec file_spec;
    if (env_load(c->env, &file_spec))
        return -1;
    size_t points = (size_t)c->updates + 1;
    double *kl = lpg_calloc(points * (size_t)c->instances, sizeof(double), "KL curves");
    double *target_kl = lpg_calloc(points * (size_t)c->instances, sizeof(double), "KL curves");
    if (!kl || !target_kl) {
        free(kl);
        free(target_kl);
        return -1;
    }
    AnalyseProgress p;
    analyse_progress_start(&p, "converge", "instances", progress);
    int rc = 0;
    for (int k = 0; rc == 0 && k < c->instances; k++) {
        rc = run_instance(&file_spec, c, layout, eta, k, kl + (size_t)k * points,
                          target_kl + (size_t)k * points);
        analyse_progress(&p, k + 1, c->instances);
    }
    rc = rc || write_csv(c, kl, target_kl) || (c->plot && plot(c, file_spec.name));
    if (rc == 0 && progress) {
        double first = 0, last = 0;
        for (int k = 0; k < c->instances; k++)
            first += kl[(size_t)k * points], last += kl[(size_t)k * points + c->updates];
        printf("converge on %s: mean KL(y0 || y1) %.4g before the first update, %.4g after %d "
               "updates (%d instances)\nconverge: %s/converge.csv%s\n", file_spec.name,
               first / c->instances, last / c->instances, c->updates, c->instances,
               c->output_dir, c->plot ? ", converge.png" : "");
    }
    free(kl);
    free(target_kl);
    return rc ? -1 : 0;
}
