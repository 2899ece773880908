/* test_env_minatar.c: the five MinAtar games stepped from scripted states with scripted actions:
 * exact positions, rewards, ends and timers; sticky actions; the observation planes (the
 * incremental drawing equals a full redraw); determinism; checkpoint round trips; file errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "env.h"
#include "env_state.h"
#include "../src/env/env_minatar.h"
#include "test.h"

enum { NOOP, LEFT, UP, RIGHT, DOWN, FIRE };

static const char *const game_names[MINATAR_NUM_GAMES] = {"breakout", "asterix", "freeway",
                                                          "seaquest", "space_invaders"};

/* Writes a MinAtar file for game to build/ and loads it. */
static int load_game(const char *game, double sticky, int ramping, EnvSpec *spec)
{
    const char *path = "build/test_env_minatar.json";
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "{\"name\": \"m\", \"kind\": \"minatar\", \"game\": \"%s\", \"gamma\": 0.99,"
               " \"max_steps\": 100000, \"sticky\": %g, \"ramping\": %s}", game, sticky,
            ramping ? "true" : "false");
    fclose(f);
    return env_load(path, spec);
}

/* A one-copy batch of game without sticky actions; returns its state, or NULL. */
static MinatarCopy *start(const char *game, int ramping, EnvSpec *spec, EnvBatch *b)
{
    if (load_game(game, 0.0, ramping, spec) || env_batch_init(b, spec, 1, 5))
        return NULL;
    return minatar_copies(b);
}

/* Declares spec, b and c (the copy of a fresh one-copy batch of game); a test without them
 * fails and returns. */
#define START_GAME(game, ramping)                                                                \
    EnvSpec spec;                                                                                \
    EnvBatch b;                                                                                  \
    MinatarCopy *c = start(game, ramping, &spec, &b);                                            \
    if (!c) {                                                                                    \
        CHECK(0);                                                                                \
        return;                                                                                  \
    }

static void step1(EnvBatch *b, int action)
{
    int32_t a = action;
    env_batch_step(b, &a);
}

/* Observation element of channel at (x, y) in copy 0. */
static real cell(const EnvBatch *b, int channel, int x, int y)
{
    return b->obs[channel * MINATAR_CELLS + y * MINATAR_SIDE + x];
}

static int count_channel(const EnvBatch *b, int channel)
{
    int count = 0;
    for (int k = 0; k < MINATAR_CELLS; k++)
        count += b->obs[channel * MINATAR_CELLS + k] > 0;
    return count;
}

TEST(minatar_files_load_with_their_sizes)
{
    const int channels[MINATAR_NUM_GAMES] = {4, 4, 7, 10, 6};
    for (int g = 0; g < MINATAR_NUM_GAMES; g++) {
        char path[128];
        snprintf(path, sizeof path, "configs/envs/minatar/%s.json", game_names[g]);
        EnvSpec spec;
        CHECK_INT(env_load(path, &spec), 0);
        CHECK_INT(spec.kind, ENV_MINATAR);
        CHECK_INT(spec.game, g);
        CHECK_INT(spec.num_actions, 6);
        CHECK_INT(spec.num_states, 0);
        CHECK_INT(spec.obs_dim, 100 * channels[g]);
        CHECK_NEAR(spec.sticky, 0.1, 0);
        CHECK_INT(spec.ramping, 1);
    }
}

TEST(minatar_bad_files_name_the_key)
{
    EnvSpec spec;
    CHECK(load_game("pong", 0.1, 1, &spec) != 0);
    CHECK(load_game("breakout", 1.5, 1, &spec) != 0);
}

TEST(breakout_brick_breaks_and_scores)
{
    START_GAME("breakout", 1);
    Breakout *g = &c->g.breakout;
    CHECK_INT(g->ball_y, 3);
    CHECK(g->ball_x == 0 || g->ball_x == 9);
    CHECK_INT(g->dy, 1);
    CHECK_INT(g->dx, g->ball_x == 0 ? 1 : -1);
    CHECK_INT(count_channel(&b, 3), 30);
    g->ball_x = 5, g->ball_y = 4, g->dx = 1, g->dy = -1;
    step1(&b, NOOP); /* into the brick at (6, 3): it breaks, the ball stays on row 4, turns down */
    CHECK_NEAR(b.reward[0], 1, 0);
    CHECK_INT(b.done[0], 0);
    CHECK_INT(g->ball_x, 6);
    CHECK_INT(g->ball_y, 4);
    CHECK_INT(g->dy, 1);
    CHECK_INT(g->bricks[2], 0x3ff & ~(1 << 6));
    CHECK_NEAR(cell(&b, 3, 6, 3), 0, 0);
    CHECK_INT(count_channel(&b, 3), 29);
    CHECK_NEAR(cell(&b, 1, 6, 4), 1, 0);
    CHECK_NEAR(cell(&b, 2, 5, 4), 1, 0); /* trail: where the ball was */
    step1(&b, NOOP);
    CHECK_NEAR(b.reward[0], 0, 0);
    CHECK_INT(g->ball_x, 7);
    CHECK_INT(g->ball_y, 5);
    env_batch_free(&b);
}

