/* grid_mdp.h: the exact Markov decision process of a tabular grid world, for the analyses
 * (analyse.h): value iteration, policy evaluation and an ε-greedy policy.
 *
 * A state is the environment's observation, s = cell * 2^objects + present (env.h). The model is
 * read from an EnvBatch's own tables (move targets, object map), so it has the dynamics the
 * environment steps with (src/env_grid.c): the agent moves; if it lands on a present object it
 * collects it (reward; the episode ends with the object's p_end); if the episode goes on, every
 * object that was away before the step (not the one just collected) comes back with its
 * p_respawn, independently. An episode's end has value 0. Two approximations: the episode step
 * limit is left out (the values are those of the stationary discounted MDP; the limit makes the
 * real process depend on the step count, which the agent does not observe), and probabilities
 * are taken exactly, where the environment compares 32-bit draws with a threshold (a difference
 * below 2.4e-10 per probability).
 *
 * Values and policies are double arrays over all states [states] and [states x actions]; the
 * states of wall cells exist but are never visited, their values stay 0. */
#ifndef LPG_GRID_MDP_H
#define LPG_GRID_MDP_H

#include <stdint.h>

#include "env.h"

#define GRID_MDP_MAX_OBJECTS 12 /* 2^objects masks per cell, and up to 2^objects respawn cases */

typedef struct {
    int cells, objects, actions, states; /* states = cells << objects */
    double gamma;
    const int16_t *move;       /* [cells x actions] cell reached (the batch's table, not owned) */
    const int8_t *cell_object; /* [cells] object at each cell or -1 (not owned) */
    const uint8_t *wall;       /* [cells] (the spec's) */
    uint32_t all;              /* one bit per object */
    double reward[ENV_MAX_OBJECTS], p_end[ENV_MAX_OBJECTS], p_respawn[ENV_MAX_OBJECTS];
} GridMdp;

/* Reads the model of batch's environment (a tabular grid; the batch must outlive mdp) with
 * discount gamma. Returns 0, or -1 after reporting (another kind, too many objects). */
int grid_mdp_init(GridMdp *mdp, const EnvBatch *batch, double gamma);

/* The state's cell, and whether it is a wall's (never visited). */
int grid_mdp_cell(const GridMdp *mdp, int state);
int grid_mdp_is_wall(const GridMdp *mdp, int state);

/* Optimal values v* [states] by value iteration (in-place sweeps from v = 0) until no value
 * changes by more than tol. Returns the sweeps taken, or -1 after reporting when max_sweeps
 * were not enough. */
int grid_mdp_optimal(const GridMdp *mdp, double tol, int max_sweeps, double *v);

/* Values v_π [states] of policy [states x actions] (rows sum to 1), by iterative evaluation as
 * grid_mdp_optimal. Returns the sweeps taken, or -1 after reporting. */
int grid_mdp_evaluate(const GridMdp *mdp, const double *policy, double tol, int max_sweeps,
                      double *v);

/* The ε-greedy policy of v: probability 1 - ε shared by the actions whose Q is within 1e-9 of
 * the best, ε spread uniformly over all actions. Writes policy [states x actions]. */
void grid_mdp_epsilon_greedy(const GridMdp *mdp, const double *v, double epsilon,
                             double *policy);

#endif
