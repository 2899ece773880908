/* env_minatar_freeway.c: MinAtar Freeway.
 *
 * Channels: chicken, car, speed1..speed5. The chicken stays in column 4 and starts on row 9.
 * Lane l (row l + 1) holds one car with a speed s in 1..5, which moves one cell every s + 1 frames
 * in its direction and wraps around the edges; at the start of an episode every car is at x = 0,
 * and the speeds and directions are drawn uniformly. (One move every s frames makes the game much
 * harder than the published scores allow: a planner that sees the whole state and plans 80
 * frames ahead scores about 44 per episode with sticky actions there, below the published
 * actor-critic's ~47; with s + 1 it scores about 69.) A step:
 * 1. up/down moves the chicken one row if its cooldown is 0, which then restarts at 3: the chicken
 *    moves at most once every 3 frames;
 * 2. reaching row 0 pays +1, puts the chicken back on row 9 and redraws every car's speed and
 *    direction (positions stay);
 * 3. each car counts its timer down and moves at 0 (the timer restarts at its speed + 1);
 * 4. the cooldown counts down.
 * A car on the chicken's cell (after step 2 or 3) sends the chicken back to row 9. The episode
 * ends after 2500 frames. The trail, in the channel of the car's speed, marks the cell behind
 * the car. No difficulty ramping. */
#include "env_minatar.h"

enum { CHICKEN, CAR, SPEED1, CHANNELS = SPEED1 + 5 }; /* speed1 to speed5 */

#define FREEWAY_COLUMN 4
#define FREEWAY_COOLDOWN 3
#define FREEWAY_FRAMES 2500

/* A column at most one step off the board, wrapped around: -1 is 9 and 10 is 0. */
static int wrap_column(int x)
{
    return x + MINATAR_SIDE * ((x < 0) - (x >= MINATAR_SIDE));
}

static void freeway_new_speeds(Freeway *f, Rng *rng)
{
    for (int l = 0; l < MINATAR_LANES; l++) {
        f->car_speed[l] = (int8_t)(1 + rng_below(rng, 5));
        f->car_dir[l] = (rng_u32(rng) & 1u) ? 1 : -1;
        f->car_timer[l] = (int8_t)(f->car_speed[l] + 1);
    }
}

static void freeway_reset(MinatarCopy *c, Rng *rng)
{
    Freeway *f = &c->g.freeway;
    f->y = MINATAR_SIDE - 1;
    f->cooldown = 0;
    f->time = 0;
    for (int l = 0; l < MINATAR_LANES; l++)
        f->car_x[l] = 0;
    freeway_new_speeds(f, rng);
}

/* Sends the chicken back if a car is on its cell. */
static void freeway_collide(Freeway *f)
{
    unsigned lane = (unsigned)(f->y - 1); /* rows 0 and 9 are no lane */
    int hit = (lane < MINATAR_LANES) & (f->car_x[lane % MINATAR_LANES] == FREEWAY_COLUMN);
    f->y = (int8_t)(hit ? MINATAR_SIDE - 1 : f->y);
}

static int freeway_step(MinatarCopy *c, int action, int ramping, Rng *rng, int *reward)
{
    Freeway *f = &c->g.freeway;
    if ((action == MINATAR_UP || action == MINATAR_DOWN) && f->cooldown == 0) {
        int y = f->y + (action == MINATAR_UP ? -1 : 1);
        if (y <= MINATAR_SIDE - 1)
            f->y = (int8_t)y;
        f->cooldown = FREEWAY_COOLDOWN;
    }
    if (f->y == 0) {
        *reward += 1;
        f->y = MINATAR_SIDE - 1;
        freeway_new_speeds(f, rng);
    }
    freeway_collide(f);
    for (int l = 0; l < MINATAR_LANES; l++) { /* without branches: the timers differ by lane */
        int timer = f->car_timer[l] - 1, move = timer <= 0;
        f->car_timer[l] = (int8_t)(timer + move * (f->car_speed[l] + 1 - timer));
        f->car_x[l] = (int8_t)wrap_column(f->car_x[l] + move * f->car_dir[l]);
    }
    freeway_collide(f);
    if (f->cooldown > 0)
        f->cooldown--;
    return ++f->time >= FREEWAY_FRAMES;
}

static void freeway_draw(const MinatarCopy *c, uint64_t *frame)
{
    const Freeway *f = &c->g.freeway;
    minatar_light(frame, CHICKEN, FREEWAY_COLUMN, f->y);
    for (int l = 0; l < MINATAR_LANES; l++) {
        int behind = wrap_column(f->car_x[l] - f->car_dir[l]);
        minatar_light(frame, CAR, f->car_x[l], l + 1);
        minatar_light(frame, SPEED1 + f->car_speed[l] - 1, behind, l + 1);
    }
}

static void freeway_status(const MinatarCopy *c, FILE *out)
{
    const Freeway *f = &c->g.freeway;
    fprintf(out, "chicken row %d, cooldown %d, frame %d of %d; car speeds", f->y, f->cooldown,
            f->time, FREEWAY_FRAMES);
    for (int l = 0; l < MINATAR_LANES; l++)
        fprintf(out, " %+d", f->car_speed[l] * f->car_dir[l]);
    fputc('\n', out);
}

static void freeway_step_batch(EnvBatch *batch, const int32_t *actions)
{
    minatar_step_batch(batch, actions, freeway_step, freeway_draw, CHANNELS);
}

const MinatarGame minatar_freeway = {
    .name = "freeway",
    .channels = CHANNELS,
    .channel_names = {"chicken", "car", "speed1", "speed2", "speed3", "speed4", "speed5"},
    .glyphs = "CX12345",
    .reset = freeway_reset,
    .draw = freeway_draw,
    .status = freeway_status,
    .step_batch = freeway_step_batch,
};