TEST(breakout_walls_and_ceiling_reflect)
{
    START_GAME("breakout", 1);
    Breakout *g = &c->g.breakout;
    g->ball_x = 0, g->ball_y = 5, g->dx = -1, g->dy = 1;
    step1(&b, NOOP); /* the left wall: stays in column 0, turns right */
    CHECK_INT(g->ball_x, 0);
    CHECK_INT(g->ball_y, 6);
    CHECK_INT(g->dx, 1);
    g->bricks[0] = 0;
    g->ball_x = 4, g->ball_y = 0, g->dx = 1, g->dy = -1;
    step1(&b, NOOP); /* the ceiling: stays on row 0, turns down */
    CHECK_INT(g->ball_x, 5);
    CHECK_INT(g->ball_y, 0);
    CHECK_INT(g->dy, 1);
    env_batch_free(&b);
}

TEST(breakout_paddle_bounces_and_a_miss_ends)
{
    START_GAME("breakout", 1);
    Breakout *g = &c->g.breakout;
    g->ball_x = 3, g->ball_y = 8, g->dx = 1, g->dy = 1, g->paddle = 3;
    step1(&b, NOOP); /* paddle under the ball: turns up, keeps going right */
    CHECK_INT(b.done[0], 0);
    CHECK_INT(g->ball_x, 4);
    CHECK_INT(g->ball_y, 8);
    CHECK_INT(g->dx, 1);
    CHECK_INT(g->dy, -1);
    g->ball_x = 3, g->ball_y = 8, g->dx = 1, g->dy = 1, g->paddle = 5;
    step1(&b, LEFT); /* the paddle moves to 4, where the ball goes: turns up and left */
    CHECK_INT(g->paddle, 4);
    CHECK_INT(g->ball_x, 4);
    CHECK_INT(g->ball_y, 8);
    CHECK_INT(g->dx, -1);
    CHECK_INT(g->dy, -1);
    g->bricks[0] = g->bricks[1] = g->bricks[2] = 0;
    g->ball_x = 6, g->ball_y = 8, g->dx = 1, g->dy = 1, g->paddle = 6;
    step1(&b, NOOP); /* an empty wall refills when the ball comes down */
    CHECK_INT(g->bricks[0], 0x3ff);
    CHECK_INT(g->bricks[2], 0x3ff);
    CHECK_INT(count_channel(&b, 3), 30);
    g->ball_x = 6, g->ball_y = 8, g->dx = 1, g->dy = 1, g->paddle = 1;
    step1(&b, NOOP); /* missed: the episode ends and a new one starts */
    CHECK_INT(b.done[0], 1);
    CHECK_NEAR(b.reward[0], 0, 0);
    CHECK_INT(b.episodes_done, 1);
    CHECK_INT(g->ball_y, 3);
    CHECK_INT(g->paddle, 4);
    env_batch_free(&b);
}

TEST(minatar_sticky_action_repeats_the_previous_one)
{
    EnvSpec spec;
    EnvBatch b;
    if (load_game("breakout", 1.0, 1, &spec) || env_batch_init(&b, &spec, 1, 5)) {
        CHECK(0);
        return;
    }
    MinatarCopy *c = minatar_copies(&b);
    step1(&b, LEFT); /* sticky 1: the no-op of the episode start repeats */
    CHECK_INT(c->g.breakout.paddle, 4);
    c->last_action = RIGHT;
    step1(&b, LEFT);
    step1(&b, LEFT);
    CHECK_INT(c->g.breakout.paddle, 6);
    CHECK_INT(c->last_action, RIGHT);
    env_batch_free(&b);

    /* p = 0.1, alternating requests: a repeat shows as the taken action differing (Freeway:
     * long episodes; a reset makes the no-op the previous action). */
    if (load_game("freeway", 0.1, 1, &spec) || env_batch_init(&b, &spec, 1, 9)) {
        CHECK(0);
        return;
    }
    c = minatar_copies(&b);
    int differ = 0, steps = 20000;
    for (int t = 0; t < steps; t++) {
        int action = t % 2 ? UP : DOWN;
        step1(&b, action);
        differ += !b.done[0] && c->last_action != action;
    }
    /* P(differ) = 0.1 * (1 - P(the previous step differed)) = 1/11 in the long run */
    CHECK_NEAR((double)differ / steps, 1.0 / 11.0, 0.006);
    env_batch_free(&b);
}

