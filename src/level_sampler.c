/* level_sampler.c: levels for lifetimes on procedural environments, replayed by regret against
 * tuned A2C (see level_sampler.h). */
#include "level_sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "level_a2c.h"
#include "util.h"

int level_is_procedural(const EnvSpec *spec)
{
    return spec->kind == ENV_PROCEDURAL_GRID || spec->kind == ENV_PROCEDURAL_RANDOM_GRID;
}

/* The A2C settings of the kind of procedural environment spec. */
static const TrainConfig *a2c_for(const LevelSampler *s, const EnvSpec *spec)
{
    return spec->kind == ENV_PROCEDURAL_GRID ? &s->a2c_tabular : &s->a2c_random;
}

/* Loads the A2C configs of the kinds among the run's environments. */
static int load_a2c(LevelSampler *s, const MetaConfig *c, const char *where)
{
    int need_tabular = 0, need_random = 0;
    for (int e = 0; e < s->num_envs; e++) {
        need_tabular |= s->specs[e].kind == ENV_PROCEDURAL_GRID;
        need_random |= s->specs[e].kind == ENV_PROCEDURAL_RANDOM_GRID;
    }
    if (need_tabular && level_a2c_load(&s->a2c_tabular, c->level_a2c_tabular_grid,
                                       "level_a2c_tabular_grid", where))
        return -1;
    if (need_random && level_a2c_load(&s->a2c_random, c->level_a2c_random_grid,
                                      "level_a2c_random_grid", where))
        return -1;
    return 0;
}

int level_sampler_init(LevelSampler *s, const MetaConfig *c, const char *where,
                       const EnvSpec *specs, int num_envs, const int *a2c_updates)
{
    memset(s, 0, sizeof *s);
    if (!c->level_regret)
        return 0;
    s->enabled = 1;
    s->capacity = c->level_buffer_size;
    s->replay_prob = c->level_replay_prob;
    s->temperature = c->level_temperature;
    s->staleness = c->level_staleness;
    rng_seed(&s->rng, (uint64_t)c->seed, RNG_STREAM_LEVELS);
    s->num_envs = num_envs;
    s->lifetimes = c->lifetimes;
    s->specs = specs;
    s->copies = c->copies;
    s->unroll = c->unroll;
    s->a2c_updates = lpg_calloc((size_t)num_envs, sizeof(int), "A2C run lengths");
    s->buffers = lpg_calloc((size_t)num_envs, sizeof *s->buffers, "level buffers");
    s->lives = lpg_calloc((size_t)c->lifetimes, sizeof *s->lives, "lifetime levels");
    s->weights = lpg_calloc((size_t)s->capacity, sizeof(double), "replay probabilities");
    s->ranks = lpg_calloc((size_t)s->capacity, sizeof *s->ranks, "level ranks");
    if (!s->a2c_updates || !s->buffers || !s->lives || !s->weights || !s->ranks)
        return -1;
    memcpy(s->a2c_updates, a2c_updates, (size_t)num_envs * sizeof(int));
    for (int e = 0; e < num_envs; e++)
        if (level_is_procedural(&specs[e]) &&
            !(s->buffers[e].levels = lpg_calloc((size_t)s->capacity, sizeof(Level), "level buffer")))
            return -1;
    for (int i = 0; i < s->lifetimes; i++)
        s->lives[i].a2c = NAN;
    return load_a2c(s, c, where);
}

void level_sampler_free(LevelSampler *s)
{
    for (int e = 0; s->buffers && e < s->num_envs; e++)
        free(s->buffers[e].levels);
    free(s->buffers);
    free(s->lives);
    free(s->a2c_updates);
    free(s->weights);
    free(s->ranks);
    memset(s, 0, sizeof *s);
}

/* ---- the replay distribution ---------------------------------------------------------- */

/* Highest score first; equal scores by buffer position. */
static int by_score(const void *a, const void *b)
{
    const LevelRank *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->at - y->at;
}

void level_replay_probabilities(const LevelBuffer *b, double temperature, double staleness,
                                int64_t now, LevelRank *ranks, double *p)
{
    int n = b->count;
    for (int i = 0; i < n; i++)
        ranks[i] = (LevelRank){b->levels[i].score, i};
    qsort(ranks, (size_t)n, sizeof *ranks, by_score);
    double rank_sum = 0, stale_sum = 0;
    for (int r = 0; r < n; r++)
        rank_sum += pow(1.0 / (r + 1), 1.0 / temperature);
    for (int i = 0; i < n; i++)
        stale_sum += (double)(now - b->levels[i].last_used);
    for (int r = 0; r < n; r++)
        p[ranks[r].at] = (1 - staleness) * pow(1.0 / (r + 1), 1.0 / temperature) / rank_sum;
    for (int i = 0; i < n; i++) {
        double stale = stale_sum > 0 ? (double)(now - b->levels[i].last_used) / stale_sum
                                     : 1.0 / n;
        p[i] += staleness * stale;
    }
}

