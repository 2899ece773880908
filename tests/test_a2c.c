/* test_a2c.c: the A2C baseline: its loss gradient against central finite differences in double
 * precision for both agent kinds, the targets it builds, its optimisers, and that it learns:
 * near-optimal on a short delayed chain (tabular and MLP agents) and a clear improvement on a
 * small grid within a few thousand steps. */
#include <stdlib.h>
#include <string.h>

#include "a2c.h"
#include "agent.h"
#include "env.h"
#include "quiet_stderr.h"
#include "rollout.h"
#include "test.h"
#include "train.h"

typedef struct {
    EnvSpec spec;
    EnvBatch env;
    Agent agent;
    AgentWork work;
    Rollout rollout;
    A2c a2c;
    real *theta, *grad;
    A2cParams params;
} A2cSetup;

static A2cParams test_params(OptimizerKind optimizer, double lr)
{
    A2cParams p = {optimizer, lr, 0.03, 0.7, 1.0, 0, 0.99, 1e-5};
    return p;
}

/* An agent with a value head (and num_y y outputs) on env_path, one rollout of t_len x n. */
static int setup(A2cSetup *s, const char *env_path, int num_y, int t_len, int n,
                 const A2cParams *params)
{
    memset(s, 0, sizeof *s);
    int hidden[1] = {6};
    AgentSpec as;
    if (env_load(env_path, &s->spec) || env_batch_init(&s->env, &s->spec, n, 3) ||
        agent_spec_for_env(&as, &s->spec, 0, hidden, 1, num_y, 1))
        return -1;
    as.tabular_init_std = 0.5;
    s->params = *params;
    if (agent_setup(&s->agent, &as) || agent_work_init(&s->work, &s->agent, t_len * n) ||
        rollout_init(&s->rollout, &s->spec, &s->agent, t_len, n) ||
        a2c_init(&s->a2c, &s->agent, t_len, n, params))
        return -1;
    s->theta = calloc(s->agent.num_params, sizeof(real));
    s->grad = calloc(s->agent.num_params, sizeof(real));
    Rng rng;
    rng_seed(&rng, 9, 0);
    agent_init_params(&s->agent, s->theta, &rng);
    rollout_collect(&s->rollout, &s->env, &s->agent, &s->work, s->theta, &rng);
    a2c_targets(&s->a2c, &s->agent, &s->rollout, (real)s->spec.gamma);
    return 0;
}

static void teardown(A2cSetup *s)
{
    a2c_free(&s->a2c);
    rollout_free(&s->rollout);
    env_batch_free(&s->env);
    agent_work_free(&s->work);
    free(s->theta);
    free(s->grad);
}

static double loss_at(A2cSetup *s, size_t i, double delta)
{
    real saved = s->theta[i];
    s->theta[i] = saved + delta;
    int rows = s->rollout.t_len * s->rollout.n;
    double loss = a2c_loss(&s->agent, &s->work, s->theta, rollout_obs(&s->rollout, 0), rows,
                           s->rollout.action, s->a2c.advantage, s->a2c.targets, &s->params,
                           NULL);
    s->theta[i] = saved;
    return loss;
}

/* Worst relative error of the A2C loss gradient over every parameter (fourth-order central
 * differences); tiny coordinates are judged against 1e-3 x the largest. */
static double check_gradient(const char *env_path, int num_y)
{
    A2cSetup s;
    A2cParams p = test_params(OPTIMIZER_SGD, 0.1);
    REQUIRE_OR(setup(&s, env_path, num_y, 5, 4, &p) == 0, INFINITY);
    int rows = s.rollout.t_len * s.rollout.n;
    a2c_loss(&s.agent, &s.work, s.theta, rollout_obs(&s.rollout, 0), rows, s.rollout.action,
             s.a2c.advantage, s.a2c.targets, &s.params, s.grad);
    double scale = 0, worst = 0;
    for (size_t i = 0; i < s.agent.num_params; i++)
        scale = fmax(scale, fabs(s.grad[i]));
    CHECK(scale > 1e-4);
    const double h = 1e-4;
    for (size_t i = 0; i < s.agent.num_params; i++) {
        double fd = (8 * (loss_at(&s, i, h) - loss_at(&s, i, -h)) -
                     (loss_at(&s, i, 2 * h) - loss_at(&s, i, -2 * h))) / (12 * h);
        worst = fmax(worst, rel_error(s.grad[i], fd, 1e-3 * scale));
    }
    /* y outputs, if any, get no gradient from A2C. */
    for (int b = 0; b < rows; b++)
        for (int j = 0; j < num_y; j++)
            CHECK(s.work.dout[(size_t)b * s.agent.num_outputs + s.agent.y_offset + j] == 0);
    fprintf(stderr, "    %s (%zu params, num_y %d): worst rel error %.2e\n",
            s.spec.name, s.agent.num_params, num_y, worst);
    teardown(&s);
    return worst;
}

