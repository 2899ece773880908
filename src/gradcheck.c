/* gradcheck.c: one environment's meta-gradient check (see gradcheck.h). */
#include "gradcheck.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lifetime.h"
#include "metagrad.h"
#include "rule.h"
#include "util.h"

#ifdef LPG_DOUBLE
#define REAL_EPSILON DBL_EPSILON
#else
#define REAL_EPSILON FLT_EPSILON
#endif

/* Everything one check owns: a lifetime (as meta-training runs it) and a rule. */
typedef struct {
    Lifetime life;
    RuleLayout layout;
    real *eta, *grad; /* [layout.count] η and dJ/dη */
    Rng rng;
} Check;

void gradcheck_default_options(GradcheckOptions *o)
{
    memset(o, 0, sizeof *o);
    o->copies = 4;
    o->unroll = 8;
    o->samples = 12;
    /* The difference of two J near |J| carries about 0.2 ε |J| of round-off (measured), so a
     * floor of 100 ε |J| / h keeps it below 1e-2 of the floor. In double that is 1e-12 or so,
     * far below 1e-3 x the largest coordinate: it only matters in float. */
    o->roundoff_ratio = 100;
#ifdef LPG_DOUBLE
    /* Round-off over h = 2e-3 stays near 1e-7 of the floor, and the truncation error,
     * h^4 f^(5) / 30, far below it. */
    o->step = 2e-3;
    o->floor_ratio = 1e-3;
    o->threshold = 1e-6;
#else
    /* Float resolves J only to about 1e-8: a larger step (with more truncation error), a floor
     * of 0.1 x the largest coordinate and a looser threshold. It catches wrong signs and
     * scales, not subtle errors; build/lpg-double is the exact check. */
    o->step = 3e-2;
    o->floor_ratio = 1e-1;
    o->threshold = 1e-2;
#endif
}

static void check_free(Check *c)
{
    lifetime_free(&c->life);
    free(c->eta);
    free(c->grad);
}

/* A lifetime of the config's kind on env, with the check's rollout sizes and α = the first arm
 * of the bandit grid, and a freshly initialised rule. The lifetime's WindowParams carry the
 * config's input_grad, so window_meta_gradient and window_replay below both honour it. */
static int check_init(Check *c, const MetaConfig *config, const EnvSpec *env,
                      const GradcheckOptions *o, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    rng_seed(&c->rng, seed, RNG_STREAM_GRADCHECK);
    MetaConfig sized = *config;
    sized.copies = o->copies;
    sized.unroll = o->unroll;
    const ConfigDoubleList *lrs = env->num_states > 0 ? &config->tabular_lrs : &config->mlp_lrs;
    meta_config_rule_layout(config, &c->layout);
    c->eta = lpg_calloc(c->layout.count, sizeof(real), "gradcheck eta");
    c->grad = lpg_calloc(c->layout.count, sizeof(real), "gradcheck gradient");
    if (!c->eta || !c->grad ||
        lifetime_start(&c->life, &sized, env, 0, 0, lrs->item[0], config->alpha_ys.item[0],
                       config->K, 0, &c->layout, seed)) {
        check_free(c);
        return -1;
    }
    rule_init(c->eta, &c->layout, &c->rng);
    return 0;
}

/* J with η_i moved by delta. (In float the step actually taken is (real)(η_i + delta) - η_i,
 * off by a relative 1e-7 |η_i| / h: far below the float threshold.) */
static double replay_at(Check *c, size_t i, double delta)
{
    real saved = c->eta[i];
    c->eta[i] = (real)(saved + delta);
    Lifetime *life = &c->life;
    double J = window_replay(&life->window, &life->agent, &life->awork, life->rwork, c->eta,
                             &c->layout, &life->params);
    c->eta[i] = saved;
    return J;
}

static double stencil(Check *c, size_t i, double h)
{
    return (8 * (replay_at(c, i, h) - replay_at(c, i, -h)) -
            (replay_at(c, i, 2 * h) - replay_at(c, i, -2 * h))) / (12 * h);
}

