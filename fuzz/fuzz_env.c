/* fuzz_env.c: the environment-file reader on arbitrary bytes; a file it accepts is then run: a
 * small batch is made and stepped with actions drawn from the input, and rendered. */
#include <stdio.h>
#include <stdlib.h>

#include "env.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input_file("env.json", data, size);
    EnvSpec spec;
    if (env_load(path, &spec))
        return 0;
    EnvBatch batch;
    uint64_t seed = size ? data[0] : 0;
    if (env_batch_init(&batch, &spec, 2, seed))
        return 0;
    Rng rng;
    rng_seed(&rng, seed, 1);
    for (int t = 0; t < 64; t++) {
        int32_t actions[2] = {(int32_t)rng_below(&rng, (uint32_t)spec.num_actions),
                              (int32_t)rng_below(&rng, (uint32_t)spec.num_actions)};
        env_batch_step(&batch, actions);
    }
    FILE *sink = fopen("/dev/null", "w");
    if (sink) {
        env_render(&batch, 1, sink);
        fclose(sink);
    }
    env_batch_free(&batch);
    return 0;
}
