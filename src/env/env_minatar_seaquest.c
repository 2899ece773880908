/* env_minatar_seaquest.c: MinAtar Seaquest.
 *
 * Channels: sub_front, sub_back, friendly_bullet, trail, enemy_bullet, enemy_fish, enemy_sub,
 * oxygen_gauge, diver_gauge, diver. The sub starts at (5, 0), on the surface, facing right, with
 * 200 oxygen and no divers; it moves within rows 0-8 (row 9 shows the gauges: oxygen * 10 / 200
 * cells of oxygen and one cell per diver on board). Lanes are rows 1-8; each holds at most one
 * enemy and one diver. A step:
 * 1. moves the sub (left/right also turn it); fire shoots a bullet from the sub's cell in its
 *    direction if the shot timer is 0, which then restarts at 5;
 * 2. moves the sub's bullets one cell (gone past the edge); a bullet on an enemy removes both: +1;
 * 3. moves the enemies' bullets one cell; every enemy counts its move timer down and moves one
 *    cell at 0 (restarting at the enemy move interval, start 5; gone past the edge), then bullets
 *    on enemies are resolved again; enemy subs count their shot timer down and fire at 0
 *    (restarting at 10) from their cell;
 * 4. divers count their move timer down and move one cell at 0 (restarting at 5);
 * 5. counts the spawn timers down: at 0 an enemy appears every enemy spawn interval (start 20)
 *    and a diver every 30, in a random lane without one (if any), from x = 0 moving right or
 *    x = 9 moving left (even odds); an enemy is a sub or a fish with even odds;
 * 6. an enemy or enemy bullet on the sub's cell ends the episode; a diver there is picked up if
 *    fewer than 6 are on board;
 * 7. under water oxygen falls by 1 and the episode ends at 0. Arriving at the surface from below:
 *    with no divers the episode ends; with 6 it pays oxygen * 10 / 200 (integer) and all leave;
 *    otherwise one leaves. Oxygen refills and, with ramping, the enemy spawn interval drops by 1
 *    (down to 10) and every second surfacing the enemy move interval too (down to 2);
 * 8. the shot timer counts down.
 * The trail marks the cell behind each enemy and diver. */
#include "env_minatar.h"

enum {
    SUB_FRONT,
    SUB_BACK,
    FRIENDLY_BULLET,
    TRAIL,
    ENEMY_BULLET,
    ENEMY_FISH,
    ENEMY_SUB,
    OXYGEN_GAUGE,
    DIVER_GAUGE,
    DIVER,
    CHANNELS
};

#define SEAQUEST_MAX_OXYGEN 200
#define SEAQUEST_MAX_DIVERS 6
#define SEAQUEST_SHOT_COOLDOWN 5
#define SEAQUEST_ENEMY_SHOT_INTERVAL 10
#define SEAQUEST_ENEMY_SPAWN_INTERVAL 20
#define SEAQUEST_ENEMY_MOVE_INTERVAL 5
#define SEAQUEST_DIVER_SPAWN_INTERVAL 30
#define SEAQUEST_DIVER_MOVE_INTERVAL 5
#define SEAQUEST_MIN_ENEMY_SPAWN_INTERVAL 10
#define SEAQUEST_MIN_ENEMY_MOVE_INTERVAL 2

static void seaquest_reset(MinatarCopy *c, Rng *rng)
{
    Seaquest *s = &c->g.seaquest;
    *s = (Seaquest){0};
    s->x = 5;
    s->dir = 1;
    s->surfaced = 1;
    s->oxygen = SEAQUEST_MAX_OXYGEN;
    s->enemy_spawn_interval = s->enemy_spawn_timer = SEAQUEST_ENEMY_SPAWN_INTERVAL;
    s->enemy_move_interval = SEAQUEST_ENEMY_MOVE_INTERVAL;
    s->diver_spawn_timer = SEAQUEST_DIVER_SPAWN_INTERVAL;
}

static int on_board(int x) { return (unsigned)x < MINATAR_SIDE; }

/* Removes the sub's bullets that sit on an enemy, with the enemy: +1 each. */
static void seaquest_resolve_shots(Seaquest *s, int *reward)
{
    int kept = 0;
    for (int k = 0; k < s->num_shots; k++) {
        Shot shot = s->shots[k];
        int lane = shot.y - 1;
        if (lane >= 0 && s->enemy_dir[lane] && s->enemy_x[lane] == shot.x) {
            s->enemy_dir[lane] = 0;
            *reward += 1;
        } else {
            s->shots[kept++] = shot;
        }
    }
    s->num_shots = (int8_t)kept;
}

