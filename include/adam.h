/* adam.h: the Adam optimiser (Kingma & Ba) on one flat real array: the rule's eta in
 * meta-training (by meta-gradient or ES), A2C's agents and the value fits of lpg analyse (a rule's
 * differentiable inner Adam step is inner_update.c's own).
 * State is the two moment arrays and the step count; one step is a loop over the array, with
 * optional clipping of the gradient by its global L2 norm first (clip = 0 turns it off). */
#ifndef LPG_ADAM_H
#define LPG_ADAM_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "real.h"

typedef struct {
    double lr;    /* learning rate (1e-4 for eta in the paper) */
    double beta1; /* 0.9 */
    double beta2; /* 0.999 */
    double eps;   /* 1e-8, added to sqrt(v_hat) */
    double clip;  /* global gradient-norm clip; 0 = no clipping */
} AdamHyper;

typedef struct {
    AdamHyper hyper;
    size_t n;     /* number of parameters */
    real *m, *v;  /* first and second moments, n each (owned) */
    int64_t step; /* steps taken, for the bias corrections */
} Adam;

/* The usual hyperparameters (0.9, 0.999, 1e-8) with this learning rate and no clipping. */
AdamHyper adam_defaults(double lr);

/* Allocates zeroed moments for n parameters. Returns 0 or -1 (reported); free with adam_free. */
int adam_init(Adam *adam, size_t n, AdamHyper hyper);
void adam_free(Adam *adam);

/* One update of params (n reals) from grad (n reals, not modified; clipped on the fly when
 * hyper.clip > 0 and its norm exceeds it). Returns the gradient's norm before clipping. */
double adam_step(Adam *adam, real *params, const real *grad);

/* Global L2 norm of n reals, accumulated in double. */
double adam_global_norm(const real *x, size_t n);

/* Adds sections "<prefix>_m", "<prefix>_v" (real, n) and "<prefix>_step" (int64) to w. */
int adam_save(const Adam *adam, CheckpointWriter *w, const char *prefix);

/* Reads those sections into an initialised adam of the same n. Returns 0, or -1 (reported)
 * with adam possibly partly overwritten: the caller gives up on the resume then. */
int adam_load(Adam *adam, const Checkpoint *ck, const char *prefix);

#endif
