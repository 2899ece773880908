/* es.h: the evolution-strategies estimate of a gradient (docs/method.md §13), on its own, for any
 * fitness. A generation of P antithetic pairs evaluates 2P members: member m is pair p = m / 2,
 * with parameters η + σε_p for even m and η − σε_p for odd m. ε_p ~ N(0, I) comes from a
 * generator keyed by (seed, generation, pair) alone, so whichever thread or rank builds a member
 * draws the same ε. The estimate is
 *     ĝ = (1 / (2Pσ)) Σ_p (F_{2p} − F_{2p+1}) ε_p,
 * with F the members' fitnesses as given or replaced by their centred ranks (fitness shaping).
 * Antithetic pairs cancel every even part of F: for F(η + x) = F(η − x) the pair adds nothing. */
#ifndef LPG_ES_H
#define LPG_ES_H

#include <stddef.h>
#include <stdint.h>

#include "real.h"

/* One generation around eta. */
typedef struct {
    const real *eta;      /* [count] the centre (not owned) */
    size_t count;
    int pairs;            /* P */
    double sigma;         /* σ > 0 */
    uint64_t seed;        /* the run's seed */
    int64_t generation;   /* generations done before this one */
} EsGeneration;

typedef enum {
    ES_SHAPE_NONE,          /* F as the fitness function gives it */
    ES_SHAPE_CENTRED_RANKS  /* F_m = rank_m / (2P − 1) − 1/2, ties sharing their mean rank */
} EsShaping;

/* ε of pair p [g->count], in double. */
void es_noise(const EsGeneration *g, int pair, double *eps);

/* Member m's parameters into out [g->count]: eta ± sigma ε (in real, rounded once); eps is
 * scratch [g->count] and holds ε of m's pair afterwards. */
void es_member(const EsGeneration *g, int member, double *eps, real *out);

/* The centred ranks of count values into shaped [count]: the smallest −1/2, the largest +1/2,
 * equal values their mean rank (so members that tie pull nowhere; a single value gets 0).
 * Returns 0, or -1 after reporting (allocation). */
int es_centred_ranks(const double *fitness, int count, double *shaped);

/* ĝ from the members' shaped fitnesses shaped [2P] into grad [g->count] (sums in double,
 * pairs in order, rounded once); eps is scratch [g->count]. Returns 0, or -1 after reporting. */
int es_gradient(const EsGeneration *g, const double *shaped, double *eps, real *grad);

/* Fills fitness [2P] for the generation's members (es_member gives their parameters).
 * Returns 0, or -1 after reporting. */
typedef int (*EsFitnessFn)(void *ctx, const EsGeneration *g, double *fitness);

/* The whole estimate: fitness of every member from fn, shaped, then ĝ into grad [g->count].
 * fitness_out [2P], when not NULL, receives the fitnesses as fn gave them. Returns 0, or -1. */
int es_estimate(const EsGeneration *g, EsFitnessFn fn, void *ctx, EsShaping shaping, real *grad,
                double *fitness_out);

#endif
