/* checkpoint.h: checkpoint and rule files: named, typed sections, zlib-compressed, CRC-checked.
 *
 * A meta-training checkpoint holds "eta", the Adam state, the bandits, the RNG state, the step,
 * the run's config text and the provenance of the program that wrote it (provenance.h; files
 * from before it have none); a rule file is the same format with fewer sections. Writing goes
 * through write_file_atomic(), so a failed write never clobbers the previous file.
 *
 * On disk (all integers little-endian; big-endian hosts are refused at compile time):
 *   header, 36 bytes:
 *     0  magic "LPGCKPT1"                    8 bytes
 *     8  format version (CHECKPOINT_VERSION)  u32
 *    12  sizeof(real) of the writer, 4 or 8   u32
 *    16  payload size, uncompressed           u64
 *    24  compressed size (rest of the file)   u64
 *    32  zlib crc32 of the uncompressed payload u32
 *   then the zlib stream (compress2) of the payload, which is a sequence of sections:
 *     u32 name length (1..CHECKPOINT_NAME_MAX-1), the name (no NUL), u32 type, u64 element
 *     count, then count elements: reals of the header's size, int64s, or raw bytes.
 *
 * Either build reads files of either precision: real sections are converted on read (a double
 * that does not fit a float is refused, naming the section). Only a file read by the build that
 * wrote it resumes bit for bit. */
#ifndef LPG_CHECKPOINT_H
#define LPG_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "real.h"
#include "util.h"

#define CHECKPOINT_MAGIC "LPGCKPT1"
#define CHECKPOINT_VERSION 1u
#define CHECKPOINT_HEADER_SIZE 36
#define CHECKPOINT_NAME_MAX 64 /* longest section name + 1 */

typedef enum {
    CHECKPOINT_REAL = 1,  /* real array (float or double, as the build) */
    CHECKPOINT_INT64 = 2, /* int64_t array */
    CHECKPOINT_BYTES = 3, /* opaque bytes (RNG state, bandits) */
    CHECKPOINT_TEXT = 4,  /* text without its NUL (the config JSON) */
} CheckpointType;

/* Sections being collected for one file. Zero-initialise or call checkpoint_writer_init. */
typedef struct {
    unsigned char *data; /* the uncompressed payload so far (owned) */
    size_t len, cap;
    int failed;          /* an add failed: checkpoint_write refuses to write a partial file */
} CheckpointWriter;

typedef struct {
    char name[CHECKPOINT_NAME_MAX];
    CheckpointType type;
    size_t count;  /* elements: reals, int64s, or bytes (text: bytes without the NUL) */
    size_t offset; /* of the first element in the payload */
} CheckpointSection;

/* A loaded, validated checkpoint. */
typedef struct {
    char path[LPG_PATH_MAX];
    unsigned real_size;     /* bytes per real in the file: 4 or 8 (converted on read) */
    unsigned char *payload; /* uncompressed (owned) */
    size_t payload_len;
    CheckpointSection *sections; /* owned */
    int num_sections;
} Checkpoint;

void checkpoint_writer_init(CheckpointWriter *w);

/* Each add copies the data into the writer. Names are 1..63 characters, unique per file.
 * Returns 0, or -1 (reported; the writer then refuses to write). */
int checkpoint_add_real(CheckpointWriter *w, const char *name, const real *values, size_t count);
int checkpoint_add_int64(CheckpointWriter *w, const char *name, const int64_t *values,
                         size_t count);
int checkpoint_add_bytes(CheckpointWriter *w, const char *name, const void *data, size_t len);
int checkpoint_add_text(CheckpointWriter *w, const char *name, const char *text);

/* Appends sections another writer collected (its data and len, e.g. from another process of
 * the same build), after checking that they parse as sections. Returns 0 or -1. */
int checkpoint_add_sections(CheckpointWriter *w, const void *payload, size_t len);

/* Compresses the sections and writes path atomically. The writer keeps its sections (write
 * again elsewhere if you like); free it with checkpoint_writer_free. Returns 0 or -1. */
int checkpoint_write(CheckpointWriter *w, const char *path);

void checkpoint_writer_free(CheckpointWriter *w);

/* Writes an already built payload (a sequence of sections, reals of real_size bytes) to path
 * with a valid header and CRC, atomically. checkpoint_write goes through it; tests and the
 * fuzzer use it to make files whose framing is right but whose contents are not. */
int checkpoint_write_payload(const void *payload, size_t len, unsigned real_size,
                             const char *path);

/* Loads and validates path (magic, version, real size, sizes, zlib stream, CRC, section table).
 * On error reports "lpg: <path>: <what is wrong>", leaves ck empty and returns -1. Free a loaded
 * checkpoint with checkpoint_close (also safe on an empty one). */
int checkpoint_open(Checkpoint *ck, const char *path);
void checkpoint_close(Checkpoint *ck);

/* The section called name, or NULL (silently: for optional sections). Points into ck. */
const CheckpointSection *checkpoint_find(const Checkpoint *ck, const char *name);

/* Copy a section into the caller's buffer, which must hold exactly `count` elements (`len`
 * bytes); a missing section, another type or another count is reported and returns -1. Reals
 * are converted from the file's precision; checkpoint_get_real also refuses values that are not
 * finite (every real a file holds is a parameter or an optimiser moment). */
int checkpoint_get_real(const Checkpoint *ck, const char *name, real *out, size_t count);
int checkpoint_get_int64(const Checkpoint *ck, const char *name, int64_t *out, size_t count);
int checkpoint_get_bytes(const Checkpoint *ck, const char *name, void *out, size_t len);

/* A text section as a new NUL-terminated string the caller frees; NULL (reported) on error. */
char *checkpoint_get_text(const Checkpoint *ck, const char *name);

/* A text section that holds JSON (a config), checked as config files are (json_check.h: the
 * syntax, and no key twice in one object): the text as checkpoint_get_text gives it, or NULL
 * after naming the file, the section, the line and what is wrong. */
char *checkpoint_get_json(const Checkpoint *ck, const char *name);

/* Reads an int64 scalar section and checks it lies in [min, max]; the error names the file and
 * the section. */
int checkpoint_get_int64_in(const Checkpoint *ck, const char *name, int64_t min, int64_t max,
                            int64_t *out);

/* Checks that every value is finite and at most max_abs in magnitude; the error names the file,
 * the section and the first bad index. */
int checkpoint_check_reals(const Checkpoint *ck, const char *name, const real *values,
                           size_t count, double max_abs);

/* "float" or "double": the precision of the build that wrote ck. */
const char *checkpoint_precision(const Checkpoint *ck);

/* "real", "int64", "bytes" or "text". */
const char *checkpoint_type_name(CheckpointType type);

/* The message of this thread's last checkpoint error (without the "lpg: " prefix), or "". */
const char *checkpoint_last_error(void);

#endif
