/* bench_agent.c: speed of the agent network in the product (float) build at the sizes lpg uses:
 * an MLP on the random grid's 484 inputs (hidden 32, 9 actions + 30 y) and a tabular agent with
 * 1936 states, both at batch 64. Figures are samples (observations) per second. */
#include <stdio.h>
#include <stdlib.h>

#include "agent.h"
#include "agent_loss.h"
#include "bench.h"
#include "rng.h"
#include "util.h"

#define BATCH 64
#define SECONDS 0.5

typedef struct {
    Agent agent;
    AgentWork work;
    real *theta, *grad, *v, *x, *pi_hat, *log_y_hat;
    int32_t *index, *action;
    AgentObs obs;
    LpgLossInput loss;
} BenchAgent;

static int bench_agent_init(BenchAgent *b, const AgentSpec *spec)
{
    if (agent_setup(&b->agent, spec) != 0 || agent_work_init(&b->work, &b->agent, BATCH) != 0)
        return -1;
    const Agent *a = &b->agent;
    Rng rng;
    rng_seed(&rng, 1, 0);
    b->theta = calloc(a->num_params, sizeof(real));
    b->grad = calloc(a->num_params, sizeof(real));
    b->v = calloc(a->num_params, sizeof(real));
    agent_init_params(a, b->theta, &rng);
    agent_init_params(a, b->v, &rng);
    b->index = calloc(BATCH, sizeof(int32_t));
    b->action = calloc(BATCH, sizeof(int32_t));
    b->pi_hat = calloc(BATCH, sizeof(real));
    b->log_y_hat = calloc((size_t)BATCH * a->num_y, sizeof(real));
    if (spec->kind != AGENT_TABULAR) {
        /* Binary planes: a few ones per observation, like a random grid. */
        b->x = calloc((size_t)BATCH * spec->obs_dim, sizeof(real));
        for (int i = 0; i < BATCH * 6; i++)
            b->x[(size_t)(i / 6) * spec->obs_dim + rng_below(&rng, (uint32_t)spec->obs_dim)] = 1;
    }
    for (int i = 0; i < BATCH; i++) {
        if (spec->kind == AGENT_TABULAR)
            b->index[i] = (int32_t)rng_below(&rng, (uint32_t)spec->num_states);
        b->action[i] = (int32_t)rng_below(&rng, (uint32_t)a->num_actions);
        b->pi_hat[i] = rng_uniform(&rng) - 0.5f;
        for (int j = 0; j < a->num_y; j++)
            b->log_y_hat[i * a->num_y + j] = real_log((real)1 / (real)a->num_y);
    }
    b->obs.index = b->index;
    b->obs.x = b->x;
    b->loss = (LpgLossInput){b->action, b->pi_hat, b->log_y_hat, 0.5f, 1.0f / BATCH, 0};
    return 0;
}

static void bench_agent_free(BenchAgent *b)
{
    agent_work_free(&b->work);
    free(b->theta), free(b->grad), free(b->v), free(b->x), free(b->pi_hat);
    free(b->log_y_hat), free(b->index), free(b->action);
}

/* Samples per second of forward + backward, with the LPG loss in between (what one inner SGD
 * step costs apart from the rule), or of the full Hessian-vector product. */
static double samples_per_second(BenchAgent *b, int hvp)
{
    long reps = 0;
    double t0 = now_seconds(), dt;
    do {
        for (int r = 0; r < 100; r++) {
            if (hvp)
                lpg_loss_hvp(&b->agent, &b->work, b->theta, b->obs, BATCH, &b->loss, b->v,
                             b->grad);
            else
                lpg_loss_gradient(&b->agent, &b->work, b->theta, b->obs, BATCH, &b->loss,
                                  b->grad);
        }
        reps += 100;
        dt = now_seconds() - t0;
    } while (dt < SECONDS);
    return (double)reps * BATCH / dt;
}

/* Plain forward + backward with a fixed output gradient (no loss). */
static double forward_backward_per_second(BenchAgent *b)
{
    const Agent *a = &b->agent;
    for (int i = 0; i < BATCH * a->num_outputs; i++)
        b->work.dout[i] = (real)((i % 7) - 3) * 0.01f;
    long reps = 0;
    double t0 = now_seconds(), dt;
    do {
        for (int r = 0; r < 100; r++) {
            agent_forward(a, &b->work, b->theta, b->obs, BATCH, b->work.out);
            agent_backward(a, &b->work, b->theta, b->obs, BATCH, b->work.dout, b->grad);
        }
        reps += 100;
        dt = now_seconds() - t0;
    } while (dt < SECONDS);
    return (double)reps * BATCH / dt;
}

static void bench_one(const char *name, const AgentSpec *spec)
{
    BenchAgent b = {0};
    if (bench_agent_init(&b, spec) != 0)
        return;
    char what[96];
    snprintf(what, sizeof what, "%s: forward+backward, batch 64", name);
    bench_row(what, forward_backward_per_second(&b), "samples/s");
    snprintf(what, sizeof what, "%s: Eq. 2 loss gradient, batch 64", name);
    bench_row(what, samples_per_second(&b, 0), "samples/s");
    snprintf(what, sizeof what, "%s: Eq. 2 HVP, batch 64", name);
    bench_row(what, samples_per_second(&b, 1), "samples/s");
    bench_agent_free(&b);
}

BENCH(agent_forward_backward)
{
    AgentSpec mlp = {.kind = AGENT_MLP, .obs_dim = 484, .num_hidden = 1, .hidden = {32},
                     .num_actions = 9, .num_y = 30};
    bench_one("mlp 484-32-(9+30)", &mlp);
    AgentSpec tabular = {.kind = AGENT_TABULAR, .num_states = 1936, .num_actions = 9,
                         .num_y = 30};
    bench_one("tabular 1936 x (9+30)", &tabular);
    /* MinAtar sizes (Seaquest's 10 planes): the MLP of configs/a2c/minatar.json and agent "conv". */
    AgentSpec minatar_mlp = {.kind = AGENT_MLP, .obs_dim = 1000, .num_hidden = 1, .hidden = {128},
                             .num_actions = 6, .num_y = 30};
    bench_one("mlp 1000-128-(6+30)", &minatar_mlp);
    AgentSpec minatar_conv = minatar_mlp;
    minatar_conv.kind = AGENT_CONV, minatar_conv.conv_filters = AGENT_CONV_FILTERS;
    minatar_conv.in_planes = 10, minatar_conv.in_height = 10, minatar_conv.in_width = 10;
    bench_one("conv 10x10x10-16x3x3-128-(6+30)", &minatar_conv);
}