/* The index whose cumulative probability first exceeds u (the last one when rounding leaves u
 * above the total). */
static int draw_index(const double *p, int n, double u)
{
    double cum = 0;
    for (int i = 0; i < n; i++) {
        cum += p[i];
        if (u < cum)
            return i;
    }
    return n - 1;
}

/* ---- lifetimes ------------------------------------------------------------------------- */

int level_sampler_pick(LevelSampler *s, int i, int env, int report, int64_t step,
                       uint64_t *level)
{
    if (!s->enabled)
        return 0;
    LevelLife *life = &s->lives[i];
    if (!level_is_procedural(&s->specs[env])) {
        *life = (LevelLife){.a2c = NAN};
        return 0;
    }
    *life = (LevelLife){.on_level = 1, .reports = report, .env = env, .a2c = NAN};
    LevelBuffer *b = &s->buffers[env];
    int replay = rng_uniform_double(&s->rng) < s->replay_prob;
    if (replay && b->count > 0) {
        level_replay_probabilities(b, s->temperature, s->staleness, step, s->ranks, s->weights);
        Level *chosen = &b->levels[draw_index(s->weights, b->count, rng_uniform_double(&s->rng))];
        chosen->last_used = step;
        s->replays++;
        life->seed = chosen->seed;
        life->a2c = chosen->a2c; /* known: no second A2C run on it */
    } else {
        life->seed = ((uint64_t)rng_u32(&s->rng) << 32) | rng_u32(&s->rng);
    }
    *level = life->seed;
    return 1;
}

void level_sampler_after_window(LevelSampler *s, int i, int finished)
{
    if (!s->enabled)
        return;
    LevelLife *life = &s->lives[i];
    if (!finished || !life->on_level || !life->reports || !isnan(life->a2c))
        return;
    const EnvSpec *spec = &s->specs[life->env];
    double start = thread_cpu_seconds();
    if (level_a2c_return(a2c_for(s, spec), spec, life->seed, s->copies, s->unroll,
                         s->a2c_updates[life->env], &life->a2c))
        life->a2c_failed = 1;
    else if (isnan(life->a2c))
        fprintf(stderr, "lpg: note: A2C's parameters stopped being finite on level %llu of %s; "
                "that lifetime's level is not scored\n", (unsigned long long)life->seed,
                spec->name);
    life->a2c_seconds = thread_cpu_seconds() - start;
    life->a2c_ran = 1;
}

double level_sampler_life_a2c(const LevelSampler *s, int i)
{
    return s->enabled ? s->lives[i].a2c : NAN;
}

void level_sampler_set_life_a2c(LevelSampler *s, int i, double a2c)
{
    if (s->enabled)
        s->lives[i].a2c = a2c;
}

int level_sampler_finish(LevelSampler *s, int i, double final_return, int64_t step)
{
    if (!s->enabled || !s->lives[i].on_level)
        return 0;
    LevelLife *life = &s->lives[i];
    if (life->a2c_failed)
        return lpg_error("meta-step %lld: A2C on level %llu of %s could not run (above)",
                         (long long)step, (unsigned long long)life->seed,
                         s->specs[life->env].name);
    if (life->a2c_ran) {
        s->a2c_runs++;
        s->a2c_seconds += life->a2c_seconds;
    }
    double score = life->a2c - final_return;
    if (life->reports && isfinite(score)) {
        Level scored = {life->seed, score, life->a2c, step};
        level_buffer_add(&s->buffers[life->env], s->capacity, &scored);
    }
    *life = (LevelLife){.a2c = NAN};
    return 0;
}

/* ---- the buffer ------------------------------------------------------------------------ */

int level_buffer_add(LevelBuffer *b, int capacity, const Level *level)
{
    for (int i = 0; i < b->count; i++)
        if (b->levels[i].seed == level->seed) {
            b->levels[i] = *level;
            return i;
        }
    if (b->count < capacity) {
        b->levels[b->count] = *level;
        return b->count++;
    }
    int lowest = 0;
    for (int i = 1; i < b->count; i++)
        if (b->levels[i].score < b->levels[lowest].score)
            lowest = i;
    if (b->count == 0 || !(level->score > b->levels[lowest].score))
        return -1;
    b->levels[lowest] = *level;
    return lowest;
}