TEST(a2c_loss_gradient_matches_finite_differences_tabular)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    CHECK(check_gradient("configs/envs/chain_short_noisy.json", 0) < 1e-6);
    CHECK(check_gradient("configs/envs/chain_short_noisy.json", 3) < 1e-6);
}

TEST(a2c_loss_gradient_matches_finite_differences_mlp)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    CHECK(check_gradient("configs/envs/chain_distraction.json", 0) < 1e-6);
    CHECK(check_gradient("configs/envs/random_small.json", 2) < 1e-6);
}

/* The loss by hand for one tabular row: uniform π over 2 actions, V = 0.5, Â = 2, G = 1.5. */
TEST(a2c_loss_of_one_row_by_hand)
{
    AgentSpec as = {.kind = AGENT_TABULAR, .num_states = 1, .num_actions = 2, .has_value = 1};
    Agent agent;
    AgentWork work;
    REQUIRE(agent_setup(&agent, &as) == 0);
    REQUIRE(agent_work_init(&work, &agent, 1) == 0);
    real theta[3] = {0, 0, 0.5}, grad[3] = {0, 0, 0};
    int32_t index = 0, action = 1;
    real advantage = 2, target = 1.5;
    A2cParams p = test_params(OPTIMIZER_SGD, 1);
    p.entropy_cost = 0.1, p.value_cost = 0.5;
    AgentObs obs = {&index, NULL};
    real loss = a2c_loss(&agent, &work, theta, obs, 1, &action, &advantage, &target, &p, grad);
    /* -log(1/2) * 2 - 0.1 * log 2 + 0.5 * 0.5 * 1 */
    CHECK_CLOSE(loss, 2 * log(2.0) - 0.1 * log(2.0) + 0.25, TOL_ROUND);
    /* Â (π - e_a) = 2 * (0.5, -0.5); the entropy is at its maximum (zero gradient). */
    CHECK_NEAR(grad[0], 1.0, 1e-12);
    CHECK_NEAR(grad[1], -1.0, 1e-12);
    CHECK_NEAR(grad[2], 0.5 * (0.5 - 1.5), 1e-12);
    agent_work_free(&work);
}

/* n-step targets bootstrap from V(s_T) and stop at episode ends; Â = G - V. */
TEST(a2c_targets_are_bootstrapped_returns)
{
    A2cSetup s;
    A2cParams p = test_params(OPTIMIZER_SGD, 0.1);
    REQUIRE(setup(&s, "configs/envs/chain_short_noisy.json", 0, 6, 3, &p) == 0);
    const Rollout *r = &s.rollout;
    real gamma = (real)s.spec.gamma;
    int outs = s.agent.num_outputs, v = s.agent.value_offset, n = r->n;
    for (int i = 0; i < n; i++) {
        double g = r->out[((size_t)r->t_len * n + i) * outs + v];
        for (int t = r->t_len - 1; t >= 0; t--) {
            int k = t * n + i;
            g = r->reward[k] + (r->done[k] ? 0 : gamma * g);
            CHECK_CLOSE(s.a2c.targets[k], g, TOL_ROUND);
            CHECK_CLOSE(s.a2c.advantage[k], g - r->out[(size_t)k * outs + v], TOL_ROUND);
        }
    }
    /* GAE with λ = 1 gives the same advantages. */
    real n_step[30];
    memcpy(n_step, s.a2c.advantage, sizeof n_step);
    s.a2c.params.gae_lambda = 0.9999999999;
    a2c_targets(&s.a2c, &s.agent, r, gamma);
    for (int k = 0; k < 18; k++)
        CHECK_NEAR(s.a2c.advantage[k], n_step[k], 1e-6);
    teardown(&s);
}

