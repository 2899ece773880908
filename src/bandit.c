/* bandit.c: the per-environment bandit over (alpha_lr, alpha_y) that meta-training samples
 * lifetimes' hyperparameters from. Scores, softmax sampling, ring-buffer history, saving. */
#include "bandit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

_Static_assert(sizeof(BanditArm) == (2 + BANDIT_WINDOW) * sizeof(double) + sizeof(int64_t),
               "BanditArm must have no padding: its bytes go into checkpoints");
_Static_assert(sizeof(Bandit) == 8 + 2 * sizeof(double) + BANDIT_MAX_ARMS * sizeof(BanditArm),
               "Bandit must have no padding: its bytes go into checkpoints");

int bandit_init(Bandit *b, const double *lrs, int num_lrs, const double *ys, int num_ys)
{
    memset(b, 0, sizeof *b);
    if (num_lrs < 1 || num_ys < 1)
        return lpg_error("bandit: empty hyperparameter grid (%d alpha_lr x %d alpha_y)", num_lrs,
                         num_ys);
    if (num_lrs > BANDIT_MAX_ARMS / num_ys)
        return lpg_error("bandit: %d x %d hyperparameter pairs, at most %d supported", num_lrs,
                         num_ys, BANDIT_MAX_ARMS);
    b->magic = BANDIT_MAGIC;
    b->num_arms = (uint32_t)(num_lrs * num_ys);
    b->temperature = BANDIT_TEMPERATURE;
    b->bonus = BANDIT_BONUS;
    for (int i = 0; i < num_lrs; i++)
        for (int j = 0; j < num_ys; j++) {
            BanditArm *arm = &b->arms[i * num_ys + j];
            arm->alpha_lr = lrs[i];
            arm->alpha_y = ys[j];
        }
    return 0;
}

static int stored_returns(const BanditArm *arm)
{
    return arm->tries < BANDIT_WINDOW ? (int)arm->tries : BANDIT_WINDOW;
}

double bandit_score(const Bandit *b, int arm_index)
{
    const BanditArm *arm = &b->arms[arm_index];
    if (arm->tries == 0)
        return INFINITY;
    int stored = stored_returns(arm);
    double sum = 0.0;
    for (int k = 0; k < stored; k++)
        sum += arm->returns[k];
    return sum / stored + b->bonus / sqrt((double)arm->tries);
}

/* Uniform over the untried arms; returns how many there are (0: use the softmax). */
static int untried_probabilities(const Bandit *b, double *probs)
{
    int untried = 0;
    for (uint32_t a = 0; a < b->num_arms; a++)
        untried += b->arms[a].tries == 0;
    for (uint32_t a = 0; untried && a < b->num_arms; a++)
        probs[a] = b->arms[a].tries == 0 ? 1.0 / untried : 0.0;
    return untried;
}

void bandit_probabilities(const Bandit *b, double *probs)
{
    if (untried_probabilities(b, probs))
        return;
    double max_logit = -INFINITY, total = 0.0;
    for (uint32_t a = 0; a < b->num_arms; a++) {
        probs[a] = bandit_score(b, (int)a) / b->temperature;
        if (probs[a] > max_logit)
            max_logit = probs[a];
    }
    for (uint32_t a = 0; a < b->num_arms; a++) {
        probs[a] = exp(probs[a] - max_logit);
        total += probs[a];
    }
    for (uint32_t a = 0; a < b->num_arms; a++)
        probs[a] /= total;
}

int bandit_sample(const Bandit *b, Rng *rng)
{
    double probs[BANDIT_MAX_ARMS];
    bandit_probabilities(b, probs);
    double u = rng_uniform_double(rng), cumulative = 0.0;
    int last_possible = 0;
    for (uint32_t a = 0; a < b->num_arms; a++) {
        if (probs[a] <= 0.0)
            continue;
        cumulative += probs[a];
        last_possible = (int)a;
        if (u < cumulative)
            return (int)a;
    }
    return last_possible; /* u landed in the rounding gap above the summed probabilities */
}

