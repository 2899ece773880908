/* env_minatar.h: the five MinAtar games (Breakout, Asterix, Freeway, Seaquest, Space Invaders),
 * written from their published rules, behind the batched interface of env.h.
 *
 * Board: 10 x 10 cells, x = column 0..9 left to right, y = row 0..9 top to bottom. The
 * observation is one binary plane per object kind (the game's channels), channel-major:
 * element channel * 100 + y * 10 + x, obs_dim = 100 * channels.
 *
 * Actions (all six in every game; a game ignores the ones it has no use for):
 *   0 no-op, 1 left, 2 up, 3 right, 4 down, 5 fire.
 * Sticky actions: with probability `sticky` (default 0.1) a step repeats the action actually
 * taken at the previous step instead of the agent's (no-op at the start of an episode).
 *
 * Private to the environment code and its tests: everyone else goes through env.h. */
#ifndef LPG_ENV_MINATAR_H
#define LPG_ENV_MINATAR_H

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "env.h"
#include "env_kinds.h"

#define MINATAR_SIDE 10
#define MINATAR_CELLS 100
#define MINATAR_LANES 8       /* rows 1..8 carry the lanes of Asterix, Freeway, Seaquest */
#define MINATAR_MAX_CHANNELS 10  /* 100 rows of bits: a whole number of 64-bit words */
#define SEAQUEST_MAX_SHOTS 4
#define SEAQUEST_MAX_ENEMY_SHOTS 16

enum { MINATAR_NOOP, MINATAR_LEFT, MINATAR_UP, MINATAR_RIGHT, MINATAR_DOWN, MINATAR_FIRE,
       MINATAR_NUM_ACTIONS };

typedef enum {
    MINATAR_BREAKOUT,
    MINATAR_ASTERIX,
    MINATAR_FREEWAY,
    MINATAR_SEAQUEST,
    MINATAR_SPACE_INVADERS,
    MINATAR_NUM_GAMES
} MinatarGameId;

typedef struct {
    int8_t paddle;             /* paddle column, row 9 */
    int8_t ball_x, ball_y;
    int8_t dx, dy;             /* ball direction, each +1 or -1 */
    int8_t last_x, last_y;     /* where the ball was before this step (the trail) */
    uint16_t bricks[3];        /* rows 1..3, bit x set while the brick stands */
} Breakout;

typedef struct {
    int8_t x, y;                    /* player */
    int8_t lane_dir[MINATAR_LANES]; /* entity in lane (row lane + 1) moving -1/+1; 0: none */
    int8_t lane_x[MINATAR_LANES];
    int8_t lane_gold[MINATAR_LANES];
    int16_t spawn_interval, spawn_timer;
    int16_t move_interval, move_timer;
    int16_t ramp_timer, ramps;
} Asterix;

typedef struct {
    int8_t y;                      /* chicken row; its column is 4 */
    int8_t cooldown;               /* frames until the chicken may move again */
    int8_t car_x[MINATAR_LANES];
    int8_t car_dir[MINATAR_LANES]; /* -1 or +1 */
    int8_t car_speed[MINATAR_LANES]; /* 1..5: moves one cell every car_speed + 1 frames */
    int8_t car_timer[MINATAR_LANES];
    int16_t time;                  /* frames played */
} Freeway;

typedef struct {
    int8_t x, y, dir;
} Shot;

typedef struct {
    int8_t x, y, dir;              /* sub (its front cell), facing -1 or +1 */
    int8_t surfaced;               /* 1 while at row 0 since the last dive */
    int8_t divers;                 /* rescued divers on board, 0..6 */
    int8_t shot_timer;             /* steps until the sub may fire again */
    int16_t oxygen;
    int8_t enemy_dir[MINATAR_LANES];  /* 0: no enemy in the lane */
    int8_t enemy_x[MINATAR_LANES];
    int8_t enemy_is_sub[MINATAR_LANES];
    int8_t enemy_move_timer[MINATAR_LANES];
    int8_t enemy_shot_timer[MINATAR_LANES];
    int8_t diver_dir[MINATAR_LANES];  /* 0: no diver in the lane */
    int8_t diver_x[MINATAR_LANES];
    int8_t diver_move_timer[MINATAR_LANES];
    int8_t num_shots, num_enemy_shots;
    Shot shots[SEAQUEST_MAX_SHOTS];
    Shot enemy_shots[SEAQUEST_MAX_ENEMY_SHOTS];
    int16_t enemy_spawn_timer, enemy_spawn_interval, enemy_move_interval;
    int16_t diver_spawn_timer, ramps;
} Seaquest;

typedef struct {
    int8_t x;                  /* cannon column, row 9 */
    int8_t shot_timer;
    int8_t alien_dir;          /* -1 or +1 */
    int16_t alien_move_timer, move_interval, alien_shot_timer;
    uint16_t aliens[MINATAR_SIDE];      /* bit x of row y */
    uint16_t shots[MINATAR_SIDE];       /* the cannon's bullets, moving up */
    uint16_t enemy_shots[MINATAR_SIDE]; /* the aliens' bullets, moving down */
} SpaceInvaders;

