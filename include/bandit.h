/* bandit.h: the hyperparameter bandit p(alpha|E) of meta-training (docs/method.md §7).
 *
 * One bandit per environment, over the grid of (alpha_lr, alpha_y) pairs (the cartesian product
 * of two config lists). Each arm keeps the final returns of its last BANDIT_WINDOW lifetimes in
 * a ring buffer and its number of tries (lifetimes that reported back through bandit_update).
 *   score = mean of the stored returns + bonus / sqrt(tries)
 * and a lifetime draws an arm with probability softmax(score / temperature). An arm never tried
 * has score +infinity (the bonus at tries = 0), so while any arm is untried the draw is uniform
 * over the untried arms: the softmax's limit, and every arm is tried before any is repeated.
 *
 * The struct is fixed-size, holds no pointers and has no padding, and bandit_init zeroes all of
 * it: its bytes are its state, so it goes into a checkpoint section as is, and a resumed run
 * (with the same RNG state) draws the same arms. */
#ifndef LPG_BANDIT_H
#define LPG_BANDIT_H

#include <stdint.h>

#include "checkpoint.h"
#include "rng.h"

#define BANDIT_MAX_ARMS 64
#define BANDIT_WINDOW 10          /* returns remembered per arm */
#define BANDIT_TEMPERATURE 0.1    /* softmax(score / temperature) */
#define BANDIT_BONUS 0.2          /* exploration bonus / sqrt(tries) */
#define BANDIT_MAGIC 0x4c504742u  /* "BGPL": marks an initialised bandit */

typedef struct {
    double alpha_lr, alpha_y;
    double returns[BANDIT_WINDOW]; /* ring buffer: slot tries % BANDIT_WINDOW is written next */
    int64_t tries;                 /* updates so far; min(tries, BANDIT_WINDOW) slots are valid */
} BanditArm;

typedef struct {
    uint32_t magic;
    uint32_t num_arms;
    double temperature; /* BANDIT_TEMPERATURE unless changed after bandit_init */
    double bonus;       /* BANDIT_BONUS likewise */
    BanditArm arms[BANDIT_MAX_ARMS];
} Bandit;

/* Sets up the grid lrs x ys (arm index = i_lr * num_ys + i_y) with no history.
 * Returns 0, or -1 (reported) for an empty grid or more than BANDIT_MAX_ARMS arms. */
int bandit_init(Bandit *b, const double *lrs, int num_lrs, const double *ys, int num_ys);

/* Mean of the arm's stored returns (0 when none) + bonus / sqrt(tries); +INFINITY if untried. */
double bandit_score(const Bandit *b, int arm);

/* The sampling distribution: probs[arm] for every arm (caller's array of num_arms doubles). */
void bandit_probabilities(const Bandit *b, double *probs);

/* Draws an arm from bandit_probabilities with one rng_uniform_double. */
int bandit_sample(const Bandit *b, Rng *rng);

/* Records a finished lifetime's final return for arm. Returns 0, or -1 (reported) for an arm
 * out of range or a return that is not finite. */
int bandit_update(Bandit *b, int arm, double final_return);

/* Writes n bandits as one bytes section. */
int bandit_save(const Bandit *bandits, int n, CheckpointWriter *w, const char *name);

/* Reads n bandits from a bytes section into `bandits`, which must already be initialised from
 * the config: the loaded grids must match theirs. On error (reported) bandits is unchanged. */
int bandit_load(Bandit *bandits, int n, const Checkpoint *ck, const char *name);

#endif