/* Each optimiser lowers the loss on a fixed batch, and the clip bounds the SGD step. */
TEST(a2c_optimizers_lower_the_loss_and_clip_bounds_the_step)
{
    const OptimizerKind kinds[] = {OPTIMIZER_SGD, OPTIMIZER_RMSPROP, OPTIMIZER_ADAM};
    const double lrs[] = {0.5, 0.01, 0.01};
    for (int k = 0; k < 3; k++) {
        A2cSetup s;
        A2cParams p = test_params(kinds[k], lrs[k]);
        REQUIRE(setup(&s, "configs/envs/chain_distraction.json", 0, 5, 4, &p) == 0);
        int rows = s.rollout.t_len * s.rollout.n;
        AgentObs obs = rollout_obs(&s.rollout, 0);
        double before = a2c_loss(&s.agent, &s.work, s.theta, obs, rows, s.rollout.action,
                                 s.a2c.advantage, s.a2c.targets, &p, NULL);
        double norm = 0;
        /* The targets come from the values the rollout recorded, so they stay fixed. */
        for (int step = 0; step < 5; step++)
            a2c_update(&s.a2c, &s.agent, &s.work, s.theta, &s.rollout, (real)s.spec.gamma, &norm);
        double after = a2c_loss(&s.agent, &s.work, s.theta, obs, rows, s.rollout.action,
                                s.a2c.advantage, s.a2c.targets, &p, NULL);
        CHECK(norm > 0);
        CHECK(after < before);
        fprintf(stderr, "    %s: loss %.4f -> %.4f\n", optimizer_name(kinds[k]), before, after);
        teardown(&s);
    }
    /* SGD with clip c moves θ by exactly lr * c when the gradient norm exceeds c. */
    A2cSetup s;
    A2cParams p = test_params(OPTIMIZER_SGD, 0.5);
    p.grad_clip = 1e-3;
    REQUIRE(setup(&s, "configs/envs/chain_distraction.json", 0, 5, 4, &p) == 0);
    real *before = malloc(s.agent.num_params * sizeof(real));
    memcpy(before, s.theta, s.agent.num_params * sizeof(real));
    double norm = 0;
    a2c_update(&s.a2c, &s.agent, &s.work, s.theta, &s.rollout, (real)s.spec.gamma, &norm);
    double moved = 0;
    for (size_t i = 0; i < s.agent.num_params; i++)
        moved += (s.theta[i] - before[i]) * (s.theta[i] - before[i]);
    CHECK(norm > 1e-3);
    /* measured through θ's rounding, so to a relative tolerance */
    CHECK(rel_error(sqrt(moved), 0.5 * 1e-3, 0) < TOL_LONG);
    free(before);
    teardown(&s);
}

TEST(a2c_optimizer_names_parse)
{
    OptimizerKind k;
    CHECK_INT(optimizer_parse("rmsprop", &k), 0);
    CHECK_INT(k, OPTIMIZER_RMSPROP);
    CHECK_INT(optimizer_parse("adam", &k), 0);
    CHECK_INT(k, OPTIMIZER_ADAM);
    CHECK(optimizer_parse("Adam", &k) != 0);
    CHECK(strcmp(optimizer_name(OPTIMIZER_SGD), "sgd") == 0);
}

/* ---- learning ------------------------------------------------------------------------- */

/* Trains A2C with train_run: seeds from 11, adam with lr, on env_path. */
static int train_a2c(const char *env_path, int seeds, int steps, int copies, double lr,
                     int points, TrainResult *result)
{
    TrainConfig c;
    train_config_defaults(&c);
    snprintf(c.env, sizeof c.env, "%s", env_path);
    c.seed = 11, c.seeds = seeds, c.steps = steps, c.copies = copies, c.a2c.lr = lr;
    c.log_points = points, c.threads = 2;
    EnvSpec spec;
    if (train_config_finish(&c, "test") || env_load(env_path, &spec))
        return -1;
    return train_run(&c, &spec, NULL, NULL, 0, result);
}

static double final_mean(const TrainResult *r)
{
    double mean, se;
    int count;
    train_point_stats(r, r->num_points - 1, &mean, &se, &count);
    CHECK_INT(count, r->num_seeds);
    return mean;
}

/* chain_short: +1 or -1 at the end of a 5..30 step chain decided by the first action. A random
 * policy averages 0; A2C gets to nearly always +1 (entropy keeps it a little stochastic). */
TEST(a2c_solves_short_chain_tabular)
{
    TrainResult r;
    CHECK_INT(train_a2c("configs/envs/chain_short.json", 2, 150000, 64, 0.03, 10, &r), 0);
    double first = r.curve[0], last = final_mean(&r);
    fprintf(stderr, "    chain_short: first point %.3f, final %.3f\n", first, last);
    CHECK(first < 0.5);
    CHECK(last > 0.95);
    train_result_free(&r);
}

/* The same through an MLP agent: 2 informative bits and 20 random ones. */
TEST(a2c_solves_short_chain_mlp)
{
    TrainResult r;
    CHECK_INT(train_a2c("configs/envs/chain_distraction.json", 2, 100000, 64, 0.03, 25, &r), 0);
    double first = r.curve[0], last = final_mean(&r);
    fprintf(stderr, "    chain_distraction: first point %.3f, final %.3f\n", first, last);
    CHECK(first < 0.5);
    CHECK(last > 0.95);
    train_result_free(&r);
}

/* tabular_dense (11x11, 500-step episodes, +1 objects that respawn): 8 copies, so each of the
 * 4 points holds one episode per copy. The first episode is near random (a few points at most);
 * after 16k steps an episode collects well over ten. */
TEST(a2c_improves_on_small_grid)
{
    TrainResult r;
    CHECK_INT(train_a2c("configs/envs/tabular_dense.json", 2, 16000, 8, 0.1, 4, &r), 0);
    double mean, se;
    int count;
    train_point_stats(&r, 0, &mean, &se, &count);
    double last = final_mean(&r);
    fprintf(stderr, "    tabular_dense: first episode %.2f, after 16k steps %.2f\n", mean, last);
    CHECK(mean < 6);
    CHECK(last > 12);
    CHECK(last > mean + 8);
    train_result_free(&r);
}
