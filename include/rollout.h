/* rollout.h: collecting a batch of T-step trajectories from n environment copies with an agent.
 *
 * Time-major layout, as returns.h and rule.h use: step t of copy i at row t*n + i. Row T (the
 * observation after the last step) is kept too, so that bootstrap values and y(s_{t+1}) of the
 * last step are at hand: obs and out have (T+1)*n rows, action/reward/done T*n. `out` holds the
 * agent's outputs at every observation under the θ that acted (the rule's inputs need them). */
#ifndef LPG_ROLLOUT_H
#define LPG_ROLLOUT_H

#include <stdint.h>

#include "agent.h"
#include "env.h"
#include "real.h"
#include "rng.h"

typedef struct {
    int t_len, n, obs_dim, num_outputs;
    int32_t *obs_index; /* [(T+1)*n] when the environment observes a state index */
    real *obs;          /* [(T+1)*n*obs_dim] when it observes a vector */
    int32_t *action;    /* [T*n] */
    real *reward;       /* [T*n] */
    uint8_t *done;      /* [T*n] */
    real *pi_taken;     /* [T*n] π(a_t|s_t) under the acting θ */
    real *out;          /* [(T+1)*n*num_outputs] agent outputs at each observation */
    void *mem;
} Rollout;

/* Allocates a rollout of t_len steps for n copies of an environment with spec's sizes and an
 * agent with agent's outputs. Returns 0, or -1 after reporting; free with rollout_free. */
int rollout_init(Rollout *rollout, const EnvSpec *spec, const Agent *agent, int t_len, int n);
void rollout_free(Rollout *rollout);

/* The bytes rollout_init allocates for those sizes. */
size_t rollout_bytes(const EnvSpec *spec, const Agent *agent, int t_len, int n);

/* The observations of rows [first, ...) as the agent reads them. */
AgentObs rollout_obs(const Rollout *rollout, int first_row);

/* Plays t_len steps in env (n copies) with the policy softmax(action logits of θ), sampling
 * actions from rng; work must hold batches of n. The environment keeps its state across calls,
 * so consecutive rollouts continue the same episodes. */
void rollout_collect(Rollout *rollout, EnvBatch *env, const Agent *agent, AgentWork *work,
                     const real *theta, Rng *rng);

/* Samples an index from softmax(logits[0..n)) with one uniform draw; writes its probability to
 * *p unless p is NULL. */
int sample_softmax(const real *logits, int n, Rng *rng, real *p);

#endif
