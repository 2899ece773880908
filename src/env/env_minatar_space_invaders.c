/* env_minatar_space_invaders.c: MinAtar Space Invaders.
 *
 * Channels: cannon, alien, alien_left, alien_right, friendly_bullet, enemy_bullet. The cannon
 * starts at column 5 of row 9 and moves left/right. A wave is a 4 x 6 block of aliens (rows 0-3,
 * columns 2-7) moving left. A step:
 * 1. moves the cannon; fire, if the shot timer is 0, puts a bullet on the cannon's cell and
 *    restarts the timer at 5;
 * 2. moves the cannon's bullets up one row (gone above row 0); a bullet on an alien removes
 *    both: +1;
 * 3. moves the aliens' bullets down one row (gone below row 9); one on the cannon ends the
 *    episode;
 * 4. counts the alien shot timer down; at 0 it restarts at 10 and the lowest alien of the column
 *    nearest the cannon (the left one on a tie) fires from its cell;
 * 5. counts the alien move timer down; at 0 the block moves one column in its direction, or,
 *    if an alien is in the border column it is heading to, one row down and turns around; the
 *    timer restarts at min(aliens left, move interval) (start 12). Bullets on aliens are resolved
 *    again; an alien on row 9 ends the episode;
 * 6. a cleared wave is replaced by a new one and, with ramping, the move interval drops by 1
 *    (down to 6);
 * 7. the shot timer counts down.
 * alien_left / alien_right mark every alien with the direction the block is moving. */
#include <stdlib.h>

#include "env_minatar.h"

enum { CANNON, ALIEN, ALIEN_LEFT, ALIEN_RIGHT, FRIENDLY_BULLET, ENEMY_BULLET, CHANNELS };

#define INVADERS_WAVE_ROW 0x0fcu /* columns 2-7 */
#define INVADERS_SHOT_COOLDOWN 5
#define INVADERS_ALIEN_SHOT_INTERVAL 10
#define INVADERS_MOVE_INTERVAL 12
#define INVADERS_MIN_MOVE_INTERVAL 6
#define INVADERS_LEFT_COLUMN 0x001u
#define INVADERS_RIGHT_COLUMN 0x200u

/* Set bits in a word (without the compiler's library call on processors it cannot assume have
 * the instruction). */