static double relative_error(double a, double b, double floor)
{
    double scale = fmax(fmax(fabs(a), fabs(b)), floor);
    double err = scale > 0 ? fabs(a - b) / scale : 0;
    return isfinite(err) ? err : INFINITY;
}

/* The error of coordinate i at step h; if that fails the threshold, the best of that and the
 * steps 4h, h/10 and h/100, tried in turn until one passes (counted in *retried). Round-off in
 * J grows as 1/h, so a larger step helps a small coordinate; a relu kink of the MLP agent
 * inside [η-2h, η+2h] breaks a difference, and smaller steps step over it. A wrong gradient
 * would have to match one of the differences to the threshold to pass. */
static double coordinate_error(Check *c, const GradcheckOptions *o, size_t i, double floor,
                               int *retried)
{
    static const double retry_steps[] = {4, 0.1, 0.01};
    double err = relative_error(c->grad[i], stencil(c, i, o->step), floor);
    if (err < o->threshold)
        return err;
    ++*retried;
    for (int r = 0; r < 3 && err >= o->threshold; r++)
        err = fmin(err, relative_error(c->grad[i], stencil(c, i, retry_steps[r] * o->step), floor));
    return err;
}

/* Compares up to o->samples coordinates of [start, end), spread evenly from a random offset. */
static void check_group(Check *c, const GradcheckOptions *o, size_t start, size_t end,
                        double floor, GradcheckGroup *group)
{
    size_t size = end - start;
    size_t count = size < (size_t)o->samples ? size : (size_t)o->samples;
    double offset = count < size ? rng_uniform_double(&c->rng) : 0;
    group->size = size;
    group->checked = (int)count;
    group->worst = 0;
    group->retried = 0;
    for (size_t k = 0; k < count; k++) {
        size_t i = start + (size_t)(((double)k + offset) * (double)size / (double)count);
        group->worst = fmax(group->worst, coordinate_error(c, o, i, floor, &group->retried));
    }
}

static void check_groups(Check *c, const GradcheckOptions *o, GradcheckResult *result)
{
    const RuleLayout *l = &c->layout;
    result->passed = 1;
    for (int g = 0; g < RULE_GROUPS; g++) {
        result->group[g].name = rule_group_names[g];
        check_group(c, o, l->at[g], l->at[g + 1], result->floor, &result->group[g]);
        if (!(result->group[g].worst < o->threshold))
            result->passed = 0;
    }
}

int gradcheck_env(const MetaConfig *config, const EnvSpec *env, const GradcheckOptions *o,
                  uint64_t seed, GradcheckResult *result)
{
    memset(result, 0, sizeof *result);
    Check c;
    if (check_init(&c, config, env, o, seed))
        return -1;
    Lifetime *life = &c.life;
    result->kind = life->agent.spec.kind;
    result->agent_params = life->agent.num_params;
    result->rule_params = c.layout.count;
    result->alpha_lr = life->params.alpha_lr;
    result->alpha_y = life->params.alpha_y;
    result->adam = life->window.adam;
    int64_t episodes = 0;
    double return_sum = 0;
    lifetime_collect(life, c.eta, &c.layout, &episodes, &return_sum);
    result->J = window_meta_gradient(&life->window, &life->agent, &life->awork, life->rwork,
                                     c.eta, &c.layout, &life->params, c.grad);
    for (size_t i = 0; i < c.layout.count; i++)
        result->max_grad = fmax(result->max_grad, fabs((double)c.grad[i]));
    result->roundoff_floor = o->roundoff_ratio * REAL_EPSILON * fabs(result->J) / o->step;
    result->floor = fmax(o->floor_ratio * result->max_grad, result->roundoff_floor);
    result->resolved = result->max_grad > result->roundoff_floor;
    check_groups(&c, o, result);
    check_free(&c);
    return 0;
}
