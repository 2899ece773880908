/* rng.h: the one random number generator every module uses (PCG32: 64-bit state, 32-bit output).
 * Small enough to keep one per environment copy; seeded deterministically so that a config and a
 * seed reproduce a run bit for bit. Streams for sub-components are derived with rng_split(). */
#ifndef LPG_RNG_H
#define LPG_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t state;
    uint64_t inc; /* stream selector, always odd */
} Rng;

/* The streams rng_seed is called with, one per consumer of a seed, so that two consumers given
 * the same seed never draw the same sequence. Changing one changes every run's numbers. */
#define RNG_STREAM_META_RUN  0x3e7aULL          /* meta_train: environments, arms, life seeds */
#define RNG_STREAM_LIFETIME  0x11feULL          /* one lifetime: θ_0, actions, critic, env seed */
#define RNG_STREAM_ENV       0x656e76ULL        /* "env": an environment batch's master */
#define RNG_STREAM_TRAIN     0x747261696eULL    /* "train": one seed of lpg train / eval */
#define RNG_STREAM_GRADCHECK 0x67726164ULL      /* "grad": gradcheck's setup */
#define RNG_STREAM_RENDER    0x72656e646572ULL  /* "render": lpg env --render's actions */
#define RNG_STREAM_LEVELS    0x6c766c73ULL      /* "lvls": the level sampler's draws */
#define RNG_STREAM_LEVEL_A2C 0x6c766c61326343ULL /* "lvla2cC": A2C scoring one level */
#define RNG_STREAM_ES_NOISE  0x65736e6f6973ULL  /* "esnois": ES perturbations, one key per pair */

/* Seeds rng from (seed, stream): different streams give independent sequences. */
void rng_seed(Rng *rng, uint64_t seed, uint64_t stream);

/* A new generator derived from rng's next outputs (advances rng). */
Rng rng_split(Rng *rng);

static inline uint32_t rng_u32(Rng *rng)
{
    uint64_t old = rng->state;
    rng->state = old * 6364136223846793005ULL + rng->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

/* Uniform in [0, 1) with 24 bits of precision (exact in float). */
static inline float rng_uniform(Rng *rng)
{
    return (float)(rng_u32(rng) >> 8) * (1.0f / 16777216.0f);
}

/* Uniform in [0, 1) with 53 bits of precision. */
double rng_uniform_double(Rng *rng);

/* Uniform integer in [0, n), n >= 1 (Lemire's multiply-shift; bias below 2^-32 * n). */
static inline uint32_t rng_below(Rng *rng, uint32_t n)
{
    return (uint32_t)(((uint64_t)rng_u32(rng) * (uint64_t)n) >> 32);
}

/* True with probability p (p <= 0 never, p >= 1 always). */
static inline int rng_bernoulli(Rng *rng, float p)
{
    return rng_uniform(rng) < p;
}

/* Standard normal (Box-Muller, double precision). */
double rng_normal(Rng *rng);

#endif
