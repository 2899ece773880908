/* fuzz_checkpoint.c: the checkpoint and rule-file readers. The input is read as a rule file and
 * by `lpg info`, then resumed as a meta-training checkpoint of fuzz/tiny.json; a checkpoint
 * that resumes is then stepped once, so any state the checks let through is exercised.
 *
 * Built twice: as fuzz_checkpoint the input is the whole file (header, zlib stream, CRC); as
 * fuzz_checkpoint_wrapped (FUZZ_WRAP) the input is a payload, wrapped in a valid header and
 * CRC before reading, so mutations reach the section table and the state checks instead of
 * failing the CRC. Its first byte picks the precision the header claims (odd: float, even:
 * double) and the rest is the payload. */
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "commands.h"
#include "fuzz.h"
#include "meta_train.h"
#include "rule_file.h"

#ifndef FUZZ_CONFIG
#define FUZZ_CONFIG "fuzz/tiny.json"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *input_file(const uint8_t *data, size_t size)
{
#ifdef FUZZ_WRAP
    if (size == 0)
        return NULL;
    const char *path = fuzz_input_path("wrapped.lpg");
    unsigned real_size = (data[0] & 1u) ? 4 : 8;
    if (checkpoint_write_payload(data + 1, size - 1, real_size, path))
        return NULL;
    return path;
#else
    return fuzz_input_file("checkpoint.lpg", data, size);
#endif
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = input_file(data, size);
    if (!path)
        return 0;
    RuleLayout layout;
    free(rule_file_load(path, &layout));
    char *argv[] = {"info", (char *)path, "--sections", NULL};
    cmd_info(3, argv);
    MetaRun run;
    if (meta_run_resume(&run, FUZZ_CONFIG, 0, NULL, path, 1) == 0) {
        MetaStepStats stats;
        meta_run_step(&run, &stats);
    }
    meta_run_free(&run);
    return 0;
}
