/* env.h: the environments, behind one batched interface.
 *
 * An EnvSpec is one environment variant, read from a JSON file under configs/envs/ (layouts are
 * data, not code). An EnvBatch runs n copies of one spec at once, struct-of-arrays, each copy with
 * its own RNG drawn from the batch seed. Stepping resets finished copies automatically: after
 * env_batch_step, reward[i] and done[i] describe the step just taken, and the observation of a
 * copy whose episode ended (done[i] = 1, including the step limit) is already the first one of
 * its next episode.
 *
 * Observations are either a state index (tabular kinds: spec->num_states > 0, obs_index[i]) or a
 * vector of obs_dim reals (spec->obs_dim > 0, obs[i * obs_dim ...]).
 * - tabular grid: index = agent_cell * 2^num_objects + present (bit j: object j is present).
 * - random grid: num_types + 1 binary planes of width * height, plane t (t < num_types) marks
 *   the objects of type t, the last plane the agent; element plane * cells + cell.
 * - chain, tabular: 0 at the start, then 1 + 2 * (position - 1) + branch (the first action).
 * - chain with distraction bits: [branch == 0, branch == 1, the random bits...] (all 0 at the
 *   start).
 * - minatar: one binary 10x10 plane per channel of the game, element channel * 100 + y * 10 + x
 *   (see env_minatar.h).
 * - procedural grids: those of the tabular or random grid drawn, within sizes padded to the
 *   largest layout (cells = the drawn width * height). */
#ifndef LPG_ENV_H
#define LPG_ENV_H

#include <stdint.h>
#include <stdio.h>

#include "real.h"
#include "rng.h"
#include "util.h"

typedef enum {
    ENV_TABULAR_GRID,
    ENV_RANDOM_GRID,
    ENV_CHAIN,
    ENV_MINATAR,
    ENV_PROCEDURAL_GRID,        /* a tabular grid drawn per batch from ranges (env_procgrid.c) */
    ENV_PROCEDURAL_RANDOM_GRID, /* the same draw with random-grid objects and observation */
} EnvKind;
#define ENV_KINDS (ENV_PROCEDURAL_RANDOM_GRID + 1) /* the kinds; env.c has a row for each */

#define ENV_NAME_MAX 64
#define ENV_MAX_TYPES 8     /* object types per grid */
#define ENV_MAX_OBJECTS 16  /* objects per grid */
#define ENV_MAX_SIDE 32     /* grid width and height */
#define ENV_MAX_CELLS (ENV_MAX_SIDE * ENV_MAX_SIDE)

typedef struct {
    double reward;    /* paid when the agent steps on an object of this type */
    double p_end;     /* probability that collecting it ends the episode */
    double p_respawn; /* probability per step that a collected object reappears */
} ObjectType;

/* The ranges a procedural grid draws its layouts from ([lo, hi] each; see env_procgrid.c). */
typedef struct {
    int width[2], height[2];
    int types[2];         /* object types, one object each */
    double reward[2];     /* uniform; the first type's from max(lo, 0) */
    double p_end[2], p_respawn[2]; /* log-uniform */
    int walls[2];         /* wall cells tried */
    int max_steps[2];     /* log-uniform integer */
} EnvProcRanges;

typedef struct {
    EnvKind kind;
    char name[ENV_NAME_MAX]; /* "name" in the file */
    char path[LPG_PATH_MAX]; /* the file it was read from */
    double gamma;            /* discount */
    int max_steps;           /* episode step limit */

    /* What the agent sees and does (filled by env_load). */
    int num_actions;
    int num_states; /* > 0: observation is a state index in [0, num_states) */
    int obs_dim;    /* > 0: observation is a vector of obs_dim reals */
    int obs_planes, obs_height, obs_width; /* > 0: that vector is an image of obs_planes planes of
                                              obs_height x obs_width, plane-major (MinAtar,
                                              random grids); conv agents need one */

    /* Grid worlds. Cells are indexed y * width + x, y = 0 at the top. */
    int width, height;
    int moves;                       /* 4 (compass moves) or 9 (eight directions plus stay);
                                        actions 0-3: up, right, down, left; 4-7: up-right,
                                        down-right, down-left, up-left; 8: stay */
    uint8_t wall[ENV_MAX_CELLS];     /* 1 where a wall stands */
    int start_cell;                  /* agent's start cell; -1: a random free cell per episode */
    int num_types;
    ObjectType type[ENV_MAX_TYPES];
    int num_objects;
    int object_type[ENV_MAX_OBJECTS];
    int object_cell[ENV_MAX_OBJECTS]; /* tabular: fixed cell; random grids: unused (drawn) */

    /* Delayed chain MDP. */
    int length_min, length_max; /* chain length L drawn per lifetime (per EnvBatch) */
    int noisy;                  /* random +1/-1 rewards on the intermediate steps */
    int distraction_bits;       /* > 0: observation is a bit vector with this many random bits */

    /* MinAtar games (env_minatar.h). */
    int game;                   /* MinatarGameId */
    double sticky;              /* probability that a step repeats the previous action */
    int ramping;                /* 1: difficulty ramps up within an episode */

    /* Procedural grids: the ranges. Their num_states or obs_dim fit the largest layout, and
     * max_steps is the largest limit; each batch draws its own layout. */
    EnvProcRanges proc;
} EnvSpec;

