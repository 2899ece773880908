/* analyse_ymap.c: `lpg analyse ymap`, the paper's Figure 4 (see analyse.h): y learned under a
 * fixed near-optimal policy on one grid, the dimensions that track the true value, drawn over
 * the grid beside it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse.h"
#include "fixed_policy.h"
#include "softmax.h"
#include "util.h"

#define VI_MAX_SWEEPS 1000000
#define PANEL 300

typedef struct {
    int *state;   /* [count] the states kept: visited at least min_visits times */
    double *y;    /* [count x 30] their y */
    double *v_pi; /* [states] v_π at gamma, every state */
    int count;
    double r[RULE_Y_DIM]; /* each dimension's correlation with v_π over the kept states */
    int order[RULE_Y_DIM];/* dimensions by decreasing |r| */
    int mask;             /* the objects present in the maps */
    double r_slice[RULE_Y_DIM]; /* the correlations over the kept states with that mask */
} YmapResult;

static void ymap_result_free(YmapResult *res)
{
    free(res->state);
    free(res->y);
    free(res->v_pi);
}

static int by_abs_r_desc(const void *a, const void *b, void *r)
{
    double ra = fabs(((const double *)r)[*(const int *)a]);
    double rb = fabs(((const double *)r)[*(const int *)b]);
    return ra < rb ? 1 : ra > rb ? -1 : *(const int *)a - *(const int *)b;
}

/* The combination of objects present that the most kept states share (ties: more present). */
static int busiest_mask(const FixedPolicyRun *run, const YmapResult *res)
{
    int masks = 1 << run->mdp.objects, best = masks - 1, best_count = -1;
    for (int m = masks - 1; m >= 0; m--) {
        int count = 0;
        for (int k = 0; k < res->count; k++)
            count += (res->state[k] & (masks - 1)) == m;
        if (count > best_count)
            best = m, best_count = count;
    }
    return best;
}

/* Each dimension's correlation with v_π over the kept states that have the maps' mask. */
static int slice_correlations(YmapResult *res, int all)
{
    double *v = lpg_calloc((size_t)res->count, sizeof(double), "values");
    double *y = lpg_calloc((size_t)res->count * RULE_Y_DIM, sizeof(double), "predictions");
    if (!v || !y) {
        free(v);
        free(y);
        return -1;
    }
    int n = 0;
    for (int k = 0; k < res->count; k++) {
        if ((res->state[k] & all) != res->mask)
            continue;
        v[n] = res->v_pi[res->state[k]];
        memcpy(y + (size_t)n * RULE_Y_DIM, res->y + (size_t)k * RULE_Y_DIM,
               RULE_Y_DIM * sizeof(double));
        n++;
    }
    for (int j = 0; j < RULE_Y_DIM; j++)
        res->r_slice[j] = n >= 2 ? analyse_correlation(y + j, RULE_Y_DIM, v, 1, n) : NAN;
    free(v);
    free(y);
    return 0;
}

static int measure(const FixedPolicyRun *run, const AnalyseConfig *c, YmapResult *res)
{
    const GridMdp *mdp = &run->mdp;
    res->v_pi = lpg_calloc((size_t)mdp->states, sizeof(double), "values");
    res->state = lpg_calloc((size_t)mdp->states, sizeof(int), "states");
    res->y = lpg_calloc((size_t)mdp->states * RULE_Y_DIM, sizeof(double), "predictions");
    if (!res->v_pi || !res->state || !res->y ||
        grid_mdp_evaluate(mdp, run->policy, c->vi_tol, VI_MAX_SWEEPS, res->v_pi) < 0)
        return -1;
    for (int s = 0; s < mdp->states; s++) {
        if (grid_mdp_is_wall(mdp, s) || run->visits[s] < c->min_visits)
            continue;
        real p[RULE_Y_DIM];
        softmax_row(fixed_policy_y_logits(run, 0, s), RULE_Y_DIM, p);
        for (int j = 0; j < RULE_Y_DIM; j++)
            res->y[(size_t)res->count * RULE_Y_DIM + j] = (double)p[j];
        res->state[res->count++] = s;
    }
    if (res->count < 2)
        return lpg_error("%s: only %d states were visited at least %d times (key 'min_visits'; "
                         "more 'updates' or 'copies' visit more)", c->env, res->count,
                         c->min_visits);
    double *v = lpg_calloc((size_t)res->count, sizeof(double), "values");
    if (!v)
        return -1;
    for (int k = 0; k < res->count; k++)
        v[k] = res->v_pi[res->state[k]];
    for (int j = 0; j < RULE_Y_DIM; j++) {
        res->r[j] = analyse_correlation(res->y + j, RULE_Y_DIM, v, 1, res->count);
        res->order[j] = j;
    }
    free(v);
    qsort_r(res->order, RULE_Y_DIM, sizeof(int), by_abs_r_desc, res->r);
    res->mask = c->mask >= 0 ? c->mask & (int)mdp->all : busiest_mask(run, res);
    return slice_correlations(res, (int)mdp->all);
}

