/* analyse_values.c: `lpg analyse values`, the paper's Figure 5 (see analyse.h): how well the
 * true values at several discounts can be read off y, against a TD(λ) value learned on the same
 * experience. Both are regressed the same way: a one-hidden-layer MLP (ReLU) with one output per
 * discount, fitted by full-batch Adam on the squared error of standardised inputs and targets
 * over the training grids' states, then measured on the held-out grids' states. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adam.h"
#include "analyse.h"
#include "critic.h"
#include "fixed_policy.h"
#include "softmax.h"
#include "util.h"

#define VI_MAX_SWEEPS 1000000

/* The states of a set of grids: y, the TD value, and v_π at each discount. */
typedef struct {
    int rows, cap, gammas;
    real *y;   /* [rows x 30] */
    real *td;  /* [rows] */
    double *v; /* [rows x gammas] */
} ValueSet;

static void value_set_free(ValueSet *set)
{
    free(set->y);
    free(set->td);
    free(set->v);
}

static int value_set_grow(ValueSet *set, int more)
{
    if (set->rows + more <= set->cap)
        return 0;
    int cap = set->cap * 2 + more;
    real *y = realloc(set->y, (size_t)cap * RULE_Y_DIM * sizeof(real));
    if (y)
        set->y = y;
    real *td = realloc(set->td, (size_t)cap * sizeof(real));
    if (td)
        set->td = td;
    double *v = realloc(set->v, (size_t)cap * set->gammas * sizeof(double));
    if (v)
        set->v = v;
    if (!y || !td || !v)
        return lpg_error("out of memory collecting %d states", cap);
    set->cap = cap;
    return 0;
}

/* v_π of the run's policy at each discount into v [gammas x states]. */
static int true_values(const FixedPolicyRun *run, const AnalyseConfig *c, double *v)
{
    for (int g = 0; g < c->value_gammas.count; g++) {
        GridMdp mdp = run->mdp;
        mdp.gamma = c->value_gammas.item[g];
        if (grid_mdp_evaluate(&mdp, run->policy, c->vi_tol, VI_MAX_SWEEPS,
                              v + (size_t)g * mdp.states) < 0)
            return -1;
    }
    return 0;
}

/* Adds the states run visited at least min_visits times to set. */
static int add_states(ValueSet *set, const FixedPolicyRun *run, const Critic *critic,
                      const double *v, const AnalyseConfig *c)
{
    int states = run->mdp.states;
    for (int s = 0; s < states; s++) {
        if (grid_mdp_is_wall(&run->mdp, s) || run->visits[s] < c->min_visits)
            continue;
        if (value_set_grow(set, 1))
            return -1;
        int row = set->rows++;
        softmax_row(fixed_policy_y_logits(run, 0, s), RULE_Y_DIM,
                    set->y + (size_t)row * RULE_Y_DIM);
        set->td[row] = critic->params[(size_t)s * critic->net.num_outputs +
                                      critic->net.value_offset];
        for (int g = 0; g < set->gammas; g++)
            set->v[(size_t)row * set->gammas + g] = v[(size_t)g * states + s];
    }
    return 0;
}

/* Instance k: the rule updates y and TD(λ) learns a value on the same rollouts. */
static int run_instance(const EnvSpec *file_spec, const AnalyseConfig *c,
                        const RuleLayout *layout, const real *eta, int k, ValueSet *set)
{
    FixedPolicyRun run;
    Critic critic = {0};
    real *advantage = NULL;
    double *v = NULL;
    int rc = fixed_policy_init(&run, file_spec, c, layout, (uint64_t)c->seed + (uint64_t)k, 1);
    if (rc == 0)
        rc = critic_init(&critic, &run.spec, 0, NULL, 0, c->unroll, c->copies, &run.rng);
    if (rc == 0) {
        advantage = lpg_calloc((size_t)c->unroll * c->copies, sizeof(real), "advantages");
        v = lpg_calloc((size_t)c->value_gammas.count * run.mdp.states, sizeof(double), "values");
        rc = advantage && v ? 0 : -1;
    }
    for (int u = 0; rc == 0 && u < c->updates; u++) {
        fixed_policy_collect(&run);
        fixed_policy_update_y(&run, 0, eta, layout, c);
        critic_update(&critic, &run.rollout, (real)c->gamma, (real)c->td_lambda, (real)c->td_lr,
                      advantage);
    }
    rc = rc || true_values(&run, c, v) || add_states(set, &run, &critic, v, c);
    free(v);
    free(advantage);
    critic_free(&critic);
    fixed_policy_free(&run);
    return rc ? -1 : 0;
}

/* ---- the regression ------------------------------------------------------------------- */

/* Column means and standard deviations (1 where a column is constant). */
static void column_stats(const real *x, int rows, int cols, double *mean, double *sd)
{
    for (int j = 0; j < cols; j++) {
        double m = 0, var = 0;
        for (int r = 0; r < rows; r++)
            m += (double)x[(size_t)r * cols + j];
        m /= rows;
        for (int r = 0; r < rows; r++) {
            double d = (double)x[(size_t)r * cols + j] - m;
            var += d * d;
        }
        mean[j] = m;
        sd[j] = var > 0 ? sqrt(var / rows) : 1;
    }
}