/* Asterix with every lane emptied and the spawn held back. */
static void asterix_clear(Asterix *g)
{
    for (int l = 0; l < MINATAR_LANES; l++)
        g->lane_dir[l] = 0;
    g->spawn_timer = 1000;
}

TEST(asterix_gold_scores_and_an_enemy_ends)
{
    START_GAME("asterix", 1);
    Asterix *g = &c->g.asterix;
    CHECK_INT(g->x, 5);
    CHECK_INT(g->y, 5);
    asterix_clear(g);
    g->lane_dir[4] = 1, g->lane_x[4] = 4, g->lane_gold[4] = 1, g->move_timer = 1;
    step1(&b, NOOP); /* the gold moves onto the player */
    CHECK_NEAR(b.reward[0], 1, 0);
    CHECK_INT(g->lane_dir[4], 0);
    CHECK_INT(g->move_timer, 5);
    step1(&b, UP);
    step1(&b, UP);
    step1(&b, UP);
    step1(&b, UP);
    CHECK_INT(g->y, 1);
    step1(&b, UP); /* row 0 is out of bounds */
    CHECK_INT(g->y, 1);
    g->lane_dir[0] = -1, g->lane_x[0] = 4, g->lane_gold[0] = 0;
    CHECK_INT(b.episodes_done, 0);
    step1(&b, LEFT); /* the player walks into an enemy */
    CHECK_INT(b.done[0], 1);
    CHECK_INT(b.episodes_done, 1);
    CHECK_NEAR(b.running_return[0], 0, 0);
    CHECK_NEAR(b.returns_done_sum, 1, 0);
    CHECK_INT(g->x, 5);
    CHECK_INT(g->y, 5);
    env_batch_free(&b);
}

TEST(asterix_spawns_every_interval_with_a_trail)
{
    START_GAME("asterix", 1);
    Asterix *g = &c->g.asterix;
    int entities = 0;
    for (int t = 1; t <= 10; t++) {
        step1(&b, NOOP);
        entities = 0;
        for (int l = 0; l < MINATAR_LANES; l++)
            entities += g->lane_dir[l] != 0;
        if (t < 10)
            CHECK_INT(entities, 0);
    }
    CHECK_INT(entities, 1); /* the 10th step spawns, after the move of that step */
    CHECK_INT(g->spawn_timer, 10);
    CHECK_INT(g->move_timer, 5);
    int lane = 0;
    while (lane < MINATAR_LANES - 1 && !g->lane_dir[lane])
        lane++;
    int x0 = g->lane_x[lane], dir = g->lane_dir[lane];
    CHECK_INT(x0, dir > 0 ? 0 : 9);
    CHECK_NEAR(cell(&b, 1, x0, lane + 1) + cell(&b, 3, x0, lane + 1), 1, 0);
    for (int t = 11; t <= 15; t++)
        step1(&b, NOOP);
    CHECK_INT(g->lane_x[lane], x0 + dir); /* moves at the 15th step */
    CHECK_NEAR(cell(&b, 2, x0, lane + 1), 1, 0); /* with its trail behind */
    CHECK_INT(count_channel(&b, 2), 1);
    env_batch_free(&b);
}

