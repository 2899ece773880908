/* rule_file.c: saving and loading the rule η as checkpoint sections (see rule_file.h). */
#include "rule_file.h"

#include <math.h>
#include <stdlib.h>

#include "util.h"

#define RULE_MAX_HIDDEN 4096
/* Largest |η| a rule file may hold. Trained rules stay far below (the committed ones below 4);
 * a larger value is a damaged or crafted file and would only saturate or overflow the rule. */
#define RULE_ETA_MAX 1e3

int rule_file_add(CheckpointWriter *writer, const RuleLayout *layout, const real *eta)
{
    int64_t hidden = layout->hidden, kind[2] = {layout->method, layout->y_raw};
    double value[3] = {layout->value_lr, layout->value_tabular_lr, layout->value_lambda};
    int64_t lifetime_inputs = layout->lifetime_inputs;
    if (checkpoint_add_int64(writer, "rule_hidden", &hidden, 1) ||
        checkpoint_add_int64(writer, "rule_kind", kind, 2) ||
        (layout->lifetime_inputs &&
         checkpoint_add_int64(writer, "rule_lifetime_inputs", &lifetime_inputs, 1)) ||
        (layout->method == RULE_LPG_V &&
         checkpoint_add_bytes(writer, "rule_value", value, sizeof value)))
        return -1;
    return checkpoint_add_real(writer, "eta", eta, layout->count);
}

/* The kind sections into layout (width already set); absent: LPG. Returns 0 or -1 (reported). */
static int read_kind(const Checkpoint *ck, RuleLayout *layout)
{
    if (!checkpoint_find(ck, "rule_kind"))
        return 0;
    int64_t kind[2];
    if (checkpoint_get_int64(ck, "rule_kind", kind, 2))
        return -1;
    if (kind[0] < 0 || kind[0] > RULE_LPG_V || kind[1] < 0 || kind[1] > 1 ||
        (kind[0] == RULE_LPG_V && kind[1]))
        return lpg_error("%s: section 'rule_kind': (%lld, %lld) is no kind of rule (method 0 LPG "
                         "or 1 LPG-V, y_raw 0 or 1, LPG-V without y_raw)", ck->path,
                         (long long)kind[0], (long long)kind[1]);
    layout->method = (RuleMethod)kind[0];
    layout->y_raw = (int)kind[1];
    if (layout->method != RULE_LPG_V)
        return 0;
    double value[3];
    if (checkpoint_get_bytes(ck, "rule_value", value, sizeof value))
        return -1;
    if (!isfinite(value[0]) || value[0] < 0 || value[0] > 1e6 || !(value[1] >= 0 && value[1] <= 1) ||
        !(value[2] >= 0 && value[2] <= 1))
        return lpg_error("%s: section 'rule_value': the value's settings (%g, %g, %g) are out of "
                         "range (value_lr in [0, 1e6], value_tabular_lr and value_lambda in [0, 1])",
                         ck->path, value[0], value[1], value[2]);
    layout->value_lr = value[0];
    layout->value_tabular_lr = value[1];
    layout->value_lambda = value[2];
    return 0;
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
    int64_t lifetime_inputs = 0; /* absent (every rule before lifetime inputs): 0 */
    if (checkpoint_find(ck, "rule_lifetime_inputs") &&
        checkpoint_get_int64(ck, "rule_lifetime_inputs", &lifetime_inputs, 1))
        return NULL;
    if (lifetime_inputs != 0 && lifetime_inputs != 1) {
        lpg_error("%s: section 'rule_lifetime_inputs': %lld is neither 0 nor 1", ck->path,
                  (long long)lifetime_inputs);
        return NULL;
    }
    rule_layout_lifetime(layout, (int)hidden, (int)lifetime_inputs);
    if (read_kind(ck, layout))
        return NULL;
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