static real *standardise(const real *x, int rows, int cols, const double *mean, const double *sd)
{
    real *z = lpg_calloc((size_t)rows * cols, sizeof(real), "regression inputs");
    if (z)
        for (size_t k = 0; k < (size_t)rows * cols; k++)
            z[k] = (real)(((double)x[k] - mean[k % cols]) / sd[k % cols]);
    return z;
}

/* Mean squared error per discount, in the targets' units, of the net on rows of x. */
static void measure_mse(const Agent *net, AgentWork *work, const real *theta, const real *z,
                        const double *v, int rows, const double *t_mean, const double *t_sd,
                        double *mse)
{
    int G = net->num_actions;
    AgentObs obs = {NULL, z};
    agent_forward(net, work, theta, obs, rows, work->out);
    for (int g = 0; g < G; g++) {
        double total = 0;
        for (int r = 0; r < rows; r++) {
            double pred = (double)work->out[(size_t)r * G + g] * t_sd[g] + t_mean[g];
            double d = pred - v[(size_t)r * G + g];
            total += d * d;
        }
        mse[g] = total / rows;
    }
}

typedef struct {
    const real *x;   /* [rows x cols] inputs */
    const double *v; /* [rows x gammas] targets */
    int rows;
} RegressionData;

/* Fits the MLP on train (inputs of width cols) and writes the mean squared errors per discount
 * on train and test. */
static int fit(const AnalyseConfig *c, int cols, const RegressionData *train,
               const RegressionData *test, uint64_t seed, double *mse_train, double *mse_test)
{
    int G = c->value_gammas.count, rc = -1;
    double x_mean[RULE_Y_DIM], x_sd[RULE_Y_DIM], t_mean[CONFIG_LIST_MAX], t_sd[CONFIG_LIST_MAX];
    real *t = lpg_calloc((size_t)train->rows * G, sizeof(real), "regression targets");
    if (!t)
        return -1;
    for (size_t k = 0; k < (size_t)train->rows * G; k++)
        t[k] = (real)train->v[k];
    column_stats(train->x, train->rows, cols, x_mean, x_sd);
    column_stats(t, train->rows, G, t_mean, t_sd);
    for (size_t k = 0; k < (size_t)train->rows * G; k++)
        t[k] = (real)(((double)t[k] - t_mean[k % G]) / t_sd[k % G]);
    real *z_train = standardise(train->x, train->rows, cols, x_mean, x_sd);
    real *z_test = standardise(test->x, test->rows, cols, x_mean, x_sd);
    AgentSpec spec = {.kind = AGENT_MLP, .obs_dim = cols, .num_hidden = 1,
                      .hidden = {c->fit_hidden}, .num_actions = G};
    Agent net;
    AgentWork work = {0};
    Adam adam = {0};
    real *theta = NULL, *grad = NULL;
    int batch = train->rows > test->rows ? train->rows : test->rows;
    if (!z_train || !z_test || agent_setup(&net, &spec) || agent_work_init(&work, &net, batch) ||
        adam_init(&adam, net.num_params, adam_defaults(c->fit_lr)) ||
        !(theta = lpg_calloc(net.num_params, sizeof(real), "regression MLP")) ||
        !(grad = lpg_calloc(net.num_params, sizeof(real), "regression gradient")))
        goto done;
    Rng rng;
    rng_seed(&rng, seed, RNG_STREAM_ANALYSE);
    agent_init_params(&net, theta, &rng);
    AgentObs obs = {NULL, z_train};
    for (int step = 0; step < c->fit_steps; step++) {
        agent_forward(&net, &work, theta, obs, train->rows, work.out);
        for (size_t k = 0; k < (size_t)train->rows * G; k++)
            work.dout[k] = (work.out[k] - t[k]) / (real)train->rows;
        memset(grad, 0, net.num_params * sizeof(real));
        agent_backward(&net, &work, theta, obs, train->rows, work.dout, grad);
        adam_step(&adam, theta, grad);
    }
    measure_mse(&net, &work, theta, z_train, train->v, train->rows, t_mean, t_sd, mse_train);
    measure_mse(&net, &work, theta, z_test, test->v, test->rows, t_mean, t_sd, mse_test);
    rc = 0;
done:
    free(t);
    free(z_train);
    free(z_test);
    free(theta);
    free(grad);
    adam_free(&adam);
    agent_work_free(&work);
    return rc;
}

/* Per discount, the held-out error of predicting every state's value by the training states'
 * mean: what a regression that ignores its input achieves. */
static void mean_baseline(const ValueSet *train, const ValueSet *test, double *mse)
{
    for (int g = 0; g < train->gammas; g++) {
        double m = 0, s = 0;
        for (int r = 0; r < train->rows; r++)
            m += train->v[(size_t)r * train->gammas + g];
        m /= train->rows;
        for (int r = 0; r < test->rows; r++) {
            double d = test->v[(size_t)r * test->gammas + g] - m;
            s += d * d;
        }
        mse[g] = s / test->rows;
    }
}

