/* bench_train.c: speed of `lpg train` in the product (float) build, one thread: environment steps
 * per second of acting (rollout_collect) and learning (the update) with 64 copies x 20 steps,
 * for A2C and for an LPG update with a rule of width 32, on a tabular grid (tabular_dense,
 * 1936 states) and a random grid with the MLP agent (random_dense, 484 inputs, hidden 32). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a2c.h"
#include "bench.h"
#include "inner_update.h"
#include "rollout.h"
#include "rule.h"
#include "util.h"

#define COPIES 64
#define UNROLL 20
#define SECONDS 1.0

typedef struct {
    EnvSpec spec;
    EnvBatch env;
    Agent agent;
    AgentWork work;
    Rollout rollout;
    Rng rng;
    real *theta, *grad, *pi_taken, *gamma;
    A2c a2c;
    RuleLayout layout;
    RuleWork *rwork;
    real *eta;
} BenchTrain;

static int bench_train_init(BenchTrain *b, const char *env_path, int lpg)
{
    memset(b, 0, sizeof *b);
    int hidden[1] = {32};
    AgentSpec as;
    if (env_load(env_path, &b->spec) || env_batch_init(&b->env, &b->spec, COPIES, 1) ||
        agent_spec_for_env(&as, &b->spec, 0, hidden, 1, lpg ? RULE_Y_DIM : 0, !lpg) ||
        agent_setup(&b->agent, &as) || agent_work_init(&b->work, &b->agent, COPIES * (UNROLL + 1)) ||
        rollout_init(&b->rollout, &b->spec, &b->agent, UNROLL, COPIES))
        return -1;
    rng_seed(&b->rng, 1, 0);
    size_t P = b->agent.num_params;
    b->theta = calloc(P, sizeof(real));
    b->grad = calloc(P, sizeof(real));
    agent_init_params(&b->agent, b->theta, &b->rng);
    if (!lpg) {
        A2cParams p = {OPTIMIZER_ADAM, 0.01, 0.01, 0.5, 1, 0, 0.99, 1e-5};
        return a2c_init(&b->a2c, &b->agent, UNROLL, COPIES, &p);
    }
    rule_layout(&b->layout, 32);
    b->eta = calloc(b->layout.count, sizeof(real));
    rule_init(b->eta, &b->layout, &b->rng);
    b->rwork = rule_work_create(&b->layout, COPIES, UNROLL);
    b->pi_taken = calloc((size_t)COPIES * UNROLL, sizeof(real));
    b->gamma = calloc(COPIES, sizeof(real));
    for (int i = 0; i < COPIES; i++)
        b->gamma[i] = (real)b->spec.gamma;
    return b->rwork ? 0 : -1;
}

static void bench_train_free(BenchTrain *b)
{
    a2c_free(&b->a2c);
    rule_work_free(b->rwork);
    free(b->eta), free(b->pi_taken), free(b->gamma), free(b->theta), free(b->grad);
    rollout_free(&b->rollout);
    env_batch_free(&b->env);
    agent_work_free(&b->work);
}

/* One update of θ on the last rollout (small α for LPG so that θ stays reasonable). */
static void learn(BenchTrain *b)
{
    if (!b->rwork) {
        a2c_update(&b->a2c, &b->agent, &b->work, b->theta, &b->rollout, (real)b->spec.gamma,
                   NULL);
        return;
    }
    RuleInput in;
    rule_input_at(&b->agent, &b->layout, &b->work, b->theta, &b->rollout, b->gamma, NULL,
                  b->pi_taken, &in);
    inner_update(&b->agent, &b->work, b->rwork, b->eta, &b->layout, &b->rollout, &in, NULL,
                 0.01f, 0.5f, b->theta, b->theta, b->grad);
}

/* Environment steps per second of acting only, learning only, and both. */
static void measure(BenchTrain *b, double *act, double *learn_rate, double *both)
{
    double t_act = 0, t_learn = 0;
    long updates = 0;
    while (t_act + t_learn < SECONDS) {
        double t0 = now_seconds();
        rollout_collect(&b->rollout, &b->env, &b->agent, &b->work, b->theta, &b->rng);
        double t1 = now_seconds();
        learn(b);
        t_learn += now_seconds() - t1;
        t_act += t1 - t0;
        updates++;
    }
    double steps = (double)updates * COPIES * UNROLL;
    *act = steps / t_act;
    *learn_rate = steps / t_learn;
    *both = steps / (t_act + t_learn);
}

static void bench_one(const char *label, const char *env_path, int lpg)
{
    BenchTrain b;
    if (bench_train_init(&b, env_path, lpg) != 0) {
        bench_train_free(&b);
        return;
    }
    double act, learn_rate, both;
    measure(&b, &act, &learn_rate, &both);
    char what[128];
    snprintf(what, sizeof what, "%s %s: act (rollout_collect)", label, lpg ? "lpg" : "a2c");
    bench_row(what, act, "env steps/s");
    snprintf(what, sizeof what, "%s %s: learn (%s)", label, lpg ? "lpg" : "a2c",
             lpg ? "rule + Eq. 2 SGD" : "A2C loss + Adam");
    bench_row(what, learn_rate, "env steps/s");
    snprintf(what, sizeof what, "%s %s: act + learn, 64 copies x 20 steps", label,
             lpg ? "lpg" : "a2c");
    bench_row(what, both, "env steps/s");
    bench_train_free(&b);
}

BENCH(train_a2c)
{
    bench_one("tabular_dense", "configs/envs/tabular_dense.json", 0);
    bench_one("random_dense (mlp 32)", "configs/envs/random_dense.json", 0);
}

BENCH(train_lpg)
{
    bench_one("tabular_dense", "configs/envs/tabular_dense.json", 1);
    bench_one("random_dense (mlp 32)", "configs/envs/random_dense.json", 1);
}
