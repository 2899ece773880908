/* a2c.h: the A2C baseline (docs/method.md §9): advantage actor-critic on the agent of agent.h
 * with a value head (has_value = 1; num_y is normally 0 and its outputs get no gradient).
 *
 * One update uses one T x n time-major rollout (rollout.h) collected with the current θ:
 *     targets G_t: n-step returns over the unroll, bootstrapped from V(s_T) (gae_lambda = 1),
 *                  or λ-returns of GAE (gae_lambda < 1); Â_t = G_t - V(s_t)
 *     L(θ) = mean_b [ -log π(a_b|s_b) Â_b - entropy_cost H(π(s_b)) + value_cost ½ (V(s_b) - G_b)² ]
 * where Â and G are constants (computed from the values the rollout recorded, never
 * differentiated). The gradient, optionally clipped by its global norm, goes to SGD, RMSprop
 * (TF style: θ -= lr g / sqrt(ms + eps)) or Adam. Every buffer is allocated by a2c_init. */
#ifndef LPG_A2C_H
#define LPG_A2C_H

#include <stddef.h>
#include <stdint.h>

#include "adam.h"
#include "agent.h"
#include "real.h"
#include "rollout.h"

typedef enum { OPTIMIZER_SGD, OPTIMIZER_RMSPROP, OPTIMIZER_ADAM } OptimizerKind;
extern const char *const optimizer_names[]; /* "sgd", "rmsprop", "adam", NULL: the key optimizer */
_Static_assert(sizeof(OptimizerKind) == sizeof(int), "a config stores it as an int");

typedef struct {
    OptimizerKind optimizer;
    double lr;            /* step size of the optimiser */
    double entropy_cost;  /* weight of -H(π) in the loss */
    double value_cost;    /* weight of ½ (V - G)² */
    double gae_lambda;    /* 1: n-step returns over the unroll; < 1: GAE(λ) */
    double grad_clip;     /* global-norm clip of the gradient; 0 = off */
    double rmsprop_decay; /* RMSprop: decay of the mean square */
    double eps;           /* RMSprop and Adam: added for stability */
} A2cParams;

typedef struct {
    A2cParams params;
    int t_len, n;
    size_t num_params;
    real *grad;             /* [num_params] */
    real *mean_square;      /* [num_params] RMSprop state */
    Adam adam;              /* Adam state (optimizer == OPTIMIZER_ADAM) */
    real *value;            /* [t_len*n] V(s_t) as recorded by the rollout */
    real *bootstrap;        /* [n] V(s_T) */
    real *advantage;        /* [t_len*n] Â_t */
    real *targets;          /* [t_len*n] G_t */
    void *mem;
} A2c;

/* Parses "sgd", "rmsprop" or "adam"; returns 0, or -1 (not reported: the caller names the key). */
int optimizer_parse(const char *name, OptimizerKind *out);
const char *optimizer_name(OptimizerKind kind);

/* Allocates the learner for an agent with a value head and t_len x n rollouts, with zeroed
 * optimiser state. Returns 0, or -1 after reporting. Free with a2c_free (safe when zeroed). */
int a2c_init(A2c *a2c, const Agent *agent, int t_len, int n, const A2cParams *params);
void a2c_free(A2c *a2c);

/* Fills a2c->advantage and a2c->targets for rollout (discount gamma) from the values it
 * recorded in rollout->out. */
void a2c_targets(A2c *a2c, const Agent *agent, const Rollout *rollout, real gamma);

/* Returns the A2C loss (file comment) of batch rows with actions, advantages and value targets
 * held fixed, and ADDS its gradient wrt θ to dtheta [num_params] when dtheta is not NULL.
 * Uses work->out and work->dout; work must hold batches of batch. */
real a2c_loss(const Agent *agent, AgentWork *work, const real *theta, AgentObs obs, int batch,
              const int32_t *action, const real *advantage, const real *targets,
              const A2cParams *params, real *dtheta);

/* One A2C update of theta on rollout (collected with theta): targets, loss, gradient, clip and
 * optimiser step. Returns the loss; *grad_norm (if not NULL) gets the norm before clipping. */
real a2c_update(A2c *a2c, const Agent *agent, AgentWork *work, real *theta,
                const Rollout *rollout, real gamma, double *grad_norm);

#endif
