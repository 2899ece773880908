/* analyse_converge.c: `lpg analyse converge`, the paper's Figure 6 (see analyse.h): two agents
 * with the same fixed policy and differently drawn y, updated by the rule on the same
 * rollouts; KL(y0 ‖ y1) on each rollout's states before every update, averaged over instances. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "analyse.h"
#include "fixed_policy.h"
#include "util.h"

/* One instance: kl[u] (u = 0..updates) is the mean KL over the states of rollout u, measured
 * before update u (u = updates: after the last update, on one more rollout). */
static int run_instance(const EnvSpec *file_spec, const AnalyseConfig *c,
                        const RuleLayout *layout, const real *eta, int k, double *kl)
{
    FixedPolicyRun run;
    if (fixed_policy_init(&run, file_spec, c, layout, (uint64_t)c->seed + (uint64_t)k, 2)) {
        fixed_policy_free(&run);
        return -1;
    }
    for (int u = 0; u <= c->updates; u++) {
        fixed_policy_collect(&run);
        kl[u] = fixed_policy_rollout_kl(&run);
        if (u == c->updates)
            break;
        fixed_policy_update_y(&run, 0, eta, layout, c);
        fixed_policy_update_y(&run, 1, eta, layout, c);
    }
    fixed_policy_free(&run);
    return 0;
}

static int write_csv(const AnalyseConfig *c, const double *kl)
{
    AnalyseText t = {0};
    analyse_text_add(&t, "update,mean_kl,se_kl,instances\n");
    int n = c->instances;
    for (int u = 0; u <= c->updates; u++) {
        double mean = 0, var = 0;
        for (int k = 0; k < n; k++)
            mean += kl[(size_t)k * (c->updates + 1) + u];
        mean /= n;
        for (int k = 0; k < n; k++) {
            double d = kl[(size_t)k * (c->updates + 1) + u] - mean;
            var += d * d;
        }
        double se = n > 1 ? sqrt(var / (n - 1) / n) : 0;
        analyse_text_add(&t, "%d,%.8g,%.4g,%d\n", u, mean, se, n);
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
                         "set xlabel 'y updates'\nset ylabel 'KL(y0 || y1), mean over rollout states'\n"
                         "set logscale y\nset grid lc rgb '#dddddd'\nunset key\n"
                         "set style fill transparent solid 0.25 noborder\n"
                         "plot '%s/converge.csv' skip 1 using 1:($2-$3 > 0 ? $2-$3 : $2/10):($2+$3) "
                         "with filledcurves lc rgb '#1f77b4', '' skip 1 using 1:2 with lines lw 2 "
                         "lc rgb '#1f77b4'\n", env_name, c->instances, c->output_dir);
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
    if (!kl)
        return -1;
    AnalyseProgress p;
    analyse_progress_start(&p, "converge", "instances", progress);
    int rc = 0;
    for (int k = 0; rc == 0 && k < c->instances; k++) {
        rc = run_instance(&file_spec, c, layout, eta, k, kl + (size_t)k * points);
        analyse_progress(&p, k + 1, c->instances);
    }
    rc = rc || write_csv(c, kl) || (c->plot && plot(c, file_spec.name));
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
    return rc ? -1 : 0;
}
