/* level_sampler.h: which layout a new lifetime on a procedural environment runs (docs/method.md
 * §10.6, after GROOVE and Prioritized Level Replay). A level is the seed that draws one layout.
 *
 * With level_sampler "uniform" (the default) nothing here acts: every lifetime draws a fresh
 * layout from its own seed, as before the sampler existed. With "regret" each procedural
 * environment of the run keeps a buffer of levels scored by algorithmic regret: the tuned A2C's
 * return on the level (level_a2c.h; computed once per level and kept with it) minus the return
 * of the rule's agent at the end of its lifetime there. A new lifetime replays a buffered level
 * with probability level_replay_prob, else takes a fresh random level. A replayed level is drawn
 * from P = (1 - ρ) P_S + ρ P_C, where P_S(i) ∝ (1 / rank_i)^(1/β) ranks the levels by regret
 * (rank 1 the highest; ties by buffer position) and P_C(i) ∝ the meta-steps since level i was
 * last used (uniform when every level was used at this step). A lifetime that ends is scored; a
 * new level joins the buffer, or when the buffer is full replaces the lowest-scored level if its
 * score is higher. Lifetimes that are cut short (the staggered first ones) are not scored.
 *
 * Every rank keeps the same state: levels are drawn in lifetime order from the sampler's own
 * generator, and A2C's return, computed by the rank (and thread) that runs the lifetime's last
 * window, reaches the others with the window results (meta_train.c). The buffers, the lifetimes'
 * levels and the generator are checkpoint sections (written only with "regret"). */
#ifndef LPG_LEVEL_SAMPLER_H
#define LPG_LEVEL_SAMPLER_H

#include <stdint.h>
#include <stdio.h>

#include "checkpoint.h"
#include "env.h"
#include "meta_config.h"
#include "rng.h"
#include "train.h"

typedef struct {
    uint64_t seed;      /* the level: the seed its layout is drawn from */
    double score;       /* regret at its last scored lifetime */
    double a2c;         /* A2C's return on it */
    int64_t last_used;  /* meta-step at which a lifetime last took it or was scored on it */
} Level;

typedef struct {
    int count;          /* levels held, at most the sampler's capacity */
    Level *levels;      /* [capacity] */
} LevelBuffer;

/* A buffer position and its score, for ranking. */
typedef struct {
    double score;
    int at;
} LevelRank;

/* What the sampler knows of one lifetime. */
typedef struct {
    int on_level;       /* it runs a level the sampler chose */
    int reports;        /* it lives its full length, so it is scored at its end */
    int env;            /* its environment */
    uint64_t seed;      /* its level */
    double a2c;         /* A2C's return on its level; NaN until known */
    double a2c_seconds; /* thread CPU time spent computing a2c here (this process; not saved) */
    int a2c_ran;        /* a2c was computed here (this process; not saved) */
    int a2c_failed;     /* computing a2c ran out of memory (reported) */
} LevelLife;

typedef struct {
    int enabled;                 /* level_sampler "regret" */
    int capacity;
    double replay_prob, temperature, staleness;
    Rng rng;                     /* fresh levels and replay draws */
    int num_envs, lifetimes;
    const EnvSpec *specs;        /* [num_envs] (not owned) */
    int *a2c_updates;            /* [num_envs] updates of an A2C run on that environment */
    int copies, unroll;          /* of an A2C run: the lifetimes' */
    TrainConfig a2c_tabular;     /* procedural_grid levels */
    TrainConfig a2c_random;      /* procedural_random_grid levels */
    LevelBuffer *buffers;        /* [num_envs]; empty for other kinds */
    LevelLife *lives;            /* [lifetimes] */
    double *weights;             /* [capacity] scratch: replay probabilities */
    LevelRank *ranks;            /* [capacity] scratch: the levels by score */
    int64_t replays;             /* lifetimes that replayed a level (this process; not saved) */
    int64_t a2c_runs;            /* A2C runs this process finished (not saved) */
    double a2c_seconds;          /* their CPU time */
} LevelSampler;

/* Whether spec is of a procedural kind, whose lifetimes the sampler may choose levels for. */
int level_is_procedural(const EnvSpec *spec);

/* Sets the sampler up from the config (only level_sampler "regret" allocates and loads the A2C
 * configs that the run's procedural kinds need, relative to nothing: c's paths are resolved).
 * a2c_updates[e] is the length of an A2C run on environment e (copied). where names the config
 * in errors. Returns 0, or -1 after reporting. */
int level_sampler_init(LevelSampler *s, const MetaConfig *c, const char *where,
                       const EnvSpec *specs, int num_envs, const int *a2c_updates);
void level_sampler_free(LevelSampler *s);

/* Chooses the level of new lifetime i on environment env at meta-step step: returns 1 and sets
 * *level when the sampler chose one (regret, a procedural environment), else 0 (the lifetime
 * draws its own layout). report says whether the lifetime will be scored at its end. */
int level_sampler_pick(LevelSampler *s, int i, int env, int report, int64_t step,
                       uint64_t *level);

/* After lifetime i's window, on the thread that ran it: when the lifetime has just finished
 * (finished != 0) on a level whose A2C return is not known yet, computes it. */
void level_sampler_after_window(LevelSampler *s, int i, int finished);

/* Lifetime i's A2C return (NaN when unknown), and setting it from another rank's result. */
double level_sampler_life_a2c(const LevelSampler *s, int i);
void level_sampler_set_life_a2c(LevelSampler *s, int i, double a2c);

/* Lifetime i ended at meta-step step with final_return: scores its level (A2C's return minus
 * final_return) into its environment's buffer. Returns 0, or -1 when computing its A2C return
 * failed on this rank (reported then). */
int level_sampler_finish(LevelSampler *s, int i, double final_return, int64_t step);

/* The replay probabilities of buffer b's levels at meta-step now into p [b->count]; ranks
 * [b->count] is scratch (left holding the levels by rank). */
void level_replay_probabilities(const LevelBuffer *b, double temperature, double staleness,
                                int64_t now, LevelRank *ranks, double *p);

/* Adds a scored level to b (of capacity levels): a level already held (same seed) takes the new
 * score, A2C return and time; a new one is appended, or replaces the first lowest-scored level
 * when b is full and it scores higher. Returns its position, or -1 when it was not kept. */
int level_buffer_add(LevelBuffer *b, int capacity, const Level *level);

/* The mean score of b's levels (NaN when empty). */
double level_buffer_mean_score(const LevelBuffer *b);

/* Checkpoint sections "levels_*" (only when enabled). load reads them when present, checking
 * them against the config and step; a checkpoint without them (a uniform run) leaves the
 * sampler empty. Returns 0, or -1 after reporting. */
int level_sampler_save(const LevelSampler *s, CheckpointWriter *w);
int level_sampler_load(LevelSampler *s, const Checkpoint *ck, int64_t step);

/* One line on out: each procedural environment's buffer size and mean regret, and A2C's CPU time
 * against the process's (cpu_seconds). */
void level_sampler_print(const LevelSampler *s, FILE *out, double cpu_seconds);

#endif