typedef struct {
    double y_train[CONFIG_LIST_MAX], y_test[CONFIG_LIST_MAX];
    double td_train[CONFIG_LIST_MAX], td_test[CONFIG_LIST_MAX];
    double mean_only[CONFIG_LIST_MAX]; /* held-out error of the training mean */
} ValueErrors;

static int regress(const AnalyseConfig *c, const ValueSet *train, const ValueSet *test,
                   ValueErrors *e)
{
    RegressionData y_train = {train->y, train->v, train->rows};
    RegressionData y_test = {test->y, test->v, test->rows};
    RegressionData td_train = {train->td, train->v, train->rows};
    RegressionData td_test = {test->td, test->v, test->rows};
    mean_baseline(train, test, e->mean_only);
    uint64_t seed = (uint64_t)c->seed + (uint64_t)c->instances + (uint64_t)c->heldout;
    return fit(c, RULE_Y_DIM, &y_train, &y_test, seed, e->y_train, e->y_test) ||
           fit(c, 1, &td_train, &td_test, seed, e->td_train, e->td_test);
}

/* ---- output --------------------------------------------------------------------------- */

static int write_csv(const AnalyseConfig *c, const ValueSet *train, const ValueSet *test,
                     const ValueErrors *e)
{
    AnalyseText t = {0};
    analyse_text_add(&t, "gamma,mse_y,mse_td,mse_mean,mse_y_train,mse_td_train,"
                         "train_states,heldout_states\n");
    for (int g = 0; g < c->value_gammas.count; g++)
        analyse_text_add(&t, "%g,%.6g,%.6g,%.6g,%.6g,%.6g,%d,%d\n", c->value_gammas.item[g],
                         e->y_test[g], e->td_test[g], e->mean_only[g], e->y_train[g],
                         e->td_train[g], train->rows, test->rows);
    return analyse_text_write(&t, c->output_dir, "values.csv");
}

/* Bars of each regression's held-out error as a fraction of the constant's (the training
 * mean's), which puts every discount on one scale. */
static int plot(const AnalyseConfig *c, const char *env_name)
{
    AnalyseText t = {0};
    analyse_text_add(&t, "set datafile separator ','\n"
                         "set title \"Regressing true values v_gamma from y (gamma %g) and from "
                         "a TD(lambda) value (gamma %g)\\n%s: %d training grids, error on the "
                         "states of %d held-out grids\" noenhanced\n"
                         "set style data histograms\nset style histogram clustered gap 1\n"
                         "set style fill solid 0.8 border -1\nset boxwidth 0.9\n"
                         "set xlabel 'discount of the regressed value'\n"
                         "set ylabel 'held-out MSE / MSE of the training mean'\n"
                         "set yrange [0:*]\nset grid ytics lc rgb '#dddddd'\n"
                         "set key outside bottom center horizontal noenhanced\n"
                         "plot '%s/values.csv' skip 1 using ($2/$4):xtic(1) title 'g: y -> v' lc "
                         "rgb '#1f77b4', '' skip 1 using ($3/$4) title 'h: TD value -> v' lc rgb "
                         "'#ff7f0e'\n", c->gamma, c->gamma, env_name, c->instances, c->heldout,
                     c->output_dir);
    return analyse_plot(c->output_dir, "values", 720, 460, &t);
}

int analyse_values(const AnalyseConfig *c, const RuleLayout *layout, const real *eta,
                   int progress)
{
    EnvSpec file_spec;
    if (env_load(c->env, &file_spec))
        return -1;
    ValueSet train = {.gammas = c->value_gammas.count}, test = {.gammas = c->value_gammas.count};
    int total = c->instances + c->heldout, rc = 0;
    AnalyseProgress p;
    analyse_progress_start(&p, "values", "grids", progress);
    for (int k = 0; rc == 0 && k < total; k++) {
        rc = run_instance(&file_spec, c, layout, eta, k, k < c->instances ? &train : &test);
        analyse_progress(&p, k + 1, total);
    }
    if (rc == 0 && (train.rows < 2 || test.rows < 1))
        rc = lpg_error("%s: too few states visited at least %d times (%d training, %d held out; "
                       "key 'min_visits')", c->env, c->min_visits, train.rows, test.rows);
    ValueErrors e;
    rc = rc || regress(c, &train, &test, &e) || write_csv(c, &train, &test, &e) ||
         (c->plot && plot(c, file_spec.name));
    if (rc == 0 && progress) {
        printf("values on %s: held-out mean squared error of v_gamma from y / from the TD value "
               "(of the training mean), %d training and %d held-out states:\n", file_spec.name,
               train.rows, test.rows);
        for (int g = 0; g < c->value_gammas.count; g++)
            printf("  gamma %-6g  %10.4g / %10.4g  (%.4g)\n", c->value_gammas.item[g],
                   e.y_test[g], e.td_test[g], e.mean_only[g]);
        printf("values: %s/values.csv%s\n", c->output_dir, c->plot ? ", values.png" : "");
    }
    value_set_free(&train);
    value_set_free(&test);
    return rc ? -1 : 0;
}
