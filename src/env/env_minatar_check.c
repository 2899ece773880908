/* env_minatar_check.c: checks a MinAtar copy restored from a checkpoint before the games use it
 * (env_state.c calls it). The games index the board and their lane and shot arrays with the
 * values of their state and trust them, so every position must lie on the board, every
 * direction be -1, 0 or +1 as the game allows, every count within its array, and the
 * observation must be exactly what the state draws. */
#include <string.h>

#include "env_minatar.h"

#define SEAQUEST_OXYGEN_MAX 200
#define SEAQUEST_DIVERS_MAX 6
#define TIMER_MAX 1000 /* timers and intervals count down from a few dozen steps at most */

static int on_board(int v) { return v >= 0 && v < MINATAR_SIDE; }
static int is_dir(int d) { return d == -1 || d == 1; }
static int in_range(int v, int lo, int hi) { return v >= lo && v <= hi; }

static const char *check_breakout(const Breakout *b)
{
    if (!on_board(b->paddle) || !on_board(b->ball_x) || !on_board(b->ball_y) ||
        !on_board(b->last_x) || !on_board(b->last_y))
        return "breakout: a position is off the board";
    if (!is_dir(b->dx) || !is_dir(b->dy))
        return "breakout: the ball's direction is not -1 or +1";
    for (int r = 0; r < 3; r++)
        if (b->bricks[r] >> MINATAR_SIDE)
            return "breakout: a brick row has bits beyond the board";
    return NULL;
}

static const char *check_asterix(const Asterix *a)
{
    if (!on_board(a->x) || !in_range(a->y, 1, MINATAR_LANES))
        return "asterix: the player is off the lanes";
    for (int l = 0; l < MINATAR_LANES; l++)
        if (a->lane_dir[l] != 0 && (!is_dir(a->lane_dir[l]) || !on_board(a->lane_x[l]) ||
                                    !in_range(a->lane_gold[l], 0, 1)))
            return "asterix: a lane's entity is invalid";
    if (!in_range(a->spawn_interval, 1, TIMER_MAX) || !in_range(a->move_interval, 1, TIMER_MAX) ||
        !in_range(a->spawn_timer, -TIMER_MAX, TIMER_MAX) ||
        !in_range(a->move_timer, -TIMER_MAX, TIMER_MAX) ||
        !in_range(a->ramp_timer, -TIMER_MAX, TIMER_MAX) || !in_range(a->ramps, 0, 30000))
        return "asterix: a timer or interval is out of range";
    return NULL;
}

static const char *check_freeway(const Freeway *f)
{
    if (!on_board(f->y) || !in_range(f->cooldown, 0, 3) || !in_range(f->time, 0, 2499))
        return "freeway: the chicken, its cooldown or the frame count is out of range";
    for (int l = 0; l < MINATAR_LANES; l++)
        if (!on_board(f->car_x[l]) || !is_dir(f->car_dir[l]) || !in_range(f->car_speed[l], 1, 5) ||
            !in_range(f->car_timer[l], 0, 6))
            return "freeway: a car is invalid";
    return NULL;
}

static const char *check_shots(const Shot *shots, int count, int max, int lo_y, int hi_y)
{
    if (!in_range(count, 0, max))
        return "seaquest: a shot count is out of range";
    for (int k = 0; k < count; k++)
        if (!on_board(shots[k].x) || !in_range(shots[k].y, lo_y, hi_y) || !is_dir(shots[k].dir))
            return "seaquest: a shot is off the board";
    return NULL;
}

static const char *check_seaquest(const Seaquest *s)
{
    if (!on_board(s->x) || !in_range(s->y, 0, MINATAR_LANES) || !is_dir(s->dir) ||
        !in_range(s->surfaced, 0, 1) || !in_range(s->divers, 0, SEAQUEST_DIVERS_MAX) ||
        !in_range(s->shot_timer, 0, TIMER_MAX) || !in_range(s->oxygen, 0, SEAQUEST_OXYGEN_MAX))
        return "seaquest: the sub is invalid";
    for (int l = 0; l < MINATAR_LANES; l++) {
        if (s->enemy_dir[l] != 0 && (!is_dir(s->enemy_dir[l]) || !on_board(s->enemy_x[l]) ||
                                     !in_range(s->enemy_is_sub[l], 0, 1)))
            return "seaquest: an enemy is invalid";
        if (s->diver_dir[l] != 0 && (!is_dir(s->diver_dir[l]) || !on_board(s->diver_x[l])))
            return "seaquest: a diver is invalid";
    }
    const char *why = check_shots(s->shots, s->num_shots, SEAQUEST_MAX_SHOTS, 0, MINATAR_LANES);
    if (!why)
        why = check_shots(s->enemy_shots, s->num_enemy_shots, SEAQUEST_MAX_ENEMY_SHOTS, 1,
                          MINATAR_LANES);
    if (why)
        return why;
    if (!in_range(s->enemy_spawn_interval, 1, TIMER_MAX) ||
        !in_range(s->enemy_move_interval, 1, 127) || !in_range(s->ramps, 0, 30000))
        return "seaquest: an interval is out of range";
    return NULL;
}

static const char *check_space_invaders(const SpaceInvaders *v)
{
    if (!on_board(v->x) || !is_dir(v->alien_dir) || !in_range(v->shot_timer, 0, TIMER_MAX) ||
        !in_range(v->move_interval, 1, TIMER_MAX))
        return "space_invaders: the cannon or the aliens' motion is invalid";
    for (int y = 0; y < MINATAR_SIDE; y++)
        if ((v->aliens[y] | v->shots[y] | v->enemy_shots[y]) >> MINATAR_SIDE)
            return "space_invaders: a row has bits beyond the board";
    return NULL;
}

static const char *check_game(int game, const MinatarCopy *c)
{
    switch (game) {
    case MINATAR_BREAKOUT: return check_breakout(&c->g.breakout);
    case MINATAR_ASTERIX: return check_asterix(&c->g.asterix);
    case MINATAR_FREEWAY: return check_freeway(&c->g.freeway);
    case MINATAR_SEAQUEST: return check_seaquest(&c->g.seaquest);
    case MINATAR_SPACE_INVADERS: return check_space_invaders(&c->g.space_invaders);
    }
    return "unknown game";
}

/* With the state known to be on the board, draws it afresh and compares with the copy's bit
 * rows and with its observation. */
static const char *check_drawing(const EnvBatch *b, int i, const MinatarCopy *c)
{
    const EnvSpec *s = b->spec;
    uint64_t frame[MINATAR_FRAME_WORDS] = {0};
    minatar_game(s->game)->draw(c, frame);
    if (memcmp(frame, c->frame, sizeof c->frame) != 0)
        return "the drawn rows do not match the game state";
    const real *obs = b->obs + (size_t)i * (size_t)s->obs_dim;
    for (int k = 0; k < s->obs_dim; k++) {
        int row = k / MINATAR_SIDE, x = k % MINATAR_SIDE;
        if (obs[k] != (real)(frame[row / 4] >> (row % 4 * 16 + x) & 1u))
            return "the observation does not match the game state";
    }
    return NULL;
}

const char *minatar_check_copy(const EnvBatch *b, int i)
{
    const MinatarCopy *c = minatar_copies(b) + i;
    if (c->last_action < 0 || c->last_action >= b->spec->num_actions)
        return "the sticky action is not an action";
    const char *why = check_game(b->spec->game, c);
    return why ? why : check_drawing(b, i, c);
}