int bandit_update(Bandit *b, int arm_index, double final_return)
{
    if (arm_index < 0 || (uint32_t)arm_index >= b->num_arms)
        return lpg_error("bandit: arm %d out of range (%u arms)", arm_index, b->num_arms);
    if (!isfinite(final_return))
        return lpg_error("bandit: arm %d: return %g is not finite", arm_index, final_return);
    BanditArm *arm = &b->arms[arm_index];
    arm->returns[arm->tries % BANDIT_WINDOW] = final_return;
    arm->tries++;
    return 0;
}

static int validate_arm(const BanditArm *arm, int index, const char *where)
{
    if (arm->tries < 0)
        return lpg_error("%s: bandit arm %d has %lld tries", where, index, (long long)arm->tries);
    if (!isfinite(arm->alpha_lr) || !isfinite(arm->alpha_y))
        return lpg_error("%s: bandit arm %d has non-finite hyperparameters", where, index);
    for (int k = 0; k < stored_returns(arm); k++)
        if (!isfinite(arm->returns[k]))
            return lpg_error("%s: bandit arm %d has a non-finite return", where, index);
    return 0;
}

/* Checks that bytes loaded from a file form a valid bandit (magic, arm count, finite values,
 * tries >= 0). `where` names the source in the message. Returns 0 or -1 (reported). */
static int bandit_validate(const Bandit *b, const char *where)
{
    if (b->magic != BANDIT_MAGIC)
        return lpg_error("%s: not a bandit (bad magic %08x)", where, b->magic);
    if (b->num_arms < 1 || b->num_arms > BANDIT_MAX_ARMS)
        return lpg_error("%s: bandit has %u arms (1 to %d allowed)", where, b->num_arms,
                         BANDIT_MAX_ARMS);
    if (!(b->temperature > 0) || !isfinite(b->temperature) || !isfinite(b->bonus))
        return lpg_error("%s: bandit temperature or bonus is invalid", where);
    for (uint32_t a = 0; a < b->num_arms; a++)
        if (validate_arm(&b->arms[a], (int)a, where))
            return -1;
    return 0;
}

int bandit_save(const Bandit *bandits, int n, CheckpointWriter *w, const char *name)
{
    return checkpoint_add_bytes(w, name, bandits, (size_t)n * sizeof(Bandit));
}

static int same_grid(const Bandit *a, const Bandit *b)
{
    if (a->num_arms != b->num_arms)
        return 0;
    for (uint32_t k = 0; k < a->num_arms; k++)
        if (a->arms[k].alpha_lr != b->arms[k].alpha_lr || a->arms[k].alpha_y != b->arms[k].alpha_y)
            return 0;
    return 1;
}

/* Checks the loaded bandits, each against its config-built counterpart. */
static int check_loaded(const Bandit *loaded, const Bandit *configured, int n,
                        const Checkpoint *ck, const char *name)
{
    char where[LPG_PATH_MAX + 96];
    for (int e = 0; e < n; e++) {
        snprintf(where, sizeof where, "%s: section '%s': bandit %d", ck->path, name, e);
        if (bandit_validate(&loaded[e], where))
            return -1;
        if (!same_grid(&loaded[e], &configured[e]))
            return lpg_error("%s: its (alpha_lr, alpha_y) grid differs from the config's", where);
    }
    return 0;
}

int bandit_load(Bandit *bandits, int n, const Checkpoint *ck, const char *name)
{
    Bandit *loaded = lpg_calloc((size_t)n, sizeof(Bandit), "bandits");
    if (!loaded)
        return -1;
    int rc = checkpoint_get_bytes(ck, name, loaded, (size_t)n * sizeof(Bandit));
    if (rc == 0)
        rc = check_loaded(loaded, bandits, n, ck, name);
    if (rc == 0)
        memcpy(bandits, loaded, (size_t)n * sizeof(Bandit));
    free(loaded);
    return rc;
}
