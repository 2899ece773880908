/* es_run.h: meta-training by evolution strategies (meta_optimizer "es", docs/method.md §13): one
 * generation per meta-step of a MetaRun. A generation draws es_lifetimes_per_member tasks from
 * the run's generator (an environment from the config's list, a seed for the agent and its
 * environments, a length as the lifetimes of meta-gradient runs get theirs); every one of the
 * 2 x es_population members η ± σε (es.h) lives every task once, from θ_0 to the last update,
 * with the same seeds (common random numbers). A member's fitness is the mean over tasks of its
 * final return standardised among the members on that task; centred ranks of the fitnesses give
 * the ES estimate, and Adam (es_lr, no clipping) ascends it. Members' lifetimes are split over
 * MPI ranks in blocks and over threads within a rank; their results are exchanged whole, so
 * every number is the same for any thread and rank count. Nothing outlives a generation but η,
 * Adam, the run's generator and the step: a checkpoint needs no lifetimes. */
#ifndef LPG_ES_RUN_H
#define LPG_ES_RUN_H

#include <stdint.h>

#include "meta_train.h"

/* Lifetimes a generation of c runs: 2 x es_population x es_lifetimes_per_member. */
int64_t es_lifetimes_per_generation(const MetaConfig *c);

/* Allocates the ES state of run (run->es), whose config, layout and η are set. Returns 0, or -1
 * after reporting. */
int es_state_create(MetaRun *run);
void es_state_free(MetaRun *run);

/* One generation: tasks, every member's lifetimes, fitness, the estimate, Adam on η; the step
 * count, lifetimes finished and each environment's recent final returns (the population's mean)
 * advance as in a meta-step. Fills stats (J and critic_fvu NaN; fitness_max and fitness_min
 * set). Returns 0, or -1 after reporting (a non-finite η: stop without saving). */
int es_generation(MetaRun *run, MetaStepStats *stats);

/* The members' fitnesses [members] from their final returns [members x tasks] (member m's on
 * task t at m * tasks + t): on each task the returns are standardised over the members, (R −
 * mean) / std (all 0 when they are equal; a return that is not finite counts as the task's
 * lowest finite one), and a member's fitness is the mean over tasks. So every task weighs alike,
 * whatever its environment's scale of returns. column is scratch [members]. */
void es_fitness(const double *final_return, int members, int tasks, double *fitness,
                double *column);

/* (α_lr, α_y) of an ES lifetime on spec: the middle of the config's bandit grid for its agent
 * kind (the lower middle of an even list), and that arm's index into the bandit's arms. */
int es_arm(const MetaConfig *c, const EnvSpec *spec, double *alpha_lr, double *alpha_y);

#endif
