/* env_minatar_asterix.c: MinAtar Asterix.
 *
 * Channels: player, enemy, trail, gold. The player starts at (5, 5) and moves in the four
 * directions within rows 1-8 (columns 0-9). Each of the 8 lanes (rows 1-8) holds at most one
 * entity. A step:
 * 1. moves the player;
 * 2. counts the move timer down; at 0 it restarts at the move interval (start 5) and every
 *    entity moves one cell, leaving the board past the edge;
 * 3. counts the spawn timer down; at 0 it restarts at the spawn interval (start 10) and an entity
 *    appears in a random empty lane (none if all are full): moving right from x = 0 or left from
 *    x = 9 (even odds), gold with probability 1/3, else an enemy;
 * 4. with ramping, counts the ramp timer down from 100; at 0 it restarts, the spawn interval
 *    drops by 1 (down to 1) and every second ramp the move interval too (down to 1).
 * After steps 1, 2 and 3, an entity on the player's cell is resolved: gold pays +1 and vanishes,
 * an enemy ends the episode. The trail marks the cell behind each entity. */
#include "env_minatar.h"

enum { PLAYER, ENEMY, TRAIL, GOLD, CHANNELS };

#define ASTERIX_SPAWN_INTERVAL 10
#define ASTERIX_MOVE_INTERVAL 5
#define ASTERIX_RAMP_INTERVAL 100

static void asterix_reset(MinatarCopy *c, Rng *rng)
{
    Asterix *a = &c->g.asterix;
    a->x = 5;
    a->y = 5;
    for (int l = 0; l < MINATAR_LANES; l++)
        a->lane_dir[l] = a->lane_x[l] = a->lane_gold[l] = 0;
    a->spawn_interval = a->spawn_timer = ASTERIX_SPAWN_INTERVAL;
    a->move_interval = a->move_timer = ASTERIX_MOVE_INTERVAL;
    a->ramp_timer = ASTERIX_RAMP_INTERVAL;
    a->ramps = 0;
}

/* Resolves the entity on the player's cell; returns 1 if it was an enemy. */
static int asterix_collide(Asterix *a, int *reward)
{
    int lane = a->y - 1;
    if (!a->lane_dir[lane] || a->lane_x[lane] != a->x)
        return 0;
    if (!a->lane_gold[lane])
        return 1;
    *reward += 1;
    a->lane_dir[lane] = 0;
    return 0;
}

static void asterix_spawn(Asterix *a, Rng *rng)
{
    int8_t dir, x;
    int lane = minatar_pick_lane(a->lane_dir, rng, &dir, &x);
    if (lane < 0)
        return;
    a->lane_dir[lane] = dir;
    a->lane_x[lane] = x;
    a->lane_gold[lane] = rng_below(rng, 3) == 0;
}

static void asterix_move_entities(Asterix *a)
{
    for (int l = 0; l < MINATAR_LANES; l++) {
        if (!a->lane_dir[l])
            continue;
        int x = a->lane_x[l] + a->lane_dir[l];
        if (x < 0 || x >= MINATAR_SIDE)
            a->lane_dir[l] = 0;
        else
            a->lane_x[l] = (int8_t)x;
    }
}

static void asterix_ramp(Asterix *a)
{
    if (a->spawn_interval <= 1 && a->move_interval <= 1)
        return;
    if (--a->ramp_timer > 0)
        return;
    a->ramp_timer = ASTERIX_RAMP_INTERVAL;
    if (a->spawn_interval > 1)
        a->spawn_interval--;
    if (a->ramps % 2 == 1 && a->move_interval > 1)
        a->move_interval--;
    a->ramps++;
}

static int asterix_step(MinatarCopy *c, int action, int ramping, Rng *rng, int *reward)
{
    Asterix *a = &c->g.asterix;
    if (action == MINATAR_LEFT && a->x > 0)
        a->x--;
    else if (action == MINATAR_RIGHT && a->x < MINATAR_SIDE - 1)
        a->x++;
    else if (action == MINATAR_UP && a->y > 1)
        a->y--;
    else if (action == MINATAR_DOWN && a->y < MINATAR_LANES)
        a->y++;
    if (asterix_collide(a, reward))
        return 1;
    if (--a->move_timer <= 0) {
        a->move_timer = a->move_interval;
        asterix_move_entities(a);
        if (asterix_collide(a, reward))
            return 1;
    }
    if (--a->spawn_timer <= 0) {
        a->spawn_timer = a->spawn_interval;
        asterix_spawn(a, rng);
        if (asterix_collide(a, reward))
            return 1;
    }
    if (ramping)
        asterix_ramp(a);
    return 0;
}

static void asterix_draw(const MinatarCopy *c, uint64_t *frame)
{
    const Asterix *a = &c->g.asterix;
    minatar_light(frame, PLAYER, a->x, a->y);
    for (int l = 0; l < MINATAR_LANES; l++) { /* without branches: lanes fill at random */
        int present = a->lane_dir[l] != 0, x = a->lane_x[l], behind = x - a->lane_dir[l];
        minatar_light_if(frame, a->lane_gold[l] ? GOLD : ENEMY, x, l + 1, present);
        minatar_light_if(frame, TRAIL, behind, l + 1, present & ((unsigned)behind < MINATAR_SIDE));
    }
}

static void asterix_status(const MinatarCopy *c, FILE *out)
{
    const Asterix *a = &c->g.asterix;
    fprintf(out, "player (%d, %d), spawn every %d (next in %d), move every %d (next in %d), "
            "%d ramps\n", a->x, a->y, a->spawn_interval, a->spawn_timer, a->move_interval,
            a->move_timer, a->ramps);
}

static void asterix_step_batch(EnvBatch *batch, const int32_t *actions)
{
    minatar_step_batch(batch, actions, asterix_step, asterix_draw, CHANNELS);
}

const MinatarGame minatar_asterix = {
    .name = "asterix",
    .channels = CHANNELS,
    .channel_names = {"player", "enemy", "trail", "gold"},
    .glyphs = "AEtG",
    .reset = asterix_reset,
    .draw = asterix_draw,
    .status = asterix_status,
    .step_batch = asterix_step_batch,
};
