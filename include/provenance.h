/* provenance.h: what made an output. A record of lpg's version (git describe at build time),
 * the build's precision and compiler, glibc and OpenBLAS (version and the kernels in use), the
 * CPU, LPG_CPU (cpu_pin.h) and the vector kernels in use (lpg's version and libmvec's variant):
 * everything that decides the bits a run writes besides its config. It goes in results.json,
 * log.jsonl's first line, and rule files and checkpoints (section "provenance"). */
#ifndef LPG_PROVENANCE_H
#define LPG_PROVENANCE_H

#include <stdio.h>

#include <cJSON.h>

#include "checkpoint.h"

/* This process's record as a new cJSON object (the caller deletes it), or NULL when out of
 * memory (reported). Built once; the same every call. */
cJSON *provenance_json(void);

/* The record as one line of JSON (owned by this module, built once), or NULL (reported). */
const char *provenance_text(void);

/* Adds the record to a checkpoint being written, as the text section "provenance". */
int provenance_add_section(CheckpointWriter *w);

/* The record a file holds (a new string the caller frees), or NULL when it holds none (files
 * written before lpg recorded it) or on error (*failed set, reported). */
char *provenance_read(const Checkpoint *ck, int *failed);

/* Prints a record (JSON text) as "  key: value" lines; text that is not a JSON object is printed
 * as it is. */
void provenance_print(FILE *out, const char *text);

#endif
