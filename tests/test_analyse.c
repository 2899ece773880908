/* test_analyse.c: the analyses of `lpg analyse` (analyse.h): value iteration against grids
 * solved by hand and against the environment itself, KL and correlation, and each analysis on a
 * tiny config (finite numbers that say something: y learned by the shipped rule tracks the value
 * better than random y, two y converge, the regressions beat a constant). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyse.h"
#include "env.h"
#include "grid_mdp.h"
#include "rule_file.h"
#include "test.h"
#include "util.h"

#define TINY "tests/configs/analyse_tiny.json"

/* A batch of one copy of a test grid, and its model at gamma. */
static int load_mdp(const char *path, EnvSpec *spec, EnvBatch *batch, GridMdp *mdp, double gamma)
{
    if (env_load(path, spec) || env_batch_init(batch, spec, 1, 1))
        return -1;
    return grid_mdp_init(mdp, batch, gamma);
}

static int state_of(int cell, int present) { return cell * 2 + present; }

TEST(grid_mdp_solves_a_grid_whose_object_ends_the_episode)
{
    /* Two open cells (the row below is wall), the object (+1, ends the episode, never back) on
     * the right one, 4 moves (up, down and left are blocked from the left cell: they stay). */
    EnvSpec spec;
    EnvBatch batch;
    GridMdp mdp;
    REQUIRE(load_mdp("tests/configs/analyse_grid_end.json", &spec, &batch, &mdp, 0.9) == 0);
    CHECK_INT(mdp.states, 8); /* 4 cells (2 walls) x 2 */
    double v[8], pi[8 * 4];
    CHECK(grid_mdp_optimal(&mdp, 1e-13, 10000, v) > 0);
    CHECK_NEAR(v[state_of(0, 1)], 1.0, 1e-12);  /* step right, collect, done */
    CHECK_NEAR(v[state_of(1, 1)], 1.0, 1e-12);  /* stay (a blocked move), collect */
    CHECK_NEAR(v[state_of(0, 0)], 0.0, 1e-12);  /* nothing left */
    /* The uniform policy: from the left cell 1/4 collects, 3/4 stays:
     * V = 1/4 + 3/4 γ V; from the right cell 3/4 collects at once, 1/4 moves left. */
    for (int k = 0; k < 32; k++)
        pi[k] = 0.25;
    CHECK(grid_mdp_evaluate(&mdp, pi, 1e-13, 10000, v) > 0);
    double left = 0.25 / (1 - 0.75 * 0.9);
    CHECK_NEAR(v[state_of(0, 1)], left, 1e-10);
    CHECK_NEAR(v[state_of(1, 1)], 0.75 + 0.25 * 0.9 * left, 1e-10);
    /* ε-greedy on v*: right from the left cell, ε spread over the four moves. */
    CHECK(grid_mdp_optimal(&mdp, 1e-13, 10000, v) > 0);
    grid_mdp_epsilon_greedy(&mdp, v, 0.2, pi);
    const double *row = pi + state_of(0, 1) * 4;
    CHECK_NEAR(row[1], 0.85, 1e-12);
    CHECK_NEAR(row[0], 0.05, 1e-12);
    CHECK_NEAR(row[3], 0.05, 1e-12);
    env_batch_free(&batch);
}

TEST(grid_mdp_solves_a_grid_whose_object_respawns)
{
    /* The object (+1, p_end 0) comes back with p = 0.5 per step once collected. From the right
     * cell with it present, collect (staying): x = 1 + γ y; with it away, wait for it:
     * y = γ (p x + (1 - p) y). So x = 1 / (1 - γ² p / (1 - γ (1 - p))). The left cell is as
     * good: one step right collects, as staying does. */
    EnvSpec spec;
    EnvBatch batch;
    GridMdp mdp;
    double gamma = 0.9, p = 0.5;
    REQUIRE(load_mdp("tests/configs/analyse_grid_respawn.json", &spec, &batch, &mdp, gamma) == 0);
    double v[8];
    CHECK(grid_mdp_optimal(&mdp, 1e-13, 10000, v) > 0);
    double x = 1 / (1 - gamma * gamma * p / (1 - gamma * (1 - p)));
    double y = gamma * p * x / (1 - gamma * (1 - p));
    CHECK_NEAR(v[state_of(1, 1)], x, 1e-10);
    CHECK_NEAR(v[state_of(0, 1)], x, 1e-10);
    CHECK_NEAR(v[state_of(1, 0)], y, 1e-10);
    CHECK_NEAR(v[state_of(0, 0)], y, 1e-10);
    CHECK_NEAR(x, 3.7931034482758621, 1e-12); /* 110 / 29 */
    env_batch_free(&batch);
}