TEST(asterix_ramps_at_the_right_steps)
{
    START_GAME("asterix", 1);
    Asterix *g = &c->g.asterix;
    for (int t = 1; t <= 400; t++) {
        asterix_clear(g);
        step1(&b, NOOP);
        if (t == 99) {
            CHECK_INT(g->spawn_interval, 10);
            CHECK_INT(g->move_interval, 5);
        }
        if (t == 100) {
            CHECK_INT(g->spawn_interval, 9);
            CHECK_INT(g->move_interval, 5);
        }
        if (t == 200) {
            CHECK_INT(g->spawn_interval, 8);
            CHECK_INT(g->move_interval, 4);
        }
    }
    CHECK_INT(g->spawn_interval, 6);
    CHECK_INT(g->move_interval, 3);
    CHECK_INT(b.done[0], 0);
    env_batch_free(&b);

    c = start("asterix", 0, &spec, &b); /* ramping off */
    if (!c) {
        CHECK(0);
        return;
    }
    for (int t = 0; t < 300; t++) {
        asterix_clear(&c->g.asterix);
        step1(&b, NOOP);
    }
    CHECK_INT(c->g.asterix.spawn_interval, 10);
    CHECK_INT(c->g.asterix.move_interval, 5);
    env_batch_free(&b);
}

/* Freeway with every car parked in column 0 for another 5 frames. */
static void freeway_park(Freeway *g)
{
    for (int l = 0; l < MINATAR_LANES; l++)
        g->car_x[l] = 0, g->car_timer[l] = 6, g->car_dir[l] = 1;
}

TEST(freeway_crossing_scores_every_third_frame_move)
{
    START_GAME("freeway", 1);
    Freeway *g = &c->g.freeway;
    CHECK_INT(g->y, 9);
    for (int l = 0; l < MINATAR_LANES; l++) {
        CHECK(g->car_speed[l] >= 1 && g->car_speed[l] <= 5);
        CHECK_INT(g->car_timer[l], g->car_speed[l] + 1);
        CHECK_INT(g->car_x[l], 0);
        CHECK_NEAR(cell(&b, 2 + g->car_speed[l] - 1, g->car_dir[l] > 0 ? 9 : 1, l + 1), 1, 0);
    }
    for (int t = 1; t <= 25; t++) {
        freeway_park(g);
        step1(&b, UP);
        if (t == 1 || t == 3)
            CHECK_INT(g->y, 8);
        if (t == 4)
            CHECK_INT(g->y, 7);
        if (t < 25)
            CHECK_NEAR(b.reward[0], 0, 0);
    }
    CHECK_NEAR(b.reward[0], 1, 0); /* the 9th move, at frame 25, reaches row 0 */
    CHECK_INT(g->y, 9);
    CHECK_NEAR(cell(&b, 0, 4, 9), 1, 0);
    env_batch_free(&b);
}

TEST(freeway_a_hit_sends_the_chicken_back_and_time_ends_it)
{
    START_GAME("freeway", 1);
    Freeway *g = &c->g.freeway;
    freeway_park(g);
    g->y = 5;
    g->car_x[4] = 3, g->car_dir[4] = 1, g->car_timer[4] = 1, g->car_speed[4] = 2;
    step1(&b, NOOP); /* the lane-4 car moves onto (4, 5) */
    CHECK_INT(g->car_x[4], 4);
    CHECK_INT(g->car_timer[4], 3); /* speed 2: the next move 3 frames later */
    CHECK_INT(g->y, 9);
    CHECK_INT(b.done[0], 0);
    g->car_x[0] = 0, g->car_dir[0] = -1, g->car_timer[0] = 1;
    step1(&b, NOOP); /* wraps around the left edge */
    CHECK_INT(g->car_x[0], 9);
    for (int t = 3; t < 2500; t++)
        step1(&b, NOOP);
    CHECK_INT(g->time, 2499);
    CHECK_INT(b.done[0], 0);
    step1(&b, NOOP);
    CHECK_INT(b.done[0], 1);
    CHECK_INT(g->time, 0);
    env_batch_free(&b);
}

/* Seaquest with no enemies, bullets or divers, and none coming. */
static void seaquest_clear(Seaquest *g)
{
    for (int l = 0; l < MINATAR_LANES; l++)
        g->enemy_dir[l] = g->diver_dir[l] = 0;
    g->num_enemy_shots = 0;
    g->enemy_spawn_timer = g->diver_spawn_timer = 1000;
}