static int write_csvs(const FixedPolicyRun *run, const AnalyseConfig *c, const YmapResult *res)
{
    const GridMdp *mdp = &run->mdp;
    int width = run->spec.width;
    AnalyseText t = {0};
    analyse_text_add(&t, "state,x,y,present,visits,v_pi,v_opt");
    for (int j = 0; j < RULE_Y_DIM; j++)
        analyse_text_add(&t, ",y_%d", j);
    analyse_text_add(&t, "\n");
    for (int k = 0; k < res->count; k++) {
        int s = res->state[k], cell = grid_mdp_cell(mdp, s);
        analyse_text_add(&t, "%d,%d,%d,%d,%lld,%.8g,%.8g", s, cell % width, cell / width,
                         s & (int)mdp->all, (long long)run->visits[s], res->v_pi[s],
                         run->v_opt[s]);
        for (int j = 0; j < RULE_Y_DIM; j++)
            analyse_text_add(&t, ",%.6g", res->y[(size_t)k * RULE_Y_DIM + j]);
        analyse_text_add(&t, "\n");
    }
    if (analyse_text_write(&t, c->output_dir, "ymap.csv"))
        return -1;
    analyse_text_add(&t, "dim,correlation,rank,drawn,correlation_in_maps\n");
    for (int rank = 0; rank < RULE_Y_DIM; rank++) {
        int j = res->order[rank];
        analyse_text_add(&t, "%d,%.6f,%d,%d,%.6f\n", j, res->r[j], rank + 1, rank < c->dims,
                         res->r_slice[j]);
    }
    if (analyse_text_write(&t, c->output_dir, "ymap_dims.csv"))
        return -1;
    /* The maps: the kept states with the drawn objects present, one row per cell. */
    analyse_text_add(&t, "x,y,v_pi");
    for (int rank = 0; rank < c->dims; rank++)
        analyse_text_add(&t, ",y_%d", res->order[rank]);
    analyse_text_add(&t, "\n");
    for (int k = 0; k < res->count; k++) {
        int s = res->state[k], cell = grid_mdp_cell(mdp, s);
        if ((s & (int)mdp->all) != res->mask)
            continue;
        analyse_text_add(&t, "%d,%d,%.8g", cell % width, cell / width, res->v_pi[s]);
        for (int rank = 0; rank < c->dims; rank++)
            analyse_text_add(&t, ",%.6g", res->y[(size_t)k * RULE_Y_DIM + res->order[rank]]);
        analyse_text_add(&t, "\n");
    }
    return analyse_text_write(&t, c->output_dir, "ymap_grid.csv");
}

/* Walls as black squares, objects as their reward (in brackets when absent in the maps). */
static void add_layout(AnalyseText *t, const FixedPolicyRun *run, int mask)
{
    const EnvSpec *spec = &run->spec;
    for (int cell = 0; cell < spec->width * spec->height; cell++)
        if (spec->wall[cell])
            analyse_text_add(t, "set object rect from %g,%g to %g,%g fc rgb '#000000' "
                                "fs solid front\n", cell % spec->width - 0.5,
                             cell / spec->width - 0.5, cell % spec->width + 0.5,
                             cell / spec->width + 0.5);
    for (int j = 0; j < spec->num_objects; j++) {
        int cell = spec->object_cell[j];
        double reward = spec->type[spec->object_type[j]].reward;
        analyse_text_add(t, "set label \"%s%+.2g%s\" at %d,%d center front font ',9' "
                            "textcolor rgb '%s'\n", (mask >> j) & 1 ? "" : "(", reward,
                         (mask >> j) & 1 ? "" : ")", cell % spec->width, cell / spec->width,
                         reward >= 0 ? "#006400" : "#b00000");
    }
}

