/* es.c: the evolution-strategies estimator (see es.h): per-pair noise, members, centred ranks,
 * the antithetic estimate. */
#include "es.h"

#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "stats.h"
#include "util.h"

/* SplitMix64's finaliser: a bijection that spreads every input bit over the output. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void es_noise(const EsGeneration *g, int pair, double *eps)
{
    uint64_t key = mix64(mix64(mix64(g->seed) ^ (uint64_t)g->generation) ^ (uint64_t)pair);
    Rng rng;
    rng_seed(&rng, key, RNG_STREAM_ES_NOISE);
    for (size_t j = 0; j < g->count; j++)
        eps[j] = rng_normal(&rng);
}

void es_member(const EsGeneration *g, int member, double *eps, real *out)
{
    es_noise(g, member / 2, eps);
    double step = member % 2 == 0 ? g->sigma : -g->sigma;
    for (size_t j = 0; j < g->count; j++)
        out[j] = (real)((double)g->eta[j] + step * eps[j]);
}

int es_centred_ranks(const double *fitness, int count, double *shaped)
{
    RankedValue *r = lpg_calloc((size_t)count, sizeof *r, "ES ranks");
    if (!r)
        return -1;
    for (int i = 0; i < count; i++)
        r[i] = (RankedValue){fitness[i], i};
    sort_ranked(r, count);
    for (int first = 0, end; count >= 2 && first < count; first = end) {
        for (end = first + 1; end < count && r[end].value == r[first].value;)
            end++;
        double rank = 0.5 * (first + end - 1); /* the tied run's mean rank */
        for (int i = first; i < end; i++)
            shaped[r[i].index] = rank / (count - 1) - 0.5;
    }
    if (count == 1)
        shaped[0] = 0;
    free(r);
    return 0;
}

int es_gradient(const EsGeneration *g, const double *shaped, double *eps, real *grad)
{
    double *sum = lpg_calloc(g->count, sizeof *sum, "ES gradient");
    if (!sum)
        return -1;
    for (int p = 0; p < g->pairs; p++) {
        double weight = shaped[2 * p] - shaped[2 * p + 1];
        if (weight == 0)
            continue; /* a tied pair: ε would add exact zeros */
        es_noise(g, p, eps);
        for (size_t j = 0; j < g->count; j++)
            sum[j] += weight * eps[j];
    }
    double scale = 1.0 / (2.0 * g->pairs * g->sigma);
    for (size_t j = 0; j < g->count; j++)
        grad[j] = (real)(sum[j] * scale);
    free(sum);
    return 0;
}

int es_estimate(const EsGeneration *g, EsFitnessFn fn, void *ctx, EsShaping shaping, real *grad,
                double *fitness_out)
{
    int members = 2 * g->pairs;
    double *fitness = lpg_calloc((size_t)members, sizeof *fitness, "ES fitness");
    double *shaped = lpg_calloc((size_t)members, sizeof *shaped, "ES fitness");
    double *eps = lpg_calloc(g->count, sizeof *eps, "ES noise");
    int rc = fitness && shaped && eps ? 0 : -1;
    rc = rc || fn(ctx, g, fitness);
    if (rc == 0 && shaping == ES_SHAPE_CENTRED_RANKS)
        rc = es_centred_ranks(fitness, members, shaped);
    else if (rc == 0)
        memcpy(shaped, fitness, (size_t)members * sizeof *shaped);
    rc = rc || es_gradient(g, shaped, eps, grad);
    if (rc == 0 && fitness_out)
        memcpy(fitness_out, fitness, (size_t)members * sizeof *fitness);
    free(fitness);
    free(shaped);
    free(eps);
    return rc ? -1 : 0;
}
