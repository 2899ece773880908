/* env_minatar.c: the MinAtar kind: reading its keys, resets, the step (each game's batched step,
 * minatar_step_batch in env_minatar.h: sticky actions, automatic resets, the observation planes)
 * and the text rendering. The games' own rules live in env_minatar_<game>.c; this file only
 * dispatches to them.
 *
 * Speed: a copy keeps its observation as bit rows too; a step draws the new rows and writes only
 * the cells whose bit changed, instead of rewriting 100 * channels reals. */
#include <string.h>

#include <cJSON.h>

#include "config.h"
#include "env_kinds.h"
#include "env_minatar.h"

static const char *const minatar_keys[] = {"name", "kind", "gamma", "max_steps",
                                           "game", "sticky", "ramping", NULL};

const MinatarGame *minatar_game(int id)
{
    static const MinatarGame *const games[MINATAR_NUM_GAMES] = {
        &minatar_breakout, &minatar_asterix, &minatar_freeway, &minatar_seaquest,
        &minatar_space_invaders};
    return id >= 0 && id < MINATAR_NUM_GAMES ? games[id] : NULL;
}

/* The id of a game's name, or -1 if unknown. */
static int minatar_game_id(const char *name)
{
    for (int id = 0; id < MINATAR_NUM_GAMES; id++)
        if (strcmp(name, minatar_game(id)->name) == 0)
            return id;
    return -1;
}

static int read_game(const cJSON *root, EnvSpec *spec, const char *path)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, "game");
    if (!item)
        return lpg_error("%s: missing required key 'game'", path);
    if (!cJSON_IsString(item))
        return lpg_error("%s: key 'game': expected a string", path);
    spec->game = minatar_game_id(item->valuestring);
    if (spec->game < 0)
        return lpg_error("%s: key 'game': unknown game '%s' (expected breakout, asterix, freeway, "
                         "seaquest or space_invaders)", path, item->valuestring);
    return 0;
}

static int read_ramping(const cJSON *root, EnvSpec *spec, const char *path)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, "ramping");
    spec->ramping = 1;
    if (!item)
        return 0;
    if (!cJSON_IsBool(item))
        return lpg_error("%s: key 'ramping': expected true or false", path);
    spec->ramping = cJSON_IsTrue(item) ? 1 : 0;
    return 0;
}

int minatar_load(const cJSON *root, EnvSpec *spec, const char *path)
{
    spec->sticky = 0.1;
    if (config_check_keys(root, minatar_keys, path) || read_game(root, spec, path) ||
        config_get_double(root, "sticky", 0, 0.0, 1.0, &spec->sticky, path) ||
        read_ramping(root, spec, path))
        return -1;
    spec->num_actions = MINATAR_NUM_ACTIONS;
    spec->obs_dim = MINATAR_CELLS * minatar_game(spec->game)->channels;
    spec->obs_planes = minatar_game(spec->game)->channels;
    spec->obs_height = spec->obs_width = MINATAR_SIDE;
    spec->width = spec->height = MINATAR_SIDE;
    spec->start_cell = -1;
    return 0;
}

int minatar_batch_init(EnvBatch *batch)
{
    batch->game_state_bytes = (size_t)batch->n * sizeof(MinatarCopy);
    batch->game_state = lpg_calloc((size_t)batch->n, sizeof(MinatarCopy), "MinAtar game states");
    return batch->game_state ? 0 : -1;
}

int minatar_pick_lane(const int8_t *lane_dir, Rng *rng, int8_t *dir, int8_t *x)
{
    int empty[MINATAR_LANES], count = 0;
    for (int l = 0; l < MINATAR_LANES; l++)
        if (!lane_dir[l])
            empty[count++] = l;
    if (count == 0)
        return -1;
    int lane = empty[rng_below(rng, (uint32_t)count)];
    int right = (rng_u32(rng) & 1u) == 0;
    *dir = right ? 1 : -1;
    *x = right ? 0 : MINATAR_SIDE - 1;
    return lane;
}

void minatar_redraw(EnvBatch *batch, int i)
{
    const MinatarGame *game = minatar_game(batch->spec->game);
    MinatarCopy *c = minatar_copies(batch) + i;
    uint64_t frame[MINATAR_FRAME_WORDS] = {0};
    game->draw(c, frame);
    minatar_update_obs(c, batch->obs + (size_t)i * batch->spec->obs_dim,
                       frame, game->channels * MINATAR_SIDE);
}

void minatar_reset_copy(EnvBatch *batch, int i)
{
    MinatarCopy *c = minatar_copies(batch) + i;
    minatar_game(batch->spec->game)->reset(c, &batch->rng[i]);
    c->last_action = MINATAR_NOOP;
    batch->steps[i] = 0;
    minatar_redraw(batch, i);
}

void minatar_step(EnvBatch *batch, const int32_t *actions)
{
    minatar_game(batch->spec->game)->step_batch(batch, actions);
}

/* One character per cell: the glyph of the lowest-numbered channel lit there. */
void minatar_render(const EnvBatch *batch, int i, FILE *out)
{
    const MinatarGame *game = minatar_game(batch->spec->game);
    const real *obs = batch->obs + (size_t)i * batch->spec->obs_dim;
    for (int y = 0; y < MINATAR_SIDE; y++) {
        char line[MINATAR_SIDE + 1];
        for (int x = 0; x < MINATAR_SIDE; x++) {
            line[x] = '.';
            for (int ch = 0; ch < game->channels; ch++)
                if (obs[ch * MINATAR_CELLS + y * MINATAR_SIDE + x] > 0) {
                    line[x] = game->glyphs[ch];
                    break;
                }
        }
        line[MINATAR_SIDE] = '\0';
        fprintf(out, "%s\n", line);
    }
    fputs("legend:", out);
    for (int ch = 0; ch < game->channels; ch++)
        fprintf(out, " %c %s%s", game->glyphs[ch], game->channel_names[ch],
                ch + 1 < game->channels ? "," : "\n");
    game->status(minatar_copies(batch) + i, out);
}
