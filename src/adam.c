/* adam.c: Adam with bias correction and optional global-norm clipping on a flat array.
 * Moments are reals (float in the product), bias corrections and the clip scale doubles. */
#include "adam.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

AdamHyper adam_defaults(double lr)
{
    AdamHyper h = {.lr = lr, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .clip = 0.0};
    return h;
}

int adam_init(Adam *adam, size_t n, AdamHyper hyper)
{
    memset(adam, 0, sizeof *adam);
    adam->hyper = hyper;
    adam->n = n;
    adam->m = lpg_calloc(n, sizeof(real), "Adam first moments");
    adam->v = lpg_calloc(n, sizeof(real), "Adam second moments");
    if (!adam->m || !adam->v) {
        adam_free(adam);
        return -1;
    }
    return 0;
}

void adam_free(Adam *adam)
{
    free(adam->m);
    free(adam->v);
    memset(adam, 0, sizeof *adam);
}

double adam_global_norm(const real *x, size_t n)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += (double)x[i] * (double)x[i];
    return sqrt(sum);
}

double adam_step(Adam *adam, real *params, const real *grad)
{
    const AdamHyper *h = &adam->hyper;
    double norm = adam_global_norm(grad, adam->n);
    real scale = 1;
    if (h->clip > 0 && norm > h->clip)
        scale = (real)(h->clip / norm);
    adam->step++;
    double correction1 = 1.0 - pow(h->beta1, (double)adam->step);
    double correction2 = 1.0 - pow(h->beta2, (double)adam->step);
    /* lr * m_hat / (sqrt(v_hat) + eps) with m_hat = m / c1 and v_hat = v / c2. */
    real step_size = (real)(h->lr / correction1);
    real inv_sqrt_c2 = (real)(1.0 / sqrt(correction2));
    real b1 = (real)h->beta1, b2 = (real)h->beta2, eps = (real)h->eps;
    real one_minus_b1 = (real)(1.0 - h->beta1), one_minus_b2 = (real)(1.0 - h->beta2);
    real *m = adam->m, *v = adam->v;
    for (size_t i = 0; i < adam->n; i++) {
        real g = grad[i] * scale;
        m[i] = b1 * m[i] + one_minus_b1 * g;
        v[i] = b2 * v[i] + one_minus_b2 * g * g;
        params[i] -= step_size * m[i] / (real_sqrt(v[i]) * inv_sqrt_c2 + eps);
    }
    return norm;
}

static void section_name(char *out, size_t size, const char *prefix, const char *suffix)
{
    snprintf(out, size, "%s_%s", prefix, suffix);
}

int adam_save(const Adam *adam, CheckpointWriter *w, const char *prefix)
{
    char name[CHECKPOINT_NAME_MAX + 16];
    section_name(name, sizeof name, prefix, "m");
    int rc = checkpoint_add_real(w, name, adam->m, adam->n);
    section_name(name, sizeof name, prefix, "v");
    rc |= checkpoint_add_real(w, name, adam->v, adam->n);
    section_name(name, sizeof name, prefix, "step");
    rc |= checkpoint_add_int64(w, name, &adam->step, 1);
    return rc ? -1 : 0;
}

int adam_load(Adam *adam, const Checkpoint *ck, const char *prefix)
{
    char name[CHECKPOINT_NAME_MAX + 16];
    int64_t step = 0;
    section_name(name, sizeof name, prefix, "step");
    if (checkpoint_get_int64(ck, name, &step, 1))
        return -1;
    if (step < 0)
        return lpg_error("%s: section '%s' is negative (%lld)", ck->path, name, (long long)step);
    section_name(name, sizeof name, prefix, "m");
    if (checkpoint_get_real(ck, name, adam->m, adam->n))
        return -1;
    section_name(name, sizeof name, prefix, "v");
    if (checkpoint_get_real(ck, name, adam->v, adam->n))
        return -1;
    for (size_t i = 0; i < adam->n; i++)
        if (adam->v[i] < 0)
            return lpg_error("%s: section '%s': element %zu is negative (%g)", ck->path, name, i,
                             (double)adam->v[i]);
    adam->step = step;
    return 0;
}