TEST(seaquest_oxygen_runs_out)
{
    START_GAME("seaquest", 1);
    Seaquest *g = &c->g.seaquest;
    CHECK_INT(g->x, 5);
    CHECK_INT(g->y, 0);
    CHECK_INT(g->oxygen, 200);
    CHECK_INT(count_channel(&b, 7), 10);
    for (int t = 1; t <= 200; t++) {
        seaquest_clear(g);
        step1(&b, t == 1 ? DOWN : NOOP);
        if (t == 1)
            CHECK_INT(g->oxygen, 199);
        if (t == 100) {
            CHECK_INT(g->oxygen, 100);
            CHECK_INT(count_channel(&b, 7), 5);
        }
        if (t < 200)
            CHECK_INT(b.done[0], 0);
    }
    CHECK_INT(b.done[0], 1);
    CHECK_INT(g->oxygen, 200); /* a new episode */
    env_batch_free(&b);
}

TEST(seaquest_surfacing_rules)
{
    START_GAME("seaquest", 1);
    Seaquest *g = &c->g.seaquest;
    seaquest_clear(g);
    step1(&b, NOOP); /* resting at the surface at the start is safe */
    CHECK_INT(b.done[0], 0);
    g->y = 1, g->surfaced = 0, g->divers = 6, g->oxygen = 150;
    step1(&b, UP); /* six divers: oxygen * 10 / 200 = 7, all leave, oxygen refills, ramps */
    CHECK_NEAR(b.reward[0], 7, 0);
    CHECK_INT(g->divers, 0);
    CHECK_INT(g->oxygen, 200);
    CHECK_INT(g->enemy_spawn_interval, 19);
    CHECK_INT(g->enemy_move_interval, 5);
    seaquest_clear(g);
    g->y = 1, g->surfaced = 0, g->divers = 3, g->oxygen = 20;
    step1(&b, UP); /* three: one leaves, no pay */
    CHECK_NEAR(b.reward[0], 0, 0);
    CHECK_INT(g->divers, 2);
    CHECK_INT(g->oxygen, 200);
    CHECK_INT(g->enemy_spawn_interval, 18);
    CHECK_INT(g->enemy_move_interval, 4);
    CHECK_INT(count_channel(&b, 8), 2);
    seaquest_clear(g);
    g->divers = 0;
    step1(&b, DOWN);
    CHECK_INT(b.done[0], 0);
    step1(&b, UP); /* no divers: the episode ends */
    CHECK_INT(b.done[0], 1);
    env_batch_free(&b);
}

TEST(seaquest_shoots_enemies_and_picks_up_divers)
{
    START_GAME("seaquest", 1);
    Seaquest *g = &c->g.seaquest;
    seaquest_clear(g);
    g->x = 2, g->y = 3, g->dir = 1, g->surfaced = 0;
    g->enemy_dir[2] = -1, g->enemy_x[2] = 5, g->enemy_is_sub[2] = 0, g->enemy_move_timer[2] = 5;
    step1(&b, FIRE); /* the bullet leaves the sub and flies one cell: (3, 3) */
    CHECK_INT(g->num_shots, 1);
    CHECK_INT(g->shots[0].x, 3);
    CHECK_NEAR(cell(&b, 2, 3, 3), 1, 0);
    CHECK_NEAR(cell(&b, 5, 5, 3), 1, 0);
    CHECK_NEAR(cell(&b, 3, 6, 3), 1, 0); /* the fish's trail */
    CHECK_INT(g->shot_timer, 4);
    step1(&b, NOOP); /* (4, 3): not yet */
    CHECK_NEAR(b.reward[0], 0, 0);
    step1(&b, NOOP); /* (5, 3): hit */
    CHECK_NEAR(b.reward[0], 1, 0);
    CHECK_INT(g->enemy_dir[2], 0);
    CHECK_INT(g->num_shots, 0);
    g->diver_dir[2] = -1, g->diver_x[2] = 3, g->diver_move_timer[2] = 1;
    step1(&b, NOOP); /* the diver swims onto the sub */
    CHECK_INT(g->divers, 1);
    CHECK_INT(g->diver_dir[2], 0);
    CHECK_NEAR(cell(&b, 8, 0, 9), 1, 0);
    g->enemy_dir[2] = -1, g->enemy_x[2] = 5, g->enemy_is_sub[2] = 1, g->enemy_move_timer[2] = 9;
    g->enemy_shot_timer[2] = 1;
    step1(&b, NOOP); /* the enemy sub fires from (5, 3); the bullet starts moving next step */
    CHECK_INT(g->num_enemy_shots, 1);
    CHECK_NEAR(cell(&b, 4, 5, 3), 1, 0);
    CHECK_NEAR(cell(&b, 6, 5, 3), 1, 0);
    step1(&b, NOOP); /* (4, 3) */
    CHECK_INT(b.done[0], 0);
    step1(&b, NOOP); /* (3, 3) */
    CHECK_INT(b.done[0], 0);
    step1(&b, NOOP); /* (2, 3): the sub is hit */
    CHECK_INT(b.done[0], 1);
    env_batch_free(&b);
}

