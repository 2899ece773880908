/* checkpoint.c: writing and validating checkpoint files (format in include/checkpoint.h).
 * Every length read from a file is checked against the bytes actually there before use, so a
 * damaged or foreign file is refused with a message, never read past. */
#include "checkpoint.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "json_check.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoint.c copies arrays as they are in memory and the format is little-endian"
#endif

/* Deflate never compresses better than 1032:1, so a larger claimed payload is a corrupt header
 * (and must not be trusted with an allocation). */
#define DEFLATE_MAX_RATIO 1032u

typedef struct {
    uint32_t version, real_size, crc;
    uint64_t payload_size, compressed_size;
} Header;

static _Thread_local char last_error[LPG_PATH_MAX + 256];

/* Records the message for checkpoint_last_error() without printing it (already printed). */
static int record_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int record_error(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, args);
    va_end(args);
    return -1;
}

/* Records and prints "lpg: <message>". Returns -1. */
static int checkpoint_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int checkpoint_error(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, args);
    va_end(args);
    return lpg_error("%s", last_error);
}

const char *checkpoint_last_error(void)
{
    return last_error;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

const char *checkpoint_type_name(CheckpointType type)
{
    switch (type) {
    case CHECKPOINT_REAL: return "real";
    case CHECKPOINT_INT64: return "int64";
    case CHECKPOINT_BYTES: return "bytes";
    case CHECKPOINT_TEXT: return "text";
    }
    return "an unknown type";
}

/* Bytes per element of a section type; 0 for an unknown type. */
static size_t element_size(uint32_t type, size_t real_size)
{
    switch (type) {
    case CHECKPOINT_REAL: return real_size;
    case CHECKPOINT_INT64: return 8;
    case CHECKPOINT_BYTES:
    case CHECKPOINT_TEXT: return 1;
    }
    return 0;
}

/* Reads the section that starts at payload byte *pos and moves *pos past its data.
 * Returns -1 when the bytes there do not form a whole, valid section. */
static int next_section(const unsigned char *p, size_t len, size_t *pos, size_t real_size,
                        CheckpointSection *s)
{
    size_t at = *pos;
    if (len - at < 4)
        return -1;
    uint32_t name_len = get_u32(p + at);
    at += 4;
    if (name_len == 0 || name_len >= CHECKPOINT_NAME_MAX || len - at < name_len)
        return -1;
    memcpy(s->name, p + at, name_len);
    s->name[name_len] = '\0';
    if (memchr(s->name, '\0', name_len))
        return -1;
    at += name_len;
    if (len - at < 12)
        return -1;
    uint32_t type = get_u32(p + at);
    uint64_t count = get_u64(p + at + 4);
    at += 12;
    size_t elem = element_size(type, real_size);
    if (elem == 0 || count > (len - at) / elem)
        return -1;
    s->type = (CheckpointType)type;
    s->count = (size_t)count;
    s->offset = at;
    *pos = at + s->count * elem;
    return 0;
}

/* ---- writing ---- */

void checkpoint_writer_init(CheckpointWriter *w)
{
    memset(w, 0, sizeof *w);
}

void checkpoint_writer_free(CheckpointWriter *w)
{
    free(w->data);
    memset(w, 0, sizeof *w);
}

static int writer_reserve(CheckpointWriter *w, size_t extra)
{
    if (extra > SIZE_MAX / 2 - w->len)
        return checkpoint_error("checkpoint too large (%zu more bytes)", extra);
    if (w->len + extra <= w->cap)
        return 0;
    size_t cap = w->cap ? w->cap : 4096;
    while (cap < w->len + extra)
        cap *= 2;
    unsigned char *bigger = realloc(w->data, cap);
    if (!bigger)
        return checkpoint_error("out of memory growing a checkpoint to %zu bytes", cap);
    w->data = bigger;
    w->cap = cap;
    return 0;
}

static int writer_has(const CheckpointWriter *w, const char *name)
{
    size_t pos = 0;
    CheckpointSection s;
    while (pos < w->len && next_section(w->data, w->len, &pos, sizeof(real), &s) == 0)
        if (strcmp(s.name, name) == 0)
            return 1;
    return 0;
}

/* Reports why name cannot be added, or returns 0. */
static int check_new_name(const CheckpointWriter *w, const char *name)
{
    size_t name_len = strlen(name);
    if (name_len == 0 || name_len >= CHECKPOINT_NAME_MAX)
        return checkpoint_error("checkpoint section name '%s': must be 1 to %d characters",
                                name, CHECKPOINT_NAME_MAX - 1);
    if (writer_has(w, name))
        return checkpoint_error("checkpoint section '%s' added twice", name);
    return 0;
}

/* Appends one section; on any failure marks the writer failed so no partial file is written. */
static int add_section(CheckpointWriter *w, const char *name, CheckpointType type,
                       const void *data, size_t count)
{
    size_t elem = element_size(type, sizeof(real));
    int rc = check_new_name(w, name);
    if (rc == 0 && count > (SIZE_MAX / 4) / elem)
        rc = checkpoint_error("checkpoint section '%s' too large", name);
    size_t name_len = strlen(name), bytes = count * elem;
    if (rc == 0)
        rc = writer_reserve(w, 16 + name_len + bytes);
    if (rc) {
        w->failed = 1;
        return -1;
    }
    unsigned char *p = w->data + w->len;
    put_u32(p, (uint32_t)name_len);
    memcpy(p + 4, name, name_len);
    put_u32(p + 4 + name_len, (uint32_t)type);
    put_u64(p + 8 + name_len, (uint64_t)count);
    if (bytes)
        memcpy(p + 16 + name_len, data, bytes);
    w->len += 16 + name_len + bytes;
    return 0;
}

int checkpoint_add_real(CheckpointWriter *w, const char *name, const real *values, size_t count)
{
    return add_section(w, name, CHECKPOINT_REAL, values, count);
}

int checkpoint_add_int64(CheckpointWriter *w, const char *name, const int64_t *values,
                         size_t count)
{
    return add_section(w, name, CHECKPOINT_INT64, values, count);
}

int checkpoint_add_bytes(CheckpointWriter *w, const char *name, const void *data, size_t len)
{
    return add_section(w, name, CHECKPOINT_BYTES, data, len);
}

int checkpoint_add_text(CheckpointWriter *w, const char *name, const char *text)
{
    return add_section(w, name, CHECKPOINT_TEXT, text, strlen(text));
}

int checkpoint_add_sections(CheckpointWriter *w, const void *payload, size_t len)
{
    size_t pos = 0;
    CheckpointSection s;
    while (pos < len)
        if (next_section(payload, len, &pos, sizeof(real), &s) != 0) {
            w->failed = 1;
            return checkpoint_error("checkpoint sections to append are malformed at byte %zu", pos);
        }
    if (writer_reserve(w, len)) {
        w->failed = 1;
        return -1;
    }
    if (len)
        memcpy(w->data + w->len, payload, len);
    w->len += len;
    return 0;
}

static void fill_header(unsigned char *h, unsigned real_size, size_t payload_len,
                        size_t compressed_len, uint32_t crc)
{
    memcpy(h, CHECKPOINT_MAGIC, 8);
    put_u32(h + 8, CHECKPOINT_VERSION);
    put_u32(h + 12, real_size);
    put_u64(h + 16, (uint64_t)payload_len);
    put_u64(h + 24, (uint64_t)compressed_len);
    put_u32(h + 32, crc);
}

int checkpoint_write_payload(const void *payload, size_t len, unsigned real_size,
                             const char *path)
{
    if (len > ULONG_MAX / 2)
        return checkpoint_error("%s: checkpoint too large (%zu bytes)", path, len);
    uLong bound = compressBound((uLong)len);
    unsigned char *file = malloc(CHECKPOINT_HEADER_SIZE + (size_t)bound);
    if (!file)
        return checkpoint_error("%s: out of memory compressing %zu bytes", path, len);
    uLongf compressed_len = bound;
    const unsigned char *src = payload ? payload : (const unsigned char *)"";
    int z = compress2(file + CHECKPOINT_HEADER_SIZE, &compressed_len, src, (uLong)len,
                      Z_DEFAULT_COMPRESSION);
    if (z != Z_OK) {
        free(file);
        return checkpoint_error("%s: zlib compress failed (%s)", path, zError(z));
    }
    uint32_t crc = (uint32_t)crc32_z(crc32_z(0L, Z_NULL, 0), src, len);
    fill_header(file, real_size, len, compressed_len, crc);
    int rc = write_file_atomic(path, file, CHECKPOINT_HEADER_SIZE + (size_t)compressed_len);
    free(file);
    if (rc)
        return record_error("%s: cannot write the checkpoint", path);
    return 0;
}

int checkpoint_write(CheckpointWriter *w, const char *path)
{
    if (w->failed)
        return checkpoint_error("%s: not written: a section could not be added", path);
    return checkpoint_write_payload(w->data, w->len, (unsigned)sizeof(real), path);
}

/* ---- reading ---- */

/* Checks everything the 36-byte header says against itself, this build and the file's length. */
static int parse_header(const unsigned char *file, size_t len, const char *path, Header *h)
{
    size_t magic_len = strlen(CHECKPOINT_MAGIC);
    size_t prefix = len < magic_len ? len : magic_len;
    if (len == 0)
        return checkpoint_error("%s: empty file, not a checkpoint", path);
    if (memcmp(file, CHECKPOINT_MAGIC, prefix) != 0)
        return checkpoint_error("%s: not a checkpoint (no %s magic)", path, CHECKPOINT_MAGIC);
    if (len < CHECKPOINT_HEADER_SIZE)
        return checkpoint_error("%s: truncated checkpoint (%zu bytes, shorter than the %d-byte "
                                "header)", path, len, CHECKPOINT_HEADER_SIZE);
    h->version = get_u32(file + 8);
    h->real_size = get_u32(file + 12);
    h->payload_size = get_u64(file + 16);
    h->compressed_size = get_u64(file + 24);
    h->crc = get_u32(file + 32);
    if (h->version == 0)
        return checkpoint_error("%s: bad checkpoint format version 0", path);
    if (h->version > CHECKPOINT_VERSION)
        return checkpoint_error("%s: checkpoint format version %u is newer than this lpg reads "
                                "(up to %u)", path, h->version, CHECKPOINT_VERSION);
    if (h->real_size != 4 && h->real_size != 8)
        return checkpoint_error("%s: bad real size %u in the header (expected 4 or 8)", path,
                                h->real_size);
    uint64_t have = len - CHECKPOINT_HEADER_SIZE;
    if (h->compressed_size > have)
        return checkpoint_error("%s: truncated checkpoint (%zu bytes, the header says %llu)",
                                path, len, (unsigned long long)(h->compressed_size +
                                                                CHECKPOINT_HEADER_SIZE));
    if (h->compressed_size < have)
        return checkpoint_error("%s: %llu unexpected bytes after the checkpoint data", path,
                                (unsigned long long)(have - h->compressed_size));
    if (h->payload_size > h->compressed_size * DEFLATE_MAX_RATIO + 64 ||
        h->payload_size > ULONG_MAX / 2 || h->payload_size > SIZE_MAX / 2)
        return checkpoint_error("%s: corrupt header (payload size %llu for %llu compressed "
                                "bytes)", path, (unsigned long long)h->payload_size,
                                (unsigned long long)h->compressed_size);
    return 0;
}

/* Inflates the payload into ck->payload and checks its size and CRC. */
static int inflate_payload(Checkpoint *ck, const unsigned char *src, const Header *h)
{
    size_t size = (size_t)h->payload_size;
    ck->payload = malloc(size ? size : 1);
    if (!ck->payload)
        return checkpoint_error("%s: out of memory for a %zu-byte checkpoint", ck->path, size);
    uLongf out_len = (uLongf)size;
    uLong in_len = (uLong)h->compressed_size;
    int z = uncompress2(ck->payload, &out_len, src, &in_len);
    if (z != Z_OK)
        return checkpoint_error("%s: corrupt checkpoint payload (zlib: %s)", ck->path,
                                z == Z_BUF_ERROR ? "stream longer or shorter than the header says"
                                                 : zError(z));
    if (out_len != size || in_len != h->compressed_size)
        return checkpoint_error("%s: corrupt checkpoint payload (size %lu, the header says %zu)",
                                ck->path, (unsigned long)out_len, size);
    ck->payload_len = size;
    uint32_t crc = (uint32_t)crc32_z(crc32_z(0L, Z_NULL, 0), ck->payload, size);
    if (crc != h->crc)
        return checkpoint_error("%s: corrupt checkpoint payload (CRC32 %08x, the header says "
                                "%08x)", ck->path, crc, h->crc);
    return 0;
}

static int add_to_index(Checkpoint *ck, const CheckpointSection *s, int *cap)
{
    if (checkpoint_find(ck, s->name))
        return checkpoint_error("%s: section '%s' appears twice", ck->path, s->name);
    if (ck->num_sections == *cap) {
        int bigger_cap = *cap ? 2 * *cap : 16;
        CheckpointSection *bigger = realloc(ck->sections, (size_t)bigger_cap * sizeof *bigger);
        if (!bigger)
            return checkpoint_error("%s: out of memory indexing sections", ck->path);
        ck->sections = bigger;
        *cap = bigger_cap;
    }
    ck->sections[ck->num_sections++] = *s;
    return 0;
}

/* Builds ck->sections from the payload; the whole payload must be whole sections. */
static int index_sections(Checkpoint *ck)
{
    size_t pos = 0;
    int cap = 0;
    while (pos < ck->payload_len) {
        CheckpointSection s;
        size_t start = pos;
        if (next_section(ck->payload, ck->payload_len, &pos, ck->real_size, &s))
            return checkpoint_error("%s: corrupt section table at payload byte %zu", ck->path,
                                    start);
        if (add_to_index(ck, &s, &cap))
            return -1;
    }
    return 0;
}

int checkpoint_open(Checkpoint *ck, const char *path)
{
    memset(ck, 0, sizeof *ck);
    snprintf(ck->path, sizeof ck->path, "%s", path);
    size_t len = 0;
    char *file = read_whole_file(path, &len);
    if (!file)
        return record_error("%s: cannot read", path);
    const unsigned char *bytes = (const unsigned char *)file;
    Header h = {0};
    int rc = parse_header(bytes, len, path, &h);
    ck->real_size = h.real_size;
    if (rc == 0)
        rc = inflate_payload(ck, bytes + CHECKPOINT_HEADER_SIZE, &h);
    if (rc == 0)
        rc = index_sections(ck);
    free(file);
    if (rc)
        checkpoint_close(ck);
    return rc;
}

void checkpoint_close(Checkpoint *ck)
{
    free(ck->payload);
    free(ck->sections);
    memset(ck, 0, sizeof *ck);
}

const CheckpointSection *checkpoint_find(const Checkpoint *ck, const char *name)
{
    for (int i = 0; i < ck->num_sections; i++)
        if (strcmp(ck->sections[i].name, name) == 0)
            return &ck->sections[i];
    return NULL;
}

/* The section, if it exists with this type (and count, unless count is SIZE_MAX). */
static const CheckpointSection *expect_section(const Checkpoint *ck, const char *name,
                                               CheckpointType type, size_t count)
{
    const CheckpointSection *s = checkpoint_find(ck, name);
    if (!s) {
        checkpoint_error("%s: no section '%s'", ck->path, name);
        return NULL;
    }
    if (s->type != type) {
        checkpoint_error("%s: section '%s' holds %s, expected %s", ck->path, name,
                         checkpoint_type_name(s->type), checkpoint_type_name(type));
        return NULL;
    }
    if (count != SIZE_MAX && s->count != count) {
        checkpoint_error("%s: section '%s' has %zu elements, expected %zu", ck->path, name,
                         s->count, count);
        return NULL;
    }
    return s;
}

static int copy_section(const Checkpoint *ck, const char *name, CheckpointType type, void *out,
                        size_t count)
{
    const CheckpointSection *s = expect_section(ck, name, type, count);
    if (!s)
        return -1;
    if (count)
        memcpy(out, ck->payload + s->offset, count * element_size(type, ck->real_size));
    return 0;
}

const char *checkpoint_precision(const Checkpoint *ck)
{
    return ck->real_size == 4 ? "float" : "double";
}

/* Element i of a real section in the file's precision, as a double (the payload is not aligned). */
static double stored_real(const Checkpoint *ck, const CheckpointSection *s, size_t i)
{
    const unsigned char *p = ck->payload + s->offset + i * ck->real_size;
    if (ck->real_size == 4) {
        float f;
        memcpy(&f, p, sizeof f);
        return f;
    }
    double d;
    memcpy(&d, p, sizeof d);
    return d;
}

/* Reals are converted from the file's precision. Every real in a file is a parameter or an
 * optimiser moment, so a value that is not finite (or does not fit this build's real) is a
 * damaged or crafted file. */
int checkpoint_get_real(const Checkpoint *ck, const char *name, real *out, size_t count)
{
    const CheckpointSection *s = expect_section(ck, name, CHECKPOINT_REAL, count);
    if (!s)
        return -1;
    for (size_t i = 0; i < count; i++) {
        double x = stored_real(ck, s, i);
        if (!isfinite(x) || (sizeof(real) == 4 && fabs(x) > FLT_MAX))
            return checkpoint_error("%s: section '%s': element %zu is %s", ck->path, name, i,
                                    isfinite(x) ? "too large for a float" : "not finite");
        out[i] = (real)x;
    }
    return 0;
}

int checkpoint_check_reals(const Checkpoint *ck, const char *name, const real *values,
                           size_t count, double max_abs)
{
    for (size_t i = 0; i < count; i++)
        if (!isfinite(values[i]) || fabs((double)values[i]) > max_abs)
            return checkpoint_error("%s: section '%s': element %zu is %g, outside [-%g, %g]",
                                    ck->path, name, i, (double)values[i], max_abs, max_abs);
    return 0;
}

int checkpoint_get_int64(const Checkpoint *ck, const char *name, int64_t *out, size_t count)
{
    return copy_section(ck, name, CHECKPOINT_INT64, out, count);
}

int checkpoint_get_int64_in(const Checkpoint *ck, const char *name, int64_t min, int64_t max,
                            int64_t *out)
{
    if (copy_section(ck, name, CHECKPOINT_INT64, out, 1))
        return -1;
    if (*out < min || *out > max)
        return checkpoint_error("%s: section '%s': %lld is out of range [%lld, %lld]", ck->path,
                                name, (long long)*out, (long long)min, (long long)max);
    return 0;
}

int checkpoint_get_bytes(const Checkpoint *ck, const char *name, void *out, size_t len)
{
    return copy_section(ck, name, CHECKPOINT_BYTES, out, len);
}

char *checkpoint_get_text(const Checkpoint *ck, const char *name)
{
    const CheckpointSection *s = expect_section(ck, name, CHECKPOINT_TEXT, SIZE_MAX);
    if (!s)
        return NULL;
    if (memchr(ck->payload + s->offset, '\0', s->count)) {
        checkpoint_error("%s: section '%s': text holds a NUL byte", ck->path, name);
        return NULL;
    }
    char *text = malloc(s->count + 1);
    if (!text) {
        checkpoint_error("%s: out of memory reading section '%s'", ck->path, name);
        return NULL;
    }
    memcpy(text, ck->payload + s->offset, s->count);
    text[s->count] = '\0';
    return text;
}

char *checkpoint_get_json(const Checkpoint *ck, const char *name)
{
    char *text = checkpoint_get_text(ck, name);
    char why[256];
    int checked = text ? json_check(text, strlen(text), why, sizeof why) : 0;
    if (checked) {
        checkpoint_error("%s: section '%s': %s%s", ck->path, name,
                         checked == JSON_CHECK_DUPLICATE_KEY ? "" : "invalid JSON: ", why);
        free(text);
        return NULL;
    }
    return text;
}