TEST(grid_mdp_values_match_the_environments_returns)
{
    /* The model against env_grid.c itself: the discounted return of the uniform policy from the
     * start, averaged over many copies, is v_π there (within 4 standard errors). The small
     * grid has an object that ends episodes sometimes and two that respawn. */
    EnvSpec spec;
    EnvBatch one;
    GridMdp mdp;
    double gamma = 0.8;
    REQUIRE(load_mdp("tests/configs/analyse_grid_small.json", &spec, &one, &mdp, gamma) == 0);
    int A = mdp.actions, copies = 20000, horizon = 60;
    double *v = calloc((size_t)mdp.states, sizeof *v), *pi = calloc((size_t)mdp.states * A, sizeof *pi);
    REQUIRE(v && pi);
    for (int k = 0; k < mdp.states * A; k++)
        pi[k] = 1.0 / A;
    CHECK(grid_mdp_evaluate(&mdp, pi, 1e-12, 100000, v) > 0);
    EnvBatch batch;
    REQUIRE(env_batch_init(&batch, &spec, copies, 7) == 0);
    int start = batch.obs_index[0];
    double *ret = calloc((size_t)copies, sizeof *ret), *discount = calloc((size_t)copies, sizeof *discount);
    int32_t *actions = calloc((size_t)copies, sizeof *actions);
    REQUIRE(ret && discount && actions);
    Rng rng;
    rng_seed(&rng, 5, 0);
    for (int i = 0; i < copies; i++)
        discount[i] = 1;
    for (int t = 0; t < horizon; t++) { /* gamma^60 < 2e-6: the rest is negligible */
        for (int i = 0; i < copies; i++)
            actions[i] = (int32_t)rng_below(&rng, (uint32_t)A);
        env_batch_step(&batch, actions);
        for (int i = 0; i < copies; i++) {
            ret[i] += discount[i] * (double)batch.reward[i];
            discount[i] = batch.done[i] ? 0 : discount[i] * gamma;
        }
    }
    double mean = 0, var = 0;
    for (int i = 0; i < copies; i++)
        mean += ret[i];
    mean /= copies;
    for (int i = 0; i < copies; i++)
        var += (ret[i] - mean) * (ret[i] - mean);
    double se = sqrt(var / (copies - 1) / copies);
    CHECK(se > 0 && se < 0.01);
    CHECK_NEAR(mean, v[start], 4 * se);
    free(v), free(pi), free(ret), free(discount), free(actions);
    env_batch_free(&batch);
    env_batch_free(&one);
}

TEST(analyse_kl_of_identical_y_is_zero)
{
    real u[RULE_Y_DIM], w[RULE_Y_DIM];
    for (int j = 0; j < RULE_Y_DIM; j++)
        u[j] = (real)sin(1.7 * j) * 3, w[j] = u[j] + 5; /* the same softmax */
    CHECK(analyse_kl_logits(u, u, RULE_Y_DIM) == 0.0);
    CHECK_CLOSE(analyse_kl_logits(u, w, RULE_Y_DIM), 0.0, TOL_ROUND);
    /* (1/2, 1/2) against (3/4, 1/4): KL = ½ log(4/3). */
    real p[2] = {0, 0}, q[2] = {(real)log(3.0), 0};
    CHECK_CLOSE(analyse_kl_logits(p, q, 2), 0.5 * log(4.0 / 3.0), TOL_ROUND);
    CHECK(analyse_kl_logits(q, p, 2) > 0);
}

TEST(analyse_correlation_of_known_series)
{
    double x[4] = {1, 2, 3, 4}, y[4] = {2, 4, 6, 8}, z[4] = {4, 3, 2, 1}, c[4] = {5, 5, 5, 5};
    double w[4] = {1, 3, 2, 4}; /* r = 0.8 */
    CHECK_NEAR(analyse_correlation(x, 1, y, 1, 4), 1.0, 1e-12);
    CHECK_NEAR(analyse_correlation(x, 1, z, 1, 4), -1.0, 1e-12);
    CHECK_NEAR(analyse_correlation(x, 1, w, 1, 4), 0.8, 1e-12);
    CHECK(analyse_correlation(x, 1, c, 1, 4) == 0.0);
}

/* Field `col` (0-based) of data row `row` (0 = the first after the header) of a CSV. */
static double csv_field(const char *path, int row, int col)
{
    char *text = read_whole_file(path, NULL);
    if (!text)
        return NAN;
    const char *p = strchr(text, '\n');
    for (int r = 0; p && r < row; r++)
        p = strchr(p + 1, '\n');
    double value = NAN;
    if (p) {
        p++;
        for (int k = 0; k < col && p; k++) {
            p = strpbrk(p, ",\n");
            p = p && *p == ',' ? p + 1 : NULL;
        }
        if (p && *p && *p != '\n')
            value = strtod(p, NULL);
    }
    free(text);
    return value;
}

/* Loads the tiny config with overrides and its rule; returns eta or NULL. */
static real *tiny_setup(AnalyseKind kind, AnalyseConfig *c, RuleLayout *layout, int n,
                        char **over)
{
    if (analyse_config_load(c, kind, TINY, n, over) || check_output_dir(c->output_dir, "x"))
        return NULL;
    return rule_file_load(c->rule, layout);
}