/* One copy's whole state: the game, the sticky action, and the observation as bit rows (so that
 * a step writes only the observation cells that changed, not the whole plane stack). */
typedef struct {
    union {
        Breakout breakout;
        Asterix asterix;
        Freeway freeway;
        Seaquest seaquest;
        SpaceInvaders space_invaders;
    } g;
    int32_t last_action;
    uint16_t frame[MINATAR_MAX_CHANNELS * MINATAR_SIDE]; /* bit x of channel * 10 + y */
} MinatarCopy;

/* A game: its channels, three functions on one copy and its batched step. draw sets the bits of
 * the copy's objects in a zeroed frame of MINATAR_FRAME_WORDS words (see minatar_light);
 * step_batch is minatar_step_batch with the game's own step and draw. */
typedef struct {
    const char *name;
    int channels;
    const char *channel_names[MINATAR_MAX_CHANNELS];
    const char *glyphs; /* one character per channel for text rendering */
    void (*reset)(MinatarCopy *c, Rng *rng);
    void (*draw)(const MinatarCopy *c, uint64_t *frame);
    void (*status)(const MinatarCopy *c, FILE *out);
    void (*step_batch)(EnvBatch *batch, const int32_t *actions);
} MinatarGame;

extern const MinatarGame minatar_breakout, minatar_asterix, minatar_freeway, minatar_seaquest,
    minatar_space_invaders;

/* The game of id. */
const MinatarGame *minatar_game(int id);

/* A frame being drawn holds the bit rows four to a 64-bit word: row r = channel * 10 + y is bits
 * 16 * (r % 4) + x of word r / 4, so on a little-endian host (which lpg requires) the words are
 * MinatarCopy.frame byte for byte. Drawing into whole words, not into the uint16 rows, lets the
 * comparison with the previous frame read back what was just written at the size it was written
 * (a wide load over narrow stores stalls the processor). */
#define MINATAR_FRAME_WORDS (MINATAR_MAX_CHANNELS * MINATAR_SIDE / 4)
_Static_assert(MINATAR_FRAME_WORDS <= 32, "minatar_update_obs keeps one bit per frame word");

/* Sets cell (x, y) of channel in a frame. */
static inline void minatar_light(uint64_t *frame, int channel, int x, int y)
{
    unsigned row = (unsigned)(channel * MINATAR_SIDE + y);
    frame[row / 4] |= (uint64_t)1 << (row % 4 * 16 + (unsigned)x);
}

/* Sets cell (x, y) of channel if on is 1 (on is 0 or 1), without a branch: x may then lie off
 * the board, one column either side. */
static inline void minatar_light_if(uint64_t *frame, int channel, int x, int y, int on)
{
    unsigned row = (unsigned)(channel * MINATAR_SIDE + y);
    frame[row / 4] |= (uint64_t)(unsigned)on << (row % 4 * 16 + ((unsigned)x & 15u));
}

/* Sets the cells of row y of channel whose bits are set in bits (bit x: column x). */
static inline void minatar_light_row(uint64_t *frame, int channel, int y, unsigned bits)
{
    unsigned row = (unsigned)(channel * MINATAR_SIDE + y);
    frame[row / 4] |= (uint64_t)bits << (row % 4 * 16);
}

/* A game's board of ten bit rows (uint16_t rows[10], bit x of rows[y]) as three words: rows 0-3,
 * 4-7 and 8-9, as they lie in memory on a little-endian host; a whole-board operation is then a
 * few word operations instead of a loop over rows. */
typedef struct {
    uint64_t w[3];
} MinatarBoard;

static inline MinatarBoard minatar_board_load(const uint16_t *rows)
{
    MinatarBoard b;
    uint32_t last; /* rows 8-9: read at the width they are stored, not as part of a wider word */
    memcpy(&b.w[0], rows, sizeof b.w[0]);
    memcpy(&b.w[1], rows + 4, sizeof b.w[1]);
    memcpy(&last, rows + 8, sizeof last);
    b.w[2] = last;
    return b;
}

static inline void minatar_board_store(uint16_t *rows, MinatarBoard b)
{
    uint32_t last = (uint32_t)b.w[2];
    memcpy(rows, &b.w[0], sizeof b.w[0]);
    memcpy(rows + 4, &b.w[1], sizeof b.w[1]);
    memcpy(rows + 8, &last, sizeof last);
}