/* Moves each shot of a list one cell, dropping those past the edge; returns the new count. */
static int8_t move_shots(Shot *shots, int count)
{
    int kept = 0;
    for (int k = 0; k < count; k++) {
        Shot shot = shots[k];
        shot.x = (int8_t)(shot.x + shot.dir);
        if (on_board(shot.x))
            shots[kept++] = shot;
    }
    return (int8_t)kept;
}

static void seaquest_move_enemies(Seaquest *s)
{
    for (int l = 0; l < MINATAR_LANES; l++) {
        if (!s->enemy_dir[l])
            continue;
        if (--s->enemy_move_timer[l] <= 0) {
            s->enemy_move_timer[l] = (int8_t)s->enemy_move_interval;
            s->enemy_x[l] = (int8_t)(s->enemy_x[l] + s->enemy_dir[l]);
            if (!on_board(s->enemy_x[l])) {
                s->enemy_dir[l] = 0;
                continue;
            }
        }
        if (s->enemy_is_sub[l] && --s->enemy_shot_timer[l] <= 0) {
            s->enemy_shot_timer[l] = SEAQUEST_ENEMY_SHOT_INTERVAL;
            if (s->num_enemy_shots < SEAQUEST_MAX_ENEMY_SHOTS)
                s->enemy_shots[s->num_enemy_shots++] =
                    (Shot){s->enemy_x[l], (int8_t)(l + 1), s->enemy_dir[l]};
        }
    }
}

static void seaquest_move_divers(Seaquest *s)
{
    for (int l = 0; l < MINATAR_LANES; l++) {
        if (!s->diver_dir[l] || --s->diver_move_timer[l] > 0)
            continue;
        s->diver_move_timer[l] = SEAQUEST_DIVER_MOVE_INTERVAL;
        s->diver_x[l] = (int8_t)(s->diver_x[l] + s->diver_dir[l]);
        if (!on_board(s->diver_x[l]))
            s->diver_dir[l] = 0;
    }
}

static void seaquest_spawn(Seaquest *s, Rng *rng)
{
    if (--s->enemy_spawn_timer <= 0) {
        s->enemy_spawn_timer = s->enemy_spawn_interval;
        int8_t dir, x;
        int lane = minatar_pick_lane(s->enemy_dir, rng, &dir, &x);
        if (lane >= 0) {
            s->enemy_dir[lane] = dir;
            s->enemy_x[lane] = x;
            s->enemy_is_sub[lane] = (rng_u32(rng) & 1u) == 0;
            s->enemy_move_timer[lane] = (int8_t)s->enemy_move_interval;
            s->enemy_shot_timer[lane] = SEAQUEST_ENEMY_SHOT_INTERVAL;
        }
    }
    if (--s->diver_spawn_timer <= 0) {
        s->diver_spawn_timer = SEAQUEST_DIVER_SPAWN_INTERVAL;
        int8_t dir, x;
        int lane = minatar_pick_lane(s->diver_dir, rng, &dir, &x);
        if (lane >= 0) {
            s->diver_dir[lane] = dir;
            s->diver_x[lane] = x;
            s->diver_move_timer[lane] = SEAQUEST_DIVER_MOVE_INTERVAL;
        }
    }
}

/* Enemies and their bullets end the episode on the sub's cell; divers are picked up. */
static int seaquest_collide(Seaquest *s)
{
    int lane = s->y - 1;
    if (lane < 0)
        return 0;
    if (s->enemy_dir[lane] && s->enemy_x[lane] == s->x)
        return 1;
    for (int k = 0; k < s->num_enemy_shots; k++)
        if (s->enemy_shots[k].x == s->x && s->enemy_shots[k].y == s->y)
            return 1;
    if (s->diver_dir[lane] && s->diver_x[lane] == s->x && s->divers < SEAQUEST_MAX_DIVERS) {
        s->diver_dir[lane] = 0;
        s->divers++;
    }
    return 0;
}

static void seaquest_ramp(Seaquest *s)
{
    if (s->enemy_spawn_interval > SEAQUEST_MIN_ENEMY_SPAWN_INTERVAL)
        s->enemy_spawn_interval--;
    if (s->ramps % 2 == 1 && s->enemy_move_interval > SEAQUEST_MIN_ENEMY_MOVE_INTERVAL)
        s->enemy_move_interval--;
    s->ramps++;
}

/* Oxygen and surfacing; returns 1 when the episode ends. */
static int seaquest_breathe(Seaquest *s, int ramping, int *reward)
{
    if (s->y > 0) {
        s->surfaced = 0;
        return --s->oxygen <= 0;
    }
    if (s->surfaced)
        return 0;
    s->surfaced = 1;
    if (s->divers == 0)
        return 1;
    if (s->divers == SEAQUEST_MAX_DIVERS) {
        *reward += s->oxygen * 10 / SEAQUEST_MAX_OXYGEN;
        s->divers = 0;
    } else {
        s->divers--;
    }
    s->oxygen = SEAQUEST_MAX_OXYGEN;
    if (ramping)
        seaquest_ramp(s);
    return 0;
}

