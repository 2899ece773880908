/* env_minatar.c: the MinAtar kind: reading its keys, the batched step with sticky actions and
 * automatic resets, the observation planes and the text rendering. The games' own rules live in
 * env_minatar_<game>.c; this file only dispatches to them (see env_minatar.h).
 *
 * Speed: a copy keeps its observation as bit rows too; a step draws the new rows and writes only
 * the cells whose bit changed, instead of rewriting 100 * channels reals. */
#include <assert.h>
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

int minatar_game_id(const char *name)
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
    MinatarCopy *c = minatar_copies(batch) + i;
    const MinatarGame *game = minatar_game(batch->spec->game);
    real *obs = batch->obs + (size_t)i * batch->spec->obs_dim;
    uint16_t frame[MINATAR_MAX_CHANNELS * MINATAR_SIDE] = {0};
    game->draw(c, frame);
    /* Four rows at a time: most words are unchanged between steps. Rows past the game's channels
     * are zero in both frames, so they never write. */
    for (int row = 0; row < game->channels * MINATAR_SIDE; row += 4) {
        uint64_t old_word, new_word;
        memcpy(&old_word, c->frame + row, sizeof old_word);
        memcpy(&new_word, frame + row, sizeof new_word);
        uint64_t changed = old_word ^ new_word;
        if (!changed)
            continue;
        memcpy(c->frame + row, &new_word, sizeof new_word);
        while (changed) {
            int bit = __builtin_ctzll(changed);
            int r = row + bit / 16, x = bit % 16;
            obs[r * MINATAR_SIDE + x] = (real)(new_word >> bit & 1u);
            changed &= changed - 1;
        }
    }
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
    const EnvSpec *spec = batch->spec;
    const MinatarGame *game = minatar_game(spec->game);
    const uint64_t sticky = (uint64_t)(spec->sticky * 4294967296.0);
    const int ramping = spec->ramping, max_steps = spec->max_steps;
    MinatarCopy *copies = minatar_copies(batch);
    for (int i = 0; i < batch->n; i++) {
        MinatarCopy *c = copies + i;
        Rng rng = batch->rng[i];
        int action = actions[i];
        assert(action >= 0 && action < MINATAR_NUM_ACTIONS);
        if ((uint64_t)rng_u32(&rng) < sticky)
            action = c->last_action;
        c->last_action = action;
        int reward = 0;
        int done = game->step(c, action, ramping, &rng, &reward);
        if (++batch->steps[i] >= max_steps)
            done = 1;
        batch->rng[i] = rng;
        if (env_record_step(batch, i, (real)reward, done))
            minatar_reset_copy(batch, i);
        else
            minatar_redraw(batch, i);
    }
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