/* The best |r| of ymap_dims.csv (its first row). */
static double best_correlation(const AnalyseConfig *c)
{
    char path[LPG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/ymap_dims.csv", c->output_dir);
    return fabs(csv_field(path, 0, 1));
}

TEST(analyse_ymap_finds_value_in_y)
{
    AnalyseConfig c;
    RuleLayout layout;
    char *over[] = {"output_dir=build/test_analyse_ymap"};
    real *eta = tiny_setup(ANALYSE_YMAP, &c, &layout, 1, over);
    REQUIRE(eta);
    CHECK_INT(analyse_ymap(&c, &layout, eta, 0), 0);
    double learned = best_correlation(&c);
    /* The control: random y that never moves (alpha_y = 0) on the same states. */
    c.alpha_y = 0;
    c.init_std = 1;
    CHECK_INT(analyse_ymap(&c, &layout, eta, 0), 0);
    double chance = best_correlation(&c);
    CHECK(isfinite(learned) && isfinite(chance));
    CHECK(learned > 0.5);
    CHECK(learned > chance + 0.15);
    CHECK(csv_field("build/test_analyse_ymap/ymap.csv", 0, 5) > 0); /* v_pi of the first state */
    free(eta);
}

TEST(analyse_converge_brings_two_y_together)
{
    AnalyseConfig c;
    RuleLayout layout;
    char *over[] = {"output_dir=build/test_analyse_converge"};
    real *eta = tiny_setup(ANALYSE_CONVERGE, &c, &layout, 1, over);
    REQUIRE(eta);
    CHECK_INT(analyse_converge(&c, &layout, eta, 0), 0);
    const char *csv = "build/test_analyse_converge/converge.csv";
    double first = csv_field(csv, 0, 1), last = csv_field(csv, c.updates, 1);
    CHECK(isfinite(first) && isfinite(last));
    CHECK(first > 0.3);        /* two y drawn with std 1 differ */
    CHECK(last < 0.1 * first); /* and agree after the updates */
    CHECK(isnan(csv_field(csv, c.updates + 1, 1))); /* one row per update, no more */
    double target = csv_field(csv, 0, 3); /* the rule's targets for the two y differ less */
    CHECK(isfinite(target) && target >= 0 && target < first);
    CHECK(isnan(csv_field(csv, c.updates, 3)));
    free(eta);
}

TEST(analyse_values_regressions_beat_a_constant)
{
    AnalyseConfig c;
    RuleLayout layout;
    char *over[] = {"output_dir=build/test_analyse_values"};
    real *eta = tiny_setup(ANALYSE_VALUES, &c, &layout, 1, over);
    REQUIRE(eta);
    CHECK_INT(analyse_values(&c, &layout, eta, 0), 0);
    const char *csv = "build/test_analyse_values/values.csv";
    for (int g = 0; g < c.value_gammas.count; g++) {
        double mse_y = csv_field(csv, g, 1), mse_td = csv_field(csv, g, 2);
        double mse_mean = csv_field(csv, g, 3);
        CHECK_NEAR(csv_field(csv, g, 0), c.value_gammas.item[g], 1e-9);
        CHECK(isfinite(mse_y) && isfinite(mse_td) && mse_y >= 0 && mse_td >= 0);
        CHECK(mse_y < mse_mean);
        CHECK(mse_td < mse_mean);
    }
    free(eta);
}

TEST(analyse_command_line)
{
    char out[8192];
    CHECK_INT(run_lpg("analyse --help", out, sizeof out), 0);
    CHECK(strstr(out, "usage: lpg analyse <ymap|values|converge>") != NULL);
    CHECK(strstr(out, "value_gammas") != NULL);
    CHECK_INT(run_lpg("analyse sideways " TINY, out, sizeof out), 2);
    CHECK(strstr(out, "lpg: analyse: unknown analysis 'sideways'") != NULL);
    CHECK_INT(run_lpg("analyse ymap " TINY " --bogus", out, sizeof out), 2);
    CHECK(strstr(out, "lpg: analyse: unknown option '--bogus' (try 'lpg analyse --help')") != NULL);
    CHECK_INT(run_lpg("analyse ymap " TINY " updates=0", out, sizeof out), 1);
    CHECK(strstr(out, "key 'updates'") != NULL);
    CHECK_INT(run_lpg("analyse converge " TINY " init_std=0", out, sizeof out), 1);
    CHECK(strstr(out, TINY ": key 'init_std': converge draws two different y") != NULL);
    CHECK_INT(run_lpg("analyse ymap " TINY " env=configs/envs/chain_short.json", out,
                      sizeof out), 1);
    CHECK(strstr(out, TINY ": key 'env': configs/envs/chain_short.json is a chain; the analyses "
                      "need a tabular_grid or procedural_grid") != NULL);
    CHECK_INT(run_lpg("analyse values " TINY " rule=missing.lpg", out, sizeof out), 1);
    CHECK(strstr(out, "missing.lpg") != NULL);
}
