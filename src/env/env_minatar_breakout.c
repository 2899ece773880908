/* env_minatar_breakout.c: MinAtar Breakout.
 *
 * Channels: paddle, ball, trail, brick. The paddle moves along row 9 (left/right). Bricks fill
 * rows 1-3. The ball starts on row 3, at x = 0 moving down-right or at x = 9 moving down-left
 * (even odds), and moves one diagonal cell per step:
 * - past the left or right wall it stays in the border column and its horizontal direction flips;
 * - above row 0 it stays on row 0 and turns down;
 * - into a brick: the brick breaks (+1), the ball stays on its row and its vertical direction
 *   flips;
 * - onto row 9: if every brick is gone the three rows refill; if the paddle is under the ball's
 *   column the ball turns up (staying on its row); if the paddle is where the ball was going, it
 *   turns up and its horizontal direction flips; otherwise the ball reaches row 9 and the episode
 *   ends.
 * The trail marks where the ball was before the step. No difficulty ramping. */
#include "env_minatar.h"

enum { PADDLE, BALL, TRAIL, BRICK, CHANNELS };

#define BRICK_ROW_FULL 0x3ffu

static void breakout_reset(MinatarCopy *c, Rng *rng)
{
    Breakout *b = &c->g.breakout;
    int from_left = (rng_u32(rng) & 1u) == 0;
    b->paddle = 4;
    b->ball_y = 3;
    b->ball_x = from_left ? 0 : 9;
    b->dx = from_left ? 1 : -1;
    b->dy = 1;
    b->last_x = b->ball_x;
    b->last_y = b->ball_y;
    for (int r = 0; r < 3; r++)
        b->bricks[r] = BRICK_ROW_FULL;
}

static int brick_at(const Breakout *b, int x, int y)
{
    return y >= 1 && y <= 3 && (b->bricks[y - 1] >> x & 1u);
}

static int breakout_step(MinatarCopy *c, int action, int ramping, Rng *rng, int *reward)
{
    Breakout *b = &c->g.breakout;
    if (action == MINATAR_LEFT && b->paddle > 0)
        b->paddle--;
    else if (action == MINATAR_RIGHT && b->paddle < MINATAR_SIDE - 1)
        b->paddle++;
    b->last_x = b->ball_x;
    b->last_y = b->ball_y;
    int x = b->ball_x + b->dx, y = b->ball_y + b->dy;
    if (x < 0 || x >= MINATAR_SIDE) {
        x = x < 0 ? 0 : MINATAR_SIDE - 1;
        b->dx = (int8_t)-b->dx;
    }
    int done = 0;
    if (y < 0) {
        y = 0;
        b->dy = 1;
    } else if (brick_at(b, x, y)) {
        b->bricks[y - 1] &= (uint16_t)~(1u << x);
        *reward += 1;
        b->dy = (int8_t)-b->dy;
        y = b->ball_y;
    } else if (y == MINATAR_SIDE - 1) {
        if ((b->bricks[0] | b->bricks[1] | b->bricks[2]) == 0)
            b->bricks[0] = b->bricks[1] = b->bricks[2] = BRICK_ROW_FULL;
        if (b->paddle == b->ball_x) {
            b->dy = -1;
            y = b->ball_y;
        } else if (b->paddle == x) {
            b->dx = (int8_t)-b->dx;
            b->dy = -1;
            y = b->ball_y;
        } else {
            done = 1;
        }
    }
    b->ball_x = (int8_t)x;
    b->ball_y = (int8_t)y;
    return done;
}

static void breakout_draw(const MinatarCopy *c, uint64_t *frame)
{
    const Breakout *b = &c->g.breakout;
    minatar_light(frame, PADDLE, b->paddle, MINATAR_SIDE - 1);
    minatar_light(frame, BALL, b->ball_x, b->ball_y);
    minatar_light(frame, TRAIL, b->last_x, b->last_y);
    for (int y = 1; y <= 3; y++)
        minatar_light_row(frame, BRICK, y, b->bricks[y - 1]);
}

static void breakout_status(const MinatarCopy *c, FILE *out)
{
    const Breakout *b = &c->g.breakout;
    int bricks = __builtin_popcount(b->bricks[0]) + __builtin_popcount(b->bricks[1]) +
                 __builtin_popcount(b->bricks[2]);
    fprintf(out, "ball (%d, %d) moving (%+d, %+d), paddle %d, %d bricks\n", b->ball_x, b->ball_y,
            b->dx, b->dy, b->paddle, bricks);
}

static void breakout_step_batch(EnvBatch *batch, const int32_t *actions)
{
    minatar_step_batch(batch, actions, breakout_step, breakout_draw, CHANNELS);
}

const MinatarGame minatar_breakout = {
    .name = "breakout",
    .channels = CHANNELS,
    .channel_names = {"paddle", "ball", "trail", "brick"},
    .glyphs = "Po*#",
    .reset = breakout_reset,
    .draw = breakout_draw,
    .status = breakout_status,
    .step_batch = breakout_step_batch,
};