typedef struct {
    const EnvSpec *spec; /* what runs: the spec given, or the layout drawn from it */
    int n; /* copies */
    const EnvSpec *family; /* procedural kinds: the spec given (its ranges); else NULL */
    EnvSpec *layout;       /* procedural kinds: the layout drawn for this batch (owned) */
    uint64_t layout_seed;  /* procedural kinds: the seed it was drawn from */

    /* Outputs of the last reset or step, per copy. */
    int32_t *obs_index; /* [n], when spec->num_states > 0 */
    real *obs;          /* [n * obs_dim], when spec->obs_dim > 0 */
    real *reward;       /* [n] */
    uint8_t *done;      /* [n] */

    /* Episode statistics, accumulated by step; callers may zero the two totals. */
    double *running_return; /* [n] return of each copy's current episode so far */
    int64_t episodes_done;
    double returns_done_sum;

    /* Per-copy state (private to the environment code). */
    Rng *rng;               /* [n] */
    int32_t *agent_cell;    /* [n] grids: agent position; chains: position along the chain */
    uint32_t *present;      /* [n] grids: bit j set when object j is present; chains: branch */
    int32_t *object_cell;   /* [n * ENV_MAX_OBJECTS] random grids: where each object lies */
    int32_t *steps;         /* [n] steps taken in the current episode */
    int chain_length;       /* chains: L for this batch (this lifetime) */
    int chain_good_action;  /* chains: which first action leads to +1, drawn per lifetime */
    unsigned char *game_state; /* minatar: [n] per-copy game states (MinatarCopy) */
    size_t game_state_bytes;   /* its size in bytes (0 for other kinds) */

    /* Tables derived from the spec by env_batch_init (private to the environment code). */
    int16_t *move_target;   /* grids: [cells * num_actions] cell reached by each action */
    int8_t *cell_object;    /* grids: object index at each cell or -1; [cells] for tabular grids
                               (fixed places, check `present`), [n * cells] for random grids */
    int16_t *open_cells;    /* grids: the cells that are not walls */
    int num_open_cells;
    int16_t *start_cells;   /* grids: where an episode may start when start_cell < 0 */
    int num_start_cells;
    uint32_t all_objects;   /* grids: mask with one bit per object */
    uint32_t end_always;    /* grids: objects whose collection always ends the episode */
    uint32_t end_sometimes; /* grids: objects with 0 < p_end < 1 */
    uint32_t respawn_always; /* grids: objects that reappear at the first step they are away */
    uint32_t respawn_sometimes; /* grids: objects with 0 < p_respawn < 1 */
    uint32_t end_threshold[ENV_MAX_OBJECTS];     /* rng_u32() below this: collection ends it */
    uint32_t respawn_threshold[ENV_MAX_OBJECTS]; /* rng_u32() below this: it reappears */
    real object_reward[ENV_MAX_OBJECTS];
} EnvBatch;

/* Reads and validates an environment file. Errors name the file and the key. */
int env_load(const char *path, EnvSpec *spec);

/* Allocates n copies and resets them; all randomness comes from seed. A procedural spec first
 * draws the batch's layout from seed (env_draw_layout), and the batch runs that layout. */
int env_batch_init(EnvBatch *batch, const EnvSpec *spec, int n, uint64_t seed);

/* The same, but a procedural spec draws its layout from layout_seed (a level the level sampler
 * chose) and only the copies' randomness from seed; env_batch_init is layout_seed == seed. */
int env_batch_init_layout(EnvBatch *batch, const EnvSpec *spec, int n, uint64_t seed,
                          uint64_t layout_seed);
void env_batch_free(EnvBatch *batch);

/* Takes actions[i] in copy i, for every copy; see the file comment for what it writes. */
void env_batch_step(EnvBatch *batch, const int32_t *actions);

/* Draws the layout of procedural spec `family` for seed into layout: a tabular grid
 * (procedural_grid) or a random grid (procedural_random_grid) with family's name, gamma and
 * padded sizes, every free cell reachable. The same seed gives the same layout. */
void env_draw_layout(const EnvSpec *family, uint64_t seed, EnvSpec *layout);

/* Draws copy i's current state as text (a grid of characters, or the chain), to out. */
void env_render(const EnvBatch *batch, int i, FILE *out);

/* "tabular_grid", "random_grid", "chain", "minatar", "procedural_grid" or
 * "procedural_random_grid". */
const char *env_kind_name(EnvKind kind);

/* A short name for action a of this spec ("up", "stay", ...; chains: "0", "1"). */
const char *env_action_name(const EnvSpec *spec, int action);

#endif
