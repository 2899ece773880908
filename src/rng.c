/* rng.c: seeding and the non-inline draws of the PCG32 generator. */
#include "rng.h"

#include <math.h>

void rng_seed(Rng *rng, uint64_t seed, uint64_t stream)
{
    rng->state = 0;
    rng->inc = (stream << 1u) | 1u;
    (void)rng_u32(rng);
    rng->state += seed;
    (void)rng_u32(rng);
}

Rng rng_split(Rng *rng)
{
    uint64_t seed = ((uint64_t)rng_u32(rng) << 32) | rng_u32(rng);
    uint64_t stream = ((uint64_t)rng_u32(rng) << 32) | rng_u32(rng);
    Rng child;
    rng_seed(&child, seed, stream);
    return child;
}

double rng_uniform_double(Rng *rng)
{
    uint64_t bits = ((uint64_t)rng_u32(rng) << 21) ^ (uint64_t)rng_u32(rng);
    return (double)(bits & ((1ULL << 53) - 1)) * (1.0 / 9007199254740992.0);
}

double rng_normal(Rng *rng)
{
    double u1 = rng_uniform_double(rng);
    double u2 = rng_uniform_double(rng);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
