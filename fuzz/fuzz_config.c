/* fuzz_config.c: the config reader (JSON check, cJSON, field tables) on arbitrary bytes, through
 * the three command configs: meta-train, train and eval. */
#include <stdlib.h>

#include "eval.h"
#include "fuzz.h"
#include "meta_config.h"
#include "train.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input_file("config.json", data, size);
    MetaConfig meta;
    meta_config_load(&meta, path, 0, NULL);
    TrainConfig train;
    train_config_load(&train, path, 0, NULL);
    EvalConfig eval;
    eval_config_load(&eval, path, 0, NULL);
    return 0;
}
