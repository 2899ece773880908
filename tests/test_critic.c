/* test_critic.c: the meta-objective's critic. Its loss gradient against finite differences, its
 * advantages against returns_gae, and that it really learns: the loss falls under a fixed random
 * policy and the values reach the closed-form ones on a chain. */
#include <stdlib.h>
#include <string.h>

#include "critic.h"
#include "env.h"
#include "returns.h"
#include "rollout.h"
#include "test.h"

/* An environment, a uniform random policy (an agent whose parameters are all zero), a rollout
 * buffer and a critic. */
typedef struct {
    EnvSpec spec;
    EnvBatch env;
    Agent policy;
    AgentWork policy_work;
    real *policy_params;
    Rollout rollout;
    Critic critic;
    Rng rng;
    real *advantage;
} Fixture;

static int fixture_init(Fixture *f, const char *env_path, int t_len, int n, uint64_t seed)
{
    memset(f, 0, sizeof *f);
    rng_seed(&f->rng, seed, 0);
    const int hidden[1] = {16};
    AgentSpec spec;
    if (env_load(env_path, &f->spec) || env_batch_init(&f->env, &f->spec, n, seed) ||
        agent_spec_for_env(&spec, &f->spec, 0, hidden, 1, 0, 0) ||
        agent_setup(&f->policy, &spec) || agent_work_init(&f->policy_work, &f->policy, n) ||
        rollout_init(&f->rollout, &f->spec, &f->policy, t_len, n) ||
        critic_init(&f->critic, &f->spec, 0, hidden, 1, t_len, n, &f->rng))
        return -1;
    f->policy_params = calloc(f->policy.num_params, sizeof(real));
    f->advantage = calloc((size_t)t_len * n, sizeof(real));
    return f->policy_params && f->advantage ? 0 : -1;
}

static void fixture_free(Fixture *f)
{
    critic_free(&f->critic);
    rollout_free(&f->rollout);
    free(f->policy_params);
    free(f->advantage);
    agent_work_free(&f->policy_work);
    env_batch_free(&f->env);
}

static void collect(Fixture *f)
{
    rollout_collect(&f->rollout, &f->env, &f->policy, &f->policy_work, f->policy_params, &f->rng);
}

/* The worst relative error of critic_loss's gradient against central differences, at random
 * parameters and random targets. */
static double gradient_error(const char *env_path)
{
    Fixture f;
    REQUIRE_OR(fixture_init(&f, env_path, 6, 5, 3) == 0, INFINITY);
    collect(&f);
    Critic *c = &f.critic;
    size_t P = c->net.num_params, rows = (size_t)6 * 5;
    real *target = malloc(rows * sizeof(real)), *grad = calloc(P, sizeof(real));
    for (size_t i = 0; i < P; i++)
        c->params[i] += (real)(0.3 * rng_normal(&f.rng));
    for (size_t b = 0; b < rows; b++)
        target[b] = (real)rng_normal(&f.rng);
    critic_loss(c, c->params, &f.rollout, target, grad);
    double scale = 0, worst = 0;
    for (size_t i = 0; i < P; i++)
        scale = fmax(scale, fabs(grad[i]));
    CHECK(scale > 1e-6);
    const double h = 1e-5;
    size_t stride = P / 200 + 1;
    for (size_t i = 0; i < P; i += stride) {
        real saved = c->params[i];
        c->params[i] = saved + h;
        double up = critic_loss(c, c->params, &f.rollout, target, NULL);
        c->params[i] = saved - h;
        double down = critic_loss(c, c->params, &f.rollout, target, NULL);
        c->params[i] = saved;
        worst = fmax(worst, rel_error(grad[i], (up - down) / (2 * h), 1e-3 * scale));
    }
    free(target);
    free(grad);
    fixture_free(&f);
    return worst;
}

TEST(critic_loss_gradient_matches_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    double tabular = gradient_error("configs/envs/chain_short.json");
    double mlp = gradient_error("configs/envs/chain_distraction.json");
    fprintf(stderr, "    critic gradient worst rel error: tabular %.2e, mlp %.2e\n", tabular, mlp);
    CHECK(tabular < 1e-6);
    CHECK(mlp < 1e-6);
}

