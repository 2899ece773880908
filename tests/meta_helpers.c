/* meta_helpers.c: what the meta-training tests share (see meta_helpers.h). */
#include "meta_helpers.h"

#include <stdlib.h>
#include <string.h>

#include "meta_train.h"

real *meta_eta_after(const char *config, int steps, int noverrides, char **over, size_t *count)
{
    MetaRun run;
    if (meta_run_init(&run, config, noverrides, over)) {
        meta_run_free(&run);
        return NULL;
    }
    MetaStepStats st;
    for (int s = 0; s < steps; s++)
        if (meta_run_step(&run, &st))
            break;
    real *eta = malloc(run.layout.count * sizeof(real));
    if (eta)
        memcpy(eta, run.eta, run.layout.count * sizeof(real));
    if (count)
        *count = run.layout.count;
    meta_run_free(&run);
    return eta;
}
