/* fuzz.h: what the libFuzzer targets share. Each target writes the fuzzed bytes to a file of
 * its own (the readers take paths) and calls the reader on it; a crash, a sanitizer report or a
 * leak is a finding. Built by `make fuzz` (clang -fsanitize=fuzzer,address,undefined,...). */
#ifndef LPG_FUZZ_H
#define LPG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

/* Where a target writes its input: build/fuzz/tmp/<pid>-<tag> (fuzz/run runs the targets from
 * the repository's top folder, makes this folder and empties it afterwards). */
static inline const char *fuzz_input_path(const char *tag)
{
    static char path[256];
    snprintf(path, sizeof path, "build/fuzz/tmp/%d-%s", (int)getpid(), tag);
    return path;
}

/* Writes data to a per-process file named after tag and returns its path (static storage). */
static inline const char *fuzz_input_file(const char *tag, const uint8_t *data, size_t size)
{
    const char *path = fuzz_input_path(tag);
    FILE *f = fopen(path, "wb");
    if (f) {
        if (size)
            fwrite(data, 1, size, f);
        fclose(f);
    }
    return path;
}

#endif