static void seaquest_move_sub(Seaquest *s, int action)
{
    if (action == MINATAR_LEFT) {
        s->dir = -1;
        if (s->x > 0)
            s->x--;
    } else if (action == MINATAR_RIGHT) {
        s->dir = 1;
        if (s->x < MINATAR_SIDE - 1)
            s->x++;
    } else if (action == MINATAR_UP && s->y > 0) {
        s->y--;
    } else if (action == MINATAR_DOWN && s->y < MINATAR_LANES) {
        s->y++;
    } else if (action == MINATAR_FIRE && s->shot_timer == 0 &&
               s->num_shots < SEAQUEST_MAX_SHOTS) {
        s->shots[s->num_shots++] = (Shot){s->x, s->y, s->dir};
        s->shot_timer = SEAQUEST_SHOT_COOLDOWN;
    }
}

static int seaquest_step(MinatarCopy *c, int action, int ramping, Rng *rng, int *reward)
{
    Seaquest *s = &c->g.seaquest;
    seaquest_move_sub(s, action);
    s->num_shots = move_shots(s->shots, s->num_shots);
    seaquest_resolve_shots(s, reward);
    s->num_enemy_shots = move_shots(s->enemy_shots, s->num_enemy_shots);
    seaquest_move_enemies(s);
    seaquest_resolve_shots(s, reward);
    seaquest_move_divers(s);
    seaquest_spawn(s, rng);
    if (seaquest_collide(s) || seaquest_breathe(s, ramping, reward))
        return 1;
    if (s->shot_timer > 0)
        s->shot_timer--;
    return 0;
}

static void seaquest_draw(const MinatarCopy *c, uint64_t *frame)
{
    const Seaquest *s = &c->g.seaquest;
    minatar_light(frame, SUB_FRONT, s->x, s->y);
    minatar_light_if(frame, SUB_BACK, s->x - s->dir, s->y, on_board(s->x - s->dir));
    for (int k = 0; k < s->num_shots; k++)
        minatar_light(frame, FRIENDLY_BULLET, s->shots[k].x, s->shots[k].y);
    for (int k = 0; k < s->num_enemy_shots; k++)
        minatar_light(frame, ENEMY_BULLET, s->enemy_shots[k].x, s->enemy_shots[k].y);
    for (int l = 0; l < MINATAR_LANES; l++) {
        if (s->enemy_dir[l]) {
            int x = s->enemy_x[l];
            minatar_light(frame, s->enemy_is_sub[l] ? ENEMY_SUB : ENEMY_FISH, x, l + 1);
            if (on_board(x - s->enemy_dir[l]))
                minatar_light(frame, TRAIL, x - s->enemy_dir[l], l + 1);
        }
        if (s->diver_dir[l]) {
            int x = s->diver_x[l];
            minatar_light(frame, DIVER, x, l + 1);
            if (on_board(x - s->diver_dir[l]))
                minatar_light(frame, TRAIL, x - s->diver_dir[l], l + 1);
        }
    }
    minatar_light_row(frame, OXYGEN_GAUGE, MINATAR_SIDE - 1,
                      (1u << (s->oxygen * 10 / SEAQUEST_MAX_OXYGEN)) - 1);
    minatar_light_row(frame, DIVER_GAUGE, MINATAR_SIDE - 1, (1u << s->divers) - 1);
}

static void seaquest_status(const MinatarCopy *c, FILE *out)
{
    const Seaquest *s = &c->g.seaquest;
    fprintf(out, "sub (%d, %d) facing %s, oxygen %d, divers %d, enemy spawn every %d, move every "
            "%d\n", s->x, s->y, s->dir > 0 ? "right" : "left", s->oxygen, s->divers,
            s->enemy_spawn_interval, s->enemy_move_interval);
}

static void seaquest_step_batch(EnvBatch *batch, const int32_t *actions)
{
    minatar_step_batch(batch, actions, seaquest_step, seaquest_draw, CHANNELS);
}

const MinatarGame minatar_seaquest = {
    .name = "seaquest",
    .channels = CHANNELS,
    .channel_names = {"sub_front", "sub_back", "friendly_bullet", "trail", "enemy_bullet",
                      "enemy_fish", "enemy_sub", "oxygen_gauge", "diver_gauge", "diver"},
    .glyphs = "Sb-~=FEOdD",
    .reset = seaquest_reset,
    .draw = seaquest_draw,
    .status = seaquest_status,
    .step_batch = seaquest_step_batch,
};
