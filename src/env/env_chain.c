/* env_chain.c: the delayed chain MDP (the schema is in env.c).
 *
 * An episode takes L steps. The first action picks a branch; the L-th step pays +1 if that was
 * the batch's good action and -1 otherwise, and ends the episode. The actions in between change
 * nothing; in noisy chains the steps strictly between the first and the last pay a random +1 or
 * -1. The branch is part of the observation (see env.h), so the delayed consequence of the first
 * action is learnable. In the copy state, agent_cell is the position (steps taken, 0..L-1) and
 * present the branch. */
#include <assert.h>
#include <string.h>

#include <cJSON.h>

#include "config.h"
#include "env_kinds.h"

static const char *const chain_keys[] = {"name",       "kind",       "gamma", "max_steps",
                                         "length_min", "length_max", "noisy", "distraction_bits",
                                         NULL};

/* Informative bits (a one-hot of the branch) in front of the distraction bits. */
#define CHAIN_BRANCH_BITS 2

static int read_noisy(const cJSON *root, EnvSpec *spec, const char *path)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, "noisy");
    if (!item)
        return 0;
    if (!cJSON_IsBool(item))
        return lpg_error("%s: key 'noisy': expected true or false", path);
    spec->noisy = cJSON_IsTrue(item) ? 1 : 0;
    return 0;
}

int chain_load(const cJSON *root, EnvSpec *spec, const char *path)
{
    if (config_check_keys(root, chain_keys, path) ||
        config_get_int(root, "length_min", 1, 1, ENV_MAX_CHAIN, &spec->length_min, path) ||
        config_get_int(root, "length_max", 1, 1, ENV_MAX_CHAIN, &spec->length_max, path) ||
        read_noisy(root, spec, path) ||
        config_get_int(root, "distraction_bits", 0, 0, 30, &spec->distraction_bits, path))
        return -1;
    if (spec->length_max < spec->length_min)
        return lpg_error("%s: key 'length_max': %d is below length_min %d", path,
                         spec->length_max, spec->length_min);
    if (spec->max_steps < spec->length_max)
        return lpg_error("%s: key 'max_steps': %d is below length_max %d (episodes would be cut)",
                         path, spec->max_steps, spec->length_max);
    spec->num_actions = 2;
    spec->start_cell = -1;
    if (spec->distraction_bits > 0)
        spec->obs_dim = CHAIN_BRANCH_BITS + spec->distraction_bits;
    else
        spec->num_states = 2 * spec->length_max - 1;
    return 0;
}

/* Writes the observation of copy i at `position` with `branch` (ignored at position 0). */
static void write_observation(EnvBatch *batch, int i, Rng *rng, int position, uint32_t branch)
{
    const EnvSpec *spec = batch->spec;
    if (spec->num_states > 0) {
        batch->obs_index[i] = position == 0 ? 0 : 1 + 2 * (position - 1) + (int32_t)branch;
        return;
    }
    real *obs = batch->obs + (size_t)i * spec->obs_dim;
    obs[0] = position > 0 && branch == 0;
    obs[1] = position > 0 && branch == 1;
    uint32_t bits = rng_u32(rng);
    for (int k = 0; k < spec->distraction_bits; k++)
        obs[CHAIN_BRANCH_BITS + k] = (real)((bits >> k) & 1u);
}

void chain_seed_batch(EnvBatch *batch, Rng *master)
{
    const EnvSpec *spec = batch->spec;
    uint32_t span = (uint32_t)(spec->length_max - spec->length_min + 1);
    batch->chain_length = spec->length_min + (int)rng_below(master, span);
    batch->chain_good_action = (int)rng_below(master, 2);
}

void chain_reset_copy(EnvBatch *batch, int i)
{
    batch->agent_cell[i] = 0;
    batch->present[i] = 0;
    batch->steps[i] = 0;
    write_observation(batch, i, &batch->rng[i], 0, 0);
}

void chain_step(EnvBatch *batch, const int32_t *actions)
{
    const EnvSpec *spec = batch->spec;
    const int length = batch->chain_length, noisy = spec->noisy, max_steps = spec->max_steps;
    const uint32_t good = (uint32_t)batch->chain_good_action;
    for (int i = 0; i < batch->n; i++) {
        assert(actions[i] == 0 || actions[i] == 1);
        Rng rng = batch->rng[i];
        int position = batch->agent_cell[i];
        uint32_t branch = position == 0 ? (uint32_t)actions[i] : batch->present[i];
        position++;
        real reward = 0;
        int done = 0;
        if (position >= length) {
            reward = branch == good ? (real)1 : (real)-1;
            done = 1;
        } else if (noisy && position >= 2) {
            reward = (rng_u32(&rng) & 1u) ? (real)1 : (real)-1;
        }
        if (++batch->steps[i] >= max_steps)
            done = 1;
        batch->agent_cell[i] = position;
        batch->present[i] = branch;
        if (!done)
            write_observation(batch, i, &rng, position, branch);
        batch->rng[i] = rng;
        if (env_record_step(batch, i, reward, done))
            chain_reset_copy(batch, i);
    }
}

void chain_render(const EnvBatch *batch, int i, FILE *out)
{
    const EnvSpec *spec = batch->spec;
    int length = batch->chain_length, position = batch->agent_cell[i];
    char line[ENV_MAX_CHAIN + 2];
    for (int p = 0; p < length; p++)
        line[p] = p == position ? 'A' : p == 0 ? 'S' : '-';
    line[length] = '|';
    line[length + 1] = '\0';
    fprintf(out, "%s\n", line);
    if (position == 0)
        fprintf(out, "position 0 of %d, no branch yet (good first action %d)\n", length,
                batch->chain_good_action);
    else
        fprintf(out, "position %d of %d, branch %u: pays %+d at the end\n", position, length,
                batch->present[i], batch->present[i] == (uint32_t)batch->chain_good_action ? 1 : -1);
    if (spec->obs_dim > 0) {
        const real *obs = batch->obs + (size_t)i * spec->obs_dim;
        fputs("obs ", out);
        for (int k = 0; k < spec->obs_dim; k++) {
            if (k == CHAIN_BRANCH_BITS)
                fputc(' ', out); /* informative bits, then the distraction */
            fputc(obs[k] > 0 ? '1' : '0', out);
        }
        fputc('\n', out);
    }
}