/* Sets the cells of channel that are set on the board b. */
static inline void minatar_light_board(uint64_t *frame, int channel, MinatarBoard b)
{
    unsigned first = (unsigned)(channel * MINATAR_SIDE), k = first / 4; /* first % 4 is 0 or 2 */
    if (first % 4 == 0) {
        frame[k] |= b.w[0];
        frame[k + 1] |= b.w[1];
        frame[k + 2] |= b.w[2];
    } else {
        frame[k] |= b.w[0] << 32;
        frame[k + 1] |= b.w[0] >> 32 | b.w[1] << 32;
        frame[k + 2] |= b.w[1] >> 32 | b.w[2] << 32;
    }
}

/* The copies of a batch (batch->game_state). */
static inline MinatarCopy *minatar_copies(const EnvBatch *batch)
{
    return (MinatarCopy *)batch->game_state;
}

/* A random lane whose entry in lane_dir is 0 (empty), or -1 if none; then a side to enter from:
 * *dir = +1 from *x = 0 or *dir = -1 from *x = 9, even odds. */
int minatar_pick_lane(const int8_t *lane_dir, Rng *rng, int8_t *dir, int8_t *x);

/* Redraws copy i's observation from its state. */
void minatar_redraw(EnvBatch *batch, int i);

/* Starts a new episode in copy i (env_kinds.h). */
void minatar_reset_copy(EnvBatch *batch, int i);

/* Brings a copy's observation obs (rows bit rows of ten reals) and its bit rows c->frame up to
 * date with frame, a new drawing of its state, and zeroes frame for the next drawing: only the
 * cells whose bit changed are written. */
static inline void minatar_update_obs(MinatarCopy *c, real *obs, uint64_t *frame, int rows)
{
    int words = (rows + 3) / 4; /* rows past the last are zero in both frames: never written */
    uint32_t changed = 0;       /* bit k: word k changed */
    for (int k = words - 1; k >= 0; k--) { /* frame becomes what changed: zero where nothing did */
        uint64_t old, now = frame[k];
        memcpy(&old, c->frame + 4 * k, sizeof old);
        memcpy(c->frame + 4 * k, &now, sizeof now);
        frame[k] = old ^ now;
        changed = changed * 2 + (old != now);
    }
    while (changed) {
        unsigned k = (unsigned)__builtin_ctz(changed);
        changed &= changed - 1;
        uint64_t now;
        memcpy(&now, c->frame + 4 * k, sizeof now);
        real *cells = obs + 4 * MINATAR_SIDE * k; /* bit b is cell b - 6 * (b / 16) */
        for (uint64_t d = frame[k]; d; d &= d - 1) {
            unsigned bit = (unsigned)__builtin_ctzll(d);
            cells[bit - bit / 16 * 6] = (real)(unsigned)(now >> bit & 1u);
        }
        frame[k] = 0;
    }
}

/* One step of every copy of a batch of the game whose step, draw and channel count are given:
 * the sticky action, the game's step, the episode bookkeeping, then a reset or the update of the
 * observation. The game's step applies one (already sticky) action to a copy, adds what it pays
 * to *reward and returns 1 when the episode ends; ramping = 0 keeps the difficulty at its start.
 * Each game instantiates this with its own functions (its step_batch), so that the compiler calls
 * them directly and knows the frame's size. */
static inline void minatar_step_batch(EnvBatch *batch, const int32_t *actions,
                                      int (*step)(MinatarCopy *, int, int, Rng *, int *),
                                      void (*draw)(const MinatarCopy *, uint64_t *), int channels)
{
    const EnvSpec *spec = batch->spec;
    const uint64_t sticky = (uint64_t)(spec->sticky * 4294967296.0);
    const int ramping = spec->ramping, max_steps = spec->max_steps;
    MinatarCopy *copies = minatar_copies(batch);
    uint64_t frame[MINATAR_FRAME_WORDS] = {0}; /* zeroed again by each update */
    for (int i = 0; i < batch->n; i++) {
        MinatarCopy *c = copies + i;
        Rng rng = batch->rng[i];
        int action = actions[i];
        assert(action >= 0 && action < MINATAR_NUM_ACTIONS);
        if ((uint64_t)rng_u32(&rng) < sticky)
            action = c->last_action;
        c->last_action = action;
        int reward = 0;
        int done = step(c, action, ramping, &rng, &reward);
        if (++batch->steps[i] >= max_steps)
            done = 1;
        batch->rng[i].state = rng.state; /* all that changes; a whole-struct copy would read
                                           * back a store only half written a moment ago */
        if (env_record_step(batch, i, (real)reward, done)) {
            minatar_reset_copy(batch, i);
            continue;
        }
        draw(c, frame);
        minatar_update_obs(c, batch->obs + (size_t)i * (size_t)spec->obs_dim, frame,
                           channels * MINATAR_SIDE);
    }
}

/* NULL when copy i (restored from a checkpoint) is a state the game can reach: positions on the
 * board, directions and counts in range, observation and lit cells as the state draws them;
 * otherwise what is wrong (env_minatar_check.c). */
const char *minatar_check_copy(const EnvBatch *batch, int i);

#endif