static int plot(const FixedPolicyRun *run, const AnalyseConfig *c, const YmapResult *res)
{
    int panels = 1 + c->dims, cols = panels < 5 ? panels : 5, rows = (panels + cols - 1) / cols;
    const EnvSpec *spec = &run->spec;
    AnalyseText t = {0};
    analyse_text_add(&t, "set datafile separator ','\n"
                         "set multiplot layout %d,%d title \"%s: y after %d rule updates under a "
                         "fixed epsilon-greedy (%.2g) optimal policy, beside v_pi (gamma %.3g)\\n"
                         "r: correlation with v_pi over all states visited; maps: the states with "
                         "object mask %d (objects in brackets are absent there)\" noenhanced\n"
                         "set size ratio -1\nunset key\nset tics scale 0 font ',8'\n"
                         "set xrange [-0.5:%d.5]\nset yrange [%d.5:-0.5]\n"
                         "set palette rgbformulae 33,13,10\nset style fill solid noborder\n",
                     rows, cols, spec->name, c->updates, c->epsilon, c->gamma, res->mask,
                     spec->width - 1, spec->height - 1);
    add_layout(&t, run, res->mask);
    for (int p = 0; p < panels; p++) {
        int j = p > 0 ? res->order[p - 1] : 0;
        if (p == 0)
            analyse_text_add(&t, "set title 'true value v_pi' noenhanced\n");
        else
            analyse_text_add(&t, "set title \"y[%d]: r = %+.2f (%+.2f in these maps)%s\" "
                                 "noenhanced\n", j, res->r[j], res->r_slice[j],
                             res->r[j] < 0 ? "\\ncolours reversed" : "");
        analyse_text_add(&t, "set palette %s\n", p > 0 && res->r[j] < 0 ? "negative" : "positive");
        analyse_text_add(&t, "plot '%s/ymap_grid.csv' skip 1 using 1:2:(0.5):(0.5):%d with "
                             "boxxyerror lc palette\n", c->output_dir, 3 + p);
    }
    analyse_text_add(&t, "unset multiplot\n");
    return analyse_plot(c->output_dir, "ymap", cols * PANEL, rows * PANEL + 90, &t);
}

static void print_summary(const FixedPolicyRun *run, const AnalyseConfig *c, const YmapResult *res)
{
    printf("ymap on %s: %d of %d states visited at least %d times; y dimensions by |correlation| "
           "with v_pi (gamma %g):", run->spec.name, res->count, run->mdp.states, c->min_visits,
           c->gamma);
    for (int rank = 0; rank < c->dims; rank++)
        printf(" y[%d] %+.3f", res->order[rank], res->r[res->order[rank]]);
    printf("\nymap: %s/ymap.csv, ymap_dims.csv, ymap_grid.csv%s\n", c->output_dir,
           c->plot ? ", ymap.png" : "");
}

int analyse_ymap(const AnalyseConfig *c, const RuleLayout *layout, const real *eta, int progress)
{
    EnvSpec file_spec;
    if (env_load(c->env, &file_spec))
        return -1;
    FixedPolicyRun run;
    YmapResult res = {0};
    int rc = fixed_policy_init(&run, &file_spec, c, layout, (uint64_t)c->seed, 1);
    if (rc == 0) {
        AnalyseProgress p;
        analyse_progress_start(&p, "ymap", "updates", progress);
        for (int u = 0; u < c->updates; u++) {
            fixed_policy_collect(&run);
            fixed_policy_update_y(&run, 0, eta, layout, c);
            analyse_progress(&p, u + 1, c->updates);
        }
        rc = measure(&run, c, &res) || write_csvs(&run, c, &res) || (c->plot && plot(&run, c, &res));
    }
    if (rc == 0 && progress)
        print_summary(&run, c, &res);
    ymap_result_free(&res);
    fixed_policy_free(&run);
    return rc ? -1 : 0;
}
