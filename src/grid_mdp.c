/* grid_mdp.c: the exact model of a tabular grid world and dynamic programming on it (see
 * grid_mdp.h). The expectation over respawns enumerates the subsets of the objects that may come
 * back, so a backup costs up to 2^(objects away) terms: fine for the grids here (at most a few
 * objects), and refused above GRID_MDP_MAX_OBJECTS. */
#include "grid_mdp.h"

#include <math.h>
#include <string.h>

int grid_mdp_init(GridMdp *mdp, const EnvBatch *batch, double gamma)
{
    const EnvSpec *spec = batch->spec;
    memset(mdp, 0, sizeof *mdp);
    if (spec->kind != ENV_TABULAR_GRID)
        return lpg_error("%s: value iteration needs a tabular grid, got %s", spec->path,
                         env_kind_name(spec->kind));
    if (spec->num_objects > GRID_MDP_MAX_OBJECTS)
        return lpg_error("%s: value iteration handles up to %d objects, the grid has %d",
                         spec->path, GRID_MDP_MAX_OBJECTS, spec->num_objects);
    mdp->cells = spec->width * spec->height;
    mdp->objects = spec->num_objects;
    mdp->actions = spec->num_actions;
    mdp->states = mdp->cells << mdp->objects;
    mdp->gamma = gamma;
    mdp->move = batch->move_target;
    mdp->cell_object = batch->cell_object;
    mdp->wall = spec->wall;
    mdp->all = (uint32_t)((1u << mdp->objects) - 1);
    for (int j = 0; j < mdp->objects; j++) {
        const ObjectType *type = &spec->type[spec->object_type[j]];
        mdp->reward[j] = type->reward;
        mdp->p_end[j] = type->p_end;
        mdp->p_respawn[j] = type->p_respawn;
    }
    return 0;
}

int grid_mdp_cell(const GridMdp *mdp, int state) { return state >> mdp->objects; }

int grid_mdp_is_wall(const GridMdp *mdp, int state)
{
    return mdp->wall[grid_mdp_cell(mdp, state)];
}

/* E[v(cell, present | back)] over back, the objects of `away` that come back (each with its
 * p_respawn, independently). */
static double expected_after_respawn(const GridMdp *mdp, const double *v, int cell,
                                     uint32_t present, uint32_t away)
{
    uint32_t sure = 0, maybe = 0;
    for (uint32_t m = away; m; m &= m - 1) {
        int j = __builtin_ctz(m);
        if (mdp->p_respawn[j] >= 1.0)
            sure |= 1u << j;
        else if (mdp->p_respawn[j] > 0.0)
            maybe |= 1u << j;
    }
    const double *row = v + ((size_t)cell << mdp->objects);
    present |= sure;
    double total = 0;
    uint32_t sub = 0;
    do { /* every subset of maybe, the empty one first */
        double p = 1;
        for (uint32_t m = maybe; m; m &= m - 1) {
            int j = __builtin_ctz(m);
            p *= (sub >> j) & 1u ? mdp->p_respawn[j] : 1.0 - mdp->p_respawn[j];
        }
        total += p * row[present | sub];
        sub = (sub - maybe) & maybe;
    } while (sub);
    return total;
}

/* Q(s, a) = E[r + γ (1 - end) v(s')] under the model. */
static double grid_mdp_action_value(const GridMdp *mdp, const double *v, int state, int action)
{
    int cell = grid_mdp_cell(mdp, state);
    uint32_t present = (uint32_t)state & mdp->all;
    uint32_t away = mdp->all & ~present; /* collected before this step */
    int to = mdp->move[cell * mdp->actions + action];
    int j = mdp->cell_object[to];
    double reward = 0, go_on = 1;
    if (j >= 0 && ((present >> j) & 1u)) {
        present &= ~(1u << j);
        reward = mdp->reward[j];
        go_on = mdp->p_end[j] >= 1.0 ? 0.0 : 1.0 - mdp->p_end[j];
    }
    if (go_on == 0.0)
        return reward;
    return reward + go_on * mdp->gamma * expected_after_respawn(mdp, v, to, present, away);
}

/* Sweeps v(s) = backup(s) in place until the largest change is at most tol; policy NULL takes
 * the best action, else the policy's expectation. */
static int sweep_until(const GridMdp *mdp, const double *policy, double tol, int max_sweeps,
                       double *v)
{
    memset(v, 0, (size_t)mdp->states * sizeof *v);
    for (int sweep = 1; sweep <= max_sweeps; sweep++) {
        double change = 0;
        for (int s = 0; s < mdp->states; s++) {
            if (grid_mdp_is_wall(mdp, s))
                continue;
            double value = policy ? 0.0 : -INFINITY;
            for (int a = 0; a < mdp->actions; a++) {
                double p = policy ? policy[(size_t)s * mdp->actions + a] : 1.0;
                if (p == 0.0)
                    continue;
                double q = grid_mdp_action_value(mdp, v, s, a);
                if (policy)
                    value += p * q;
                else if (q > value)
                    value = q;
            }
            double d = fabs(value - v[s]);
            change = d > change ? d : change;
            v[s] = value;
        }
        if (change <= tol)
            return sweep;
    }
    return lpg_error("value iteration: values still moved by more than %g after %d sweeps "
                     "(gamma %g)", tol, max_sweeps, mdp->gamma);
}

int grid_mdp_optimal(const GridMdp *mdp, double tol, int max_sweeps, double *v)
{
    return sweep_until(mdp, NULL, tol, max_sweeps, v);
}

int grid_mdp_evaluate(const GridMdp *mdp, const double *policy, double tol, int max_sweeps,
                      double *v)
{
    return sweep_until(mdp, policy, tol, max_sweeps, v);
}

void grid_mdp_epsilon_greedy(const GridMdp *mdp, const double *v, double epsilon,
                             double *policy)
{
    const int A = mdp->actions;
    double q[16];
    for (int s = 0; s < mdp->states; s++) {
        double *row = policy + (size_t)s * A, best = -INFINITY;
        for (int a = 0; a < A; a++) {
            q[a] = grid_mdp_action_value(mdp, v, s, a);
            best = q[a] > best ? q[a] : best;
        }
        int ties = 0;
        for (int a = 0; a < A; a++)
            ties += q[a] >= best - 1e-9;
        for (int a = 0; a < A; a++)
            row[a] = epsilon / A + (q[a] >= best - 1e-9 ? (1.0 - epsilon) / ties : 0.0);
    }
}