TEST(space_invaders_shot_kills_an_alien)
{
    START_GAME("space_invaders", 1);
    SpaceInvaders *g = &c->g.space_invaders;
    CHECK_INT(count_channel(&b, 1), 24);
    CHECK_INT(count_channel(&b, 2), 24); /* moving left */
    g->x = 2;
    for (int t = 1; t <= 6; t++) {
        step1(&b, t == 1 ? FIRE : NOOP);
        if (t == 1)
            CHECK_NEAR(cell(&b, 4, 2, 8), 1, 0);
        if (t < 6)
            CHECK_NEAR(b.reward[0], 0, 0);
    }
    CHECK_NEAR(b.reward[0], 1, 0); /* the bullet reaches row 3 at the 6th step */
    CHECK_INT(g->aliens[3], 0xfc & ~(1 << 2));
    CHECK_INT(count_channel(&b, 1), 23);
    CHECK_INT(count_channel(&b, 4), 0);
    env_batch_free(&b);
}

TEST(space_invaders_aliens_march_shoot_and_hit)
{
    START_GAME("space_invaders", 1);
    SpaceInvaders *g = &c->g.space_invaders;
    for (int t = 1; t <= 15; t++) {
        step1(&b, NOOP);
        if (t == 10) /* the lowest alien of column 5, row 3, fires */
            CHECK_INT(g->enemy_shots[3], 1 << 5);
        if (t == 11)
            CHECK_INT(g->enemy_shots[4], 1 << 5);
        if (t == 11)
            CHECK_INT(g->aliens[0], 0xfc);
        if (t == 12)
            CHECK_INT(g->aliens[0], 0x7e); /* one column left */
    }
    CHECK_INT(b.done[0], 0);
    step1(&b, NOOP); /* step 16: the bullet reaches the cannon */
    CHECK_INT(b.done[0], 1);
    env_batch_free(&b);

    c = start("space_invaders", 1, &spec, &b);
    if (!c) {
        CHECK(0);
        return;
    }
    g = &c->g.space_invaders;
    for (int t = 1; t <= 36; t++) {
        g->enemy_shots[3] = g->enemy_shots[4] = 0; /* keep the cannon alive */
        g->x = 0;
        step1(&b, NOOP);
        if (t == 24) {
            CHECK_INT(g->aliens[0], 0x3f); /* columns 0-5 */
            CHECK_INT(g->alien_dir, -1);
        }
    }
    CHECK_INT(g->aliens[0], 0); /* at the edge: down one row, turning right */
    CHECK_INT(g->aliens[1], 0x3f);
    CHECK_INT(g->alien_dir, 1);
    CHECK_INT(count_channel(&b, 3), 24);
    env_batch_free(&b);
}

TEST(space_invaders_wave_respawns_faster_and_landing_ends)
{
    START_GAME("space_invaders", 1);
    SpaceInvaders *g = &c->g.space_invaders;
    memset(g->aliens, 0, sizeof g->aliens);
    g->aliens[3] = 1 << 4;
    g->x = 4, g->alien_move_timer = 100, g->alien_shot_timer = 100;
    for (int t = 1; t <= 6; t++)
        step1(&b, t == 1 ? FIRE : NOOP);
    CHECK_NEAR(b.reward[0], 1, 0);
    CHECK_INT(g->move_interval, 11);
    CHECK_INT(g->aliens[0], 0xfc);
    CHECK_INT(g->aliens[3], 0xfc);
    CHECK_INT(g->aliens[4], 0);
    CHECK_INT(g->alien_move_timer, 11);
    CHECK_INT(count_channel(&b, 1), 24);
    memset(g->aliens, 0, sizeof g->aliens);
    g->aliens[8] = 1, g->alien_dir = -1, g->alien_move_timer = 1, g->x = 5;
    step1(&b, NOOP); /* at the left edge: down onto row 9 */
    CHECK_INT(b.done[0], 1);
    env_batch_free(&b);
}

/* Random play in every game: the incrementally drawn observation equals a full redraw, and two
 * batches with one seed agree. */
