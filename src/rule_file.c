/* rule_file.c: saving and loading the rule η as checkpoint sections (see rule_file.h). */
#include "rule_file.h"

#include <stdlib.h>

#include "util.h"

#define RULE_MAX_HIDDEN 4096
/* Largest |η| a rule file may hold. Trained rules stay far below (the committed ones below 4);
 * a larger value is a damaged or crafted file and would only saturate or overflow the rule. */
#define RULE_ETA_MAX 1e3

int rule_file_add(CheckpointWriter *writer, const RuleLayout *layout, const real *eta)
{
    int64_t hidden = layout->hidden;
    if (checkpoint_add_int64(writer, "rule_hidden", &hidden, 1))
        return -1;
    return checkpoint_add_real(writer, "eta", eta, layout->count);
}

real *rule_file_read(const Checkpoint *ck, RuleLayout *layout)
{
    int64_t hidden = 0;
    if (checkpoint_get_int64(ck, "rule_hidden", &hidden, 1))
        return NULL;
    if (hidden < 1 || hidden > RULE_MAX_HIDDEN) {
        lpg_error("%s: rule_hidden %lld is out of range [1, %d]", ck->path, (long long)hidden,
                  RULE_MAX_HIDDEN);
        return NULL;
    }
    rule_layout(layout, (int)hidden);
    real *eta = lpg_calloc(layout->count, sizeof(real), "rule parameters");
    if (eta && checkpoint_get_real(ck, "eta", eta, layout->count)) {
        free(eta);
        return NULL;
    }
    if (eta && checkpoint_check_reals(ck, "eta", eta, layout->count, RULE_ETA_MAX)) {
        free(eta);
        return NULL;
    }
    return eta;
}

real *rule_file_load(const char *path, RuleLayout *layout)
{
    Checkpoint ck;
    if (checkpoint_open(&ck, path))
        return NULL;
    real *eta = rule_file_read(&ck, layout);
    checkpoint_close(&ck);
    return eta;
}