static int count_bits(uint64_t x)
{
    x -= x >> 1 & 0x5555555555555555ULL;
    x = (x & 0x3333333333333333ULL) + (x >> 2 & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (int)((x * 0x0101010101010101ULL) >> 56);
}

static int count_board(MinatarBoard b)
{
    return count_bits(b.w[0]) + count_bits(b.w[1]) + count_bits(b.w[2]);
}

static int board_empty(MinatarBoard b) { return !(b.w[0] | b.w[1] | b.w[2]); }

static int count_aliens(const SpaceInvaders *v)
{
    return count_board(minatar_board_load(v->aliens));
}

static int min_int(int a, int b) { return a < b ? a : b; }

static void invaders_new_wave(SpaceInvaders *v)
{
    for (int y = 0; y < MINATAR_SIDE; y++)
        v->aliens[y] = y < 4 ? INVADERS_WAVE_ROW : 0;
    v->alien_dir = -1;
    v->alien_move_timer = (int16_t)min_int(count_aliens(v), v->move_interval);
}

static void invaders_reset(MinatarCopy *c, Rng *rng)
{
    SpaceInvaders *v = &c->g.space_invaders;
    *v = (SpaceInvaders){0};
    v->x = 5;
    v->move_interval = INVADERS_MOVE_INTERVAL;
    v->alien_shot_timer = INVADERS_ALIEN_SHOT_INTERVAL;
    invaders_new_wave(v);
}

/* Removes the bullets that sit on aliens, with the aliens: +1 each. */
static void invaders_resolve_shots(SpaceInvaders *v, int *reward)
{
    MinatarBoard shots = minatar_board_load(v->shots), aliens = minatar_board_load(v->aliens);
    MinatarBoard hit;
    for (int k = 0; k < 3; k++)
        hit.w[k] = shots.w[k] & aliens.w[k];
    if (board_empty(hit))
        return;
    *reward += count_board(hit);
    for (int k = 0; k < 3; k++) {
        shots.w[k] &= ~hit.w[k];
        aliens.w[k] &= ~hit.w[k];
    }
    minatar_board_store(v->shots, shots);
    minatar_board_store(v->aliens, aliens);
}

/* Every row takes the one below it (bullets moving up); row 9 empties. */
static void shift_up(uint16_t *rows)
{
    MinatarBoard b = minatar_board_load(rows);
    b.w[0] = b.w[0] >> 16 | b.w[1] << 48;
    b.w[1] = b.w[1] >> 16 | b.w[2] << 48;
    b.w[2] >>= 16;
    minatar_board_store(rows, b);
}

/* Every row takes the one above it (bullets moving down); row 0 empties, row 9's bits leave. */
static void shift_down(uint16_t *rows)
{
    MinatarBoard b = minatar_board_load(rows);
    b.w[2] = (b.w[2] << 16 | b.w[1] >> 48) & 0xffffffffULL;
    b.w[1] = b.w[1] << 16 | b.w[0] >> 48;
    b.w[0] <<= 16;
    minatar_board_store(rows, b);
}

static void invaders_alien_fire(SpaceInvaders *v)
{
    uint16_t columns = 0;
    for (int y = 0; y < MINATAR_SIDE; y++)
        columns |= v->aliens[y];
    if (!columns)
        return;
    int best = -1;
    for (int x = 0; x < MINATAR_SIDE; x++)
        if ((columns >> x & 1u) && (best < 0 || abs(x - v->x) < abs(best - v->x)))
            best = x;
    for (int y = MINATAR_SIDE - 1; y >= 0; y--)
        if (v->aliens[y] >> best & 1u) {
            v->enemy_shots[y] |= (uint16_t)(1u << best);
            return;
        }
}

static void invaders_move_aliens(SpaceInvaders *v)
{
    uint16_t columns = 0;
    for (int y = 0; y < MINATAR_SIDE; y++)
        columns |= v->aliens[y];
    uint16_t edge = v->alien_dir < 0 ? INVADERS_LEFT_COLUMN : INVADERS_RIGHT_COLUMN;
    if (columns & edge) {
        for (int y = MINATAR_SIDE - 1; y > 0; y--)
            v->aliens[y] = v->aliens[y - 1];
        v->aliens[0] = 0;
        v->alien_dir = (int8_t)-v->alien_dir;
    } else {
        for (int y = 0; y < MINATAR_SIDE; y++)
            v->aliens[y] = (uint16_t)(v->alien_dir < 0 ? v->aliens[y] >> 1 : v->aliens[y] << 1);
    }
}

static int invaders_step(MinatarCopy *c, int action, int ramping, Rng *rng, int *reward)
{
    SpaceInvaders *v = &c->g.space_invaders;
    const int bottom = MINATAR_SIDE - 1;
    if (action == MINATAR_LEFT && v->x > 0)
        v->x--;
    else if (action == MINATAR_RIGHT && v->x < bottom)
        v->x++;
    else if (action == MINATAR_FIRE && v->shot_timer == 0) {
        v->shots[bottom] |= (uint16_t)(1u << v->x);
        v->shot_timer = INVADERS_SHOT_COOLDOWN;
    }
    shift_up(v->shots);
    invaders_resolve_shots(v, reward);
    shift_down(v->enemy_shots);
    if (v->enemy_shots[bottom] >> v->x & 1u)
        return 1;
    if (--v->alien_shot_timer <= 0) {
        v->alien_shot_timer = INVADERS_ALIEN_SHOT_INTERVAL;
        invaders_alien_fire(v);
    }
    if (--v->alien_move_timer <= 0) {
        invaders_move_aliens(v);
        invaders_resolve_shots(v, reward);
        v->alien_move_timer = (int16_t)min_int(count_aliens(v), v->move_interval);
        if (v->aliens[bottom])
            return 1;
    }
    if (board_empty(minatar_board_load(v->aliens))) {
        if (ramping && v->move_interval > INVADERS_MIN_MOVE_INTERVAL)
            v->move_interval--;
        invaders_new_wave(v);
    }
    if (v->shot_timer > 0)
        v->shot_timer--;
    return 0;
}

static void invaders_draw(const MinatarCopy *c, uint64_t *frame)
{
    const SpaceInvaders *v = &c->g.space_invaders;
    MinatarBoard aliens = minatar_board_load(v->aliens);
    minatar_light(frame, CANNON, v->x, MINATAR_SIDE - 1);
    minatar_light_board(frame, ALIEN, aliens);
    minatar_light_board(frame, v->alien_dir < 0 ? ALIEN_LEFT : ALIEN_RIGHT, aliens);
    minatar_light_board(frame, FRIENDLY_BULLET, minatar_board_load(v->shots));
    minatar_light_board(frame, ENEMY_BULLET, minatar_board_load(v->enemy_shots));
}

static void invaders_status(const MinatarCopy *c, FILE *out)
{
    const SpaceInvaders *v = &c->g.space_invaders;
    fprintf(out, "cannon %d, %d aliens moving %s (next move in %d, interval %d), alien shot in %d, "
            "shot timer %d\n", v->x, count_aliens(v), v->alien_dir < 0 ? "left" : "right",
            v->alien_move_timer, v->move_interval, v->alien_shot_timer, v->shot_timer);
}

static void invaders_step_batch(EnvBatch *batch, const int32_t *actions)
{
    minatar_step_batch(batch, actions, invaders_step, invaders_draw, CHANNELS);
}

const MinatarGame minatar_space_invaders = {
    .name = "space_invaders",
    .channels = CHANNELS,
    .channel_names = {"cannon", "alien", "alien_left", "alien_right", "friendly_bullet",
                      "enemy_bullet"},
    .glyphs = "AWlr|!",
    .reset = invaders_reset,
    .draw = invaders_draw,
    .status = invaders_status,
    .step_batch = invaders_step_batch,
};