TEST(minatar_observation_matches_a_redraw_and_is_deterministic)
{
    for (int g = 0; g < MINATAR_NUM_GAMES; g++) {
        EnvSpec spec;
        EnvBatch b1, b2;
        if (load_game(game_names[g], 0.1, 1, &spec) || env_batch_init(&b1, &spec, 4, 11) ||
            env_batch_init(&b2, &spec, 4, 11)) {
            CHECK(0);
            return;
        }
        Rng rng;
        rng_seed(&rng, 3, 4);
        int mismatches = 0, lit = 0;
        real *redraw = malloc(sizeof(real) * 4 * (size_t)spec.obs_dim);
        for (int t = 0; t < 3000; t++) {
            int32_t actions[4];
            for (int i = 0; i < 4; i++)
                actions[i] = (int32_t)rng_below(&rng, 6);
            env_batch_step(&b1, actions);
            env_batch_step(&b2, actions);
            if (t % 97 != 0)
                continue;
            memcpy(redraw, b2.obs, sizeof(real) * 4 * (size_t)spec.obs_dim);
            for (int i = 0; i < 4; i++) {
                MinatarCopy *c = minatar_copies(&b2) + i;
                memset(b2.obs + (size_t)i * spec.obs_dim, 0, sizeof(real) * (size_t)spec.obs_dim);
                memset(c->frame, 0, sizeof c->frame);
                minatar_redraw(&b2, i);
                for (int k = 0; k < spec.obs_dim; k++)
                    lit += b2.obs[(size_t)i * spec.obs_dim + k] > 0;
            }
            mismatches += memcmp(redraw, b2.obs, sizeof(real) * 4 * (size_t)spec.obs_dim) != 0;
        }
        CHECK_INT(mismatches, 0);
        CHECK(lit > 0);
        CHECK(memcmp(b1.obs, b2.obs, sizeof(real) * 4 * (size_t)spec.obs_dim) == 0);
        CHECK(memcmp(b1.game_state, b2.game_state, b1.game_state_bytes) == 0);
        CHECK(b1.episodes_done > 0);
        free(redraw);
        env_batch_free(&b1);
        env_batch_free(&b2);
    }
}

TEST(minatar_checkpoint_resumes_byte_identical)
{
    EnvSpec spec;
    EnvBatch a, r;
    if (load_game("seaquest", 0.1, 1, &spec) || env_batch_init(&a, &spec, 3, 21) ||
        env_batch_init(&r, &spec, 3, 99)) {
        CHECK(0);
        return;
    }
    int32_t actions[3] = {DOWN, FIRE, LEFT};
    for (int t = 0; t < 50; t++)
        env_batch_step(&a, actions);
    const char *path = "build/test_env_minatar.ckpt";
    CheckpointWriter w;
    checkpoint_writer_init(&w);
    CHECK_INT(env_batch_save_state(&a, &w, "env"), 0);
    CHECK_INT(checkpoint_write(&w, path), 0);
    checkpoint_writer_free(&w);
    Checkpoint ck;
    CHECK_INT(checkpoint_open(&ck, path), 0);
    CHECK_INT(env_batch_load_state(&r, &ck, "env"), 0);
    checkpoint_close(&ck);
    for (int t = 0; t < 300; t++) {
        int32_t act[3] = {t % 6, (t * 5) % 6, FIRE};
        env_batch_step(&a, act);
        env_batch_step(&r, act);
    }
    CHECK(memcmp(a.obs, r.obs, sizeof(real) * 3 * (size_t)spec.obs_dim) == 0);
    CHECK(memcmp(a.game_state, r.game_state, a.game_state_bytes) == 0);
    CHECK_NEAR(a.returns_done_sum, r.returns_done_sum, 0);
    CHECK_INT(a.episodes_done, r.episodes_done);
    env_batch_free(&a);
    env_batch_free(&r);
}

TEST(minatar_env_command_renders_the_board)
{
    char out[16384];
    CHECK_INT(run_lpg("env configs/envs/minatar/space_invaders.json --render --steps 2", out,
                      sizeof out), 0);
    CHECK(strstr(out, "game: space_invaders") != NULL);
    CHECK(strstr(out, "..WWWWWW..") != NULL);
    CHECK(strstr(out, "legend: A cannon, W alien") != NULL);
    CHECK_INT(run_lpg("env tests/configs/no_such_minatar.json", out, sizeof out) != 0, 1);
}