double level_buffer_mean_score(const LevelBuffer *b)
{
    if (b->count == 0)
        return NAN;
    double sum = 0;
    for (int i = 0; i < b->count; i++)
        sum += b->levels[i].score;
    return sum / b->count;
}

/* ---- checkpoints ----------------------------------------------------------------------- */

/* "levels_count": per environment, its buffer's size. "levels": per level, LEVEL_FIELDS int64
 * (doubles as their bits), buffer after buffer. "levels_lives": per lifetime, LIFE_FIELDS. */
enum { LEVEL_SEED, LEVEL_SCORE, LEVEL_A2C, LEVEL_LAST_USED, LEVEL_FIELDS };
enum { LIFE_ON_LEVEL, LIFE_REPORTS, LIFE_ENV, LIFE_SEED, LIFE_A2C, LIFE_FIELDS };

static int64_t bits_of(double x)
{
    int64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits;
}

static double double_of(int64_t bits)
{
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

static int64_t total_levels(const LevelSampler *s)
{
    int64_t total = 0;
    for (int e = 0; e < s->num_envs; e++)
        total += s->buffers[e].count;
    return total;
}

int level_sampler_save(const LevelSampler *s, CheckpointWriter *w)
{
    if (!s->enabled)
        return 0;
    int64_t total = total_levels(s), at = 0;
    int64_t *counts = lpg_calloc((size_t)s->num_envs, sizeof(int64_t), "level counts");
    int64_t *levels = lpg_calloc((size_t)(total > 0 ? total : 1) * LEVEL_FIELDS, sizeof(int64_t),
                                 "level table");
    int64_t *lives = lpg_calloc((size_t)s->lifetimes * LIFE_FIELDS, sizeof(int64_t),
                                "lifetime level table");
    int rc = counts && levels && lives ? 0 : -1;
    for (int e = 0; rc == 0 && e < s->num_envs; e++) {
        counts[e] = s->buffers[e].count;
        for (int j = 0; j < s->buffers[e].count; j++, at++) {
            const Level *l = &s->buffers[e].levels[j];
            int64_t *row = levels + at * LEVEL_FIELDS;
            row[LEVEL_SEED] = (int64_t)l->seed, row[LEVEL_SCORE] = bits_of(l->score);
            row[LEVEL_A2C] = bits_of(l->a2c), row[LEVEL_LAST_USED] = l->last_used;
        }
    }
    for (int i = 0; rc == 0 && i < s->lifetimes; i++) {
        const LevelLife *l = &s->lives[i];
        int64_t *row = lives + (size_t)i * LIFE_FIELDS;
        row[LIFE_ON_LEVEL] = l->on_level, row[LIFE_REPORTS] = l->reports, row[LIFE_ENV] = l->env;
        row[LIFE_SEED] = (int64_t)l->seed, row[LIFE_A2C] = bits_of(l->a2c);
    }
    rc = rc || checkpoint_add_bytes(w, "levels_rng", &s->rng, sizeof s->rng);
    rc = rc || checkpoint_add_int64(w, "levels_count", counts, (size_t)s->num_envs);
    rc = rc || (total > 0 && checkpoint_add_int64(w, "levels", levels, (size_t)total * LEVEL_FIELDS));
    rc = rc || checkpoint_add_int64(w, "levels_lives", lives, (size_t)s->lifetimes * LIFE_FIELDS);
    free(counts);
    free(levels);
    free(lives);
    return rc ? -1 : 0;
}

/* Checks and takes one saved level of environment e; NULL when it fits, else what is wrong. */
static const char *take_level(LevelSampler *s, int e, const int64_t *row, int64_t step)
{
    Level l = {(uint64_t)row[LEVEL_SEED], double_of(row[LEVEL_SCORE]), double_of(row[LEVEL_A2C]),
               row[LEVEL_LAST_USED]};
    if (!isfinite(l.score) || !isfinite(l.a2c))
        return "a score or A2C return is not finite";
    if (l.last_used < 0 || l.last_used > step)
        return "last used after the checkpoint's step";
    s->buffers[e].levels[s->buffers[e].count++] = l;
    return NULL;
}

/* Checks and takes lifetime i's saved level; NULL when it fits. */
static const char *take_life(LevelSampler *s, int i, const int64_t *row)
{
    LevelLife l = {(int)row[LIFE_ON_LEVEL], (int)row[LIFE_REPORTS], (int)row[LIFE_ENV],
                   (uint64_t)row[LIFE_SEED], double_of(row[LIFE_A2C]), 0, 0, 0};
    if ((row[LIFE_ON_LEVEL] != 0 && row[LIFE_ON_LEVEL] != 1) ||
        (row[LIFE_REPORTS] != 0 && row[LIFE_REPORTS] != 1))
        return "a flag is neither 0 nor 1";
    if (l.on_level && (row[LIFE_ENV] < 0 || row[LIFE_ENV] >= s->num_envs ||
                       !level_is_procedural(&s->specs[l.env])))
        return "its environment is not a procedural one of the run";
    if (isinf(l.a2c))
        return "its A2C return is infinite";
    s->lives[i] = l;
    return NULL;
}

static int load_levels(LevelSampler *s, const Checkpoint *ck, const int64_t *counts,
                       int64_t step)
{
    int64_t total = 0;
    for (int e = 0; e < s->num_envs; e++) {
        if (counts[e] < 0 || counts[e] > s->capacity ||
            (counts[e] > 0 && !level_is_procedural(&s->specs[e])))
            return lpg_error("%s: section 'levels_count': environment %d holds %lld levels (the "
                             "config's level_buffer_size is %d; only procedural environments "
                             "hold levels)", ck->path, e, (long long)counts[e], s->capacity);
        total += counts[e];
    }
    if (total == 0)
        return 0;
    int64_t *levels = lpg_calloc((size_t)total * LEVEL_FIELDS, sizeof(int64_t), "level table");
    int rc = !levels || checkpoint_get_int64(ck, "levels", levels, (size_t)total * LEVEL_FIELDS);
    const int64_t *row = levels;
    for (int e = 0; rc == 0 && e < s->num_envs; e++)
        for (int64_t j = 0; rc == 0 && j < counts[e]; j++, row += LEVEL_FIELDS) {
            const char *why = take_level(s, e, row, step);
            if (why)
                rc = lpg_error("%s: section 'levels': environment %d, level %lld: %s", ck->path,
                               e, (long long)j, why);
        }
    free(levels);
    return rc ? -1 : 0;
}

int level_sampler_load(LevelSampler *s, const Checkpoint *ck, int64_t step)
{
    if (!s->enabled || !checkpoint_find(ck, "levels_rng"))
        return 0;
    int64_t *counts = lpg_calloc((size_t)s->num_envs, sizeof(int64_t), "level counts");
    int64_t *lives = lpg_calloc((size_t)s->lifetimes * LIFE_FIELDS, sizeof(int64_t),
                                "lifetime level table");
    int rc = !counts || !lives;
    rc = rc || checkpoint_get_bytes(ck, "levels_rng", &s->rng, sizeof s->rng);
    if (rc == 0 && (s->rng.inc & 1u) == 0)
        rc = lpg_error("%s: section 'levels_rng': the stream selector is even", ck->path);
    rc = rc || checkpoint_get_int64(ck, "levels_count", counts, (size_t)s->num_envs);
    rc = rc || load_levels(s, ck, counts, step);
    rc = rc || checkpoint_get_int64(ck, "levels_lives", lives, (size_t)s->lifetimes * LIFE_FIELDS);
    for (int i = 0; rc == 0 && i < s->lifetimes; i++) {
        const char *why = take_life(s, i, lives + (size_t)i * LIFE_FIELDS);
        if (why)
            rc = lpg_error("%s: section 'levels_lives': lifetime %d: %s", ck->path, i, why);
    }
    free(counts);
    free(lives);
    return rc ? -1 : 0;
}

void level_sampler_print(const LevelSampler *s, FILE *out, double cpu_seconds)
{
    if (!s->enabled)
        return;
    fprintf(out, "  levels:");
    for (int e = 0; e < s->num_envs; e++)
        if (level_is_procedural(&s->specs[e]))
            fprintf(out, " %s %d (regret %.3g)", s->specs[e].name, s->buffers[e].count,
                    level_buffer_mean_score(&s->buffers[e]));
    fprintf(out, "; %lld replays; A2C scoring %lld runs, %.1f s of %.1f s CPU (%.1f%%)\n",
            (long long)s->replays, (long long)s->a2c_runs, s->a2c_seconds, cpu_seconds,
            cpu_seconds > 0 ? 100 * s->a2c_seconds / cpu_seconds : 0.0);
}