TEST(critic_advantage_is_gae_of_its_values)
{
    Fixture f;
    REQUIRE(fixture_init(&f, "configs/envs/chain_short_noisy.json", 8, 4, 9) == 0);
    Critic *c = &f.critic;
    real adv[32], target[32];
    for (int u = 0; u < 3; u++) {
        collect(&f);
        critic_update(c, &f.rollout, 0.97, 0.9, 0.5, f.advantage);
        /* c->value holds the values the update saw (before its step). */
        returns_gae(f.rollout.reward, f.rollout.done, c->value, c->value + 32, 8, 4, 0.97, 0.9,
                    adv, target);
        for (int b = 0; b < 32; b++) {
            CHECK(adv[b] == f.advantage[b]);
            CHECK(target[b] == c->target[b]);
        }
    }
    fixture_free(&f);
}

/* Trains the critic for `updates` rollouts; returns the mean loss of the last 20 over the mean
 * of the first 5. */
static double train(Fixture *f, int updates, real lr, real lambda)
{
    double first = 0, last = 0;
    for (int u = 0; u < updates; u++) {
        collect(f);
        double loss = critic_update(&f->critic, &f->rollout, (real)f->spec.gamma, lambda, lr,
                                    f->advantage);
        if (u < 5)
            first += loss / 5;
        if (u >= updates - 20)
            last += loss / 20;
    }
    return last / first;
}

TEST(critic_loss_falls_and_values_match_the_chain)
{
    Fixture f;
    REQUIRE(fixture_init(&f, "configs/envs/chain_short.json", 20, 16, 4) == 0);
    double ratio = train(&f, 300, 0.5, 0.95);
    fprintf(stderr, "    chain_short (L=%d): final/initial loss %.3f\n", f.env.chain_length, ratio);
    CHECK(ratio < 0.5);
    /* Under any policy the value of position p >= 1 on branch b is γ^(L-1-p) (±1): the end
     * pays +1 for the good branch, -1 otherwise. Those targets are exact, so V converges there;
     * at the start (value 0 under the uniform policy) the targets are ±γ^(L-1) at random, so
     * V keeps a small SGD noise. */
    int L = f.env.chain_length;
    double gamma = f.spec.gamma, worst = 0;
    for (int p = 1; p < L; p++)
        for (int b = 0; b < 2; b++) {
            double sign = b == f.env.chain_good_action ? 1 : -1;
            double truth = sign * pow(gamma, L - 1 - p);
            worst = fmax(worst, fabs(f.critic.params[1 + 2 * (p - 1) + b] - truth));
        }
    fprintf(stderr, "    chain_short: worst |V - V*| %.2e after the start, %.3f at the start\n",
            worst, fabs(f.critic.params[0]));
    CHECK(worst < 1e-3);
    CHECK(fabs(f.critic.params[0]) < 0.2);
    fixture_free(&f);
}

TEST(critic_loss_falls_on_a_tabular_grid)
{
    Fixture f;
    REQUIRE(fixture_init(&f, "tests/configs/critic_grid.json", 20, 16, 6) == 0);
    double ratio = train(&f, 300, 0.5, 0.95);
    fprintf(stderr, "    critic_grid: final/initial loss %.3f\n", ratio);
    CHECK(ratio < 0.5);
    fixture_free(&f);
}

TEST(critic_loss_falls_with_an_mlp)
{
    Fixture f;
    REQUIRE(fixture_init(&f, "configs/envs/chain_distraction.json", 20, 16, 5) == 0);
    double ratio = train(&f, 300, 0.5, 0.95);
    fprintf(stderr, "    chain_distraction (mlp): final/initial loss %.3f\n", ratio);
    CHECK(ratio < 0.5);
    fixture_free(&f);
}

TEST(critic_tabular_step_moves_each_state_to_its_mean_target)
{
    /* With lr = 1 a tabular critic's V(s) becomes the mean λ-return of s's visits in the batch,
     * however many visits s had (the per-state mean keeps the step stable). */
    Fixture f;
    REQUIRE(fixture_init(&f, "configs/envs/chain_short_noisy.json", 8, 4, 9) == 0);
    Critic *c = &f.critic;
    collect(&f);
    critic_update(c, &f.rollout, 0.97, 0.9, 1.0, f.advantage);
    int rows = 32, checked = 0;
    for (int b = 0; b < rows; b++) {
        int32_t s = f.rollout.obs_index[b];
        double sum = 0;
        int visits = 0;
        for (int k = 0; k < rows; k++)
            if (f.rollout.obs_index[k] == s) {
                sum += c->target[k];
                visits++;
            }
        CHECK_CLOSE(c->params[s], sum / visits, TOL_ROUND);
        checked += visits > 1;
    }
    CHECK(checked > 0); /* some state was visited more than once */
    fixture_free(&f);
}
