/* json_check.c: the strict JSON syntax check behind clear config errors (see json_check.h).
 * An iterative recognizer of RFC 8259 JSON with an explicit stack, so deep nesting is reported,
 * not recursed into. The keys of the open objects are kept (decoded, so "\u0061" and "a" are one
 * key, as cJSON reads them) in a hash table to refuse a key given twice in one object. */
#include "json_check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One key of an open object. The entries of all open objects form a stack (an object's keys
 * above those of the objects around it), and each hash bucket chains its entries from the
 * newest down, so closing an object pops its entries off the fronts of their chains. */
typedef struct {
    size_t at;         /* where the key's opening quote is in the text */
    size_t start, len; /* its decoded bytes in KeySet.bytes */
    uint32_t hash;
    int older;         /* the next older entry in the same bucket, or -1 */
} KeyEntry;

typedef struct {
    KeyEntry *entry;
    int count, capacity;
    char *bytes;
    size_t used, bytes_capacity;
    int *bucket; /* newest entry of each bucket, or -1; the count is a power of two */
    int num_buckets;
} KeySet;

typedef struct {
    const char *text;
    size_t len, pos;
    char *msg;
    size_t msgsize;
    KeySet keys;
    int duplicate; /* the failure is a duplicate key */
    int first_key[JSON_MAX_DEPTH + 1]; /* entry index of each open object's first key */
} Scanner;

/* The line and column (from 1) of text position pos. */
static void line_column(const Scanner *s, size_t pos, int *line, int *column)
{
    *line = 1, *column = 1;
    for (size_t i = 0; i < pos && i < s->len; i++) {
        if (s->text[i] == '\n')
            ++*line, *column = 1;
        else
            ++*column;
    }
}

/* Writes "line L, column C: what" for the current position. Returns -1. */
static int fail(Scanner *s, const char *what)
{
    int line, column;
    line_column(s, s->pos, &line, &column);
    snprintf(s->msg, s->msgsize, "line %d, column %d: %s", line, column, what);
    return -1;
}

static int at_end(const Scanner *s) { return s->pos >= s->len; }
static char peek(const Scanner *s) { return at_end(s) ? '\0' : s->text[s->pos]; }

static void skip_space(Scanner *s)
{
    while (!at_end(s) && strchr(" \t\r\n", s->text[s->pos]) && s->text[s->pos] != '\0')
        s->pos++;
}

static int starts_with(const Scanner *s, const char *word)
{
    size_t n = strlen(word);
    return s->len - s->pos >= n && memcmp(s->text + s->pos, word, n) == 0;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* One escape after a backslash (s->pos at the character after it). */
static int scan_escape(Scanner *s)
{
    char c = peek(s);
    if (c && strchr("\"\\/bfnrt", c)) {
        s->pos++;
        return 0;
    }
    if (c != 'u')
        return fail(s, "invalid escape in a string (expected one of \\\" \\\\ \\/ \\b \\f \\n \\r "
                       "\\t \\uXXXX)");
    for (int k = 1; k <= 4; k++)
        if (s->pos + (size_t)k >= s->len || !is_hex(s->text[s->pos + (size_t)k]))
            return fail(s, "invalid \\u escape in a string (expected four hex digits)");
    if (memcmp(s->text + s->pos + 1, "0000", 4) == 0)
        return fail(s, "a NUL character (\\u0000) inside a string is not allowed");
    s->pos += 5;
    return 0;
}

static int scan_string(Scanner *s)
{
    size_t start = s->pos++;
    while (!at_end(s)) {
        unsigned char c = (unsigned char)s->text[s->pos];
        if (c == '"') {
            s->pos++;
            return 0;
        }
        if (c == '\0')
            return fail(s, "a NUL byte inside a string");
        if (c < 0x20)
            return fail(s, "a raw control character (a line break?) inside a string; escape it "
                           "or close the string");
        s->pos++;
        if (c == '\\' && scan_escape(s))
            return -1;
    }
    s->pos = start;
    return fail(s, "a string that is never closed (expected '\"')");
}

static int scan_digits(Scanner *s)
{
    size_t start = s->pos;
    while (peek(s) >= '0' && peek(s) <= '9')
        s->pos++;
    return s->pos > start;
}

static int scan_number(Scanner *s)
{
    size_t start = s->pos;
    if (peek(s) == '-')
        s->pos++;
    if (starts_with(s, "Infinity") || starts_with(s, "inf")) {
        s->pos = start;
        return fail(s, "Infinity is not a JSON number (numbers must be finite)");
    }
    if (peek(s) == '0') {
        s->pos++;
        if (peek(s) >= '0' && peek(s) <= '9')
            return fail(s, "a number with a leading zero");
    } else if (!scan_digits(s)) {
        return fail(s, "a malformed number (expected a digit)");
    }
    if (peek(s) == '.') {
        s->pos++;
        if (!scan_digits(s))
            return fail(s, "a malformed number (expected a digit after '.')");
    }
    if (peek(s) == 'e' || peek(s) == 'E') {
        s->pos++;
        if (peek(s) == '+' || peek(s) == '-')
            s->pos++;
        if (!scan_digits(s))
            return fail(s, "a malformed number (expected a digit in the exponent)");
    }
    return 0;
}

/* A scalar value at s->pos (containers are handled by json_check's loop). */
static int scan_scalar(Scanner *s)
{
    char c = peek(s);
    if (c == '"')
        return scan_string(s);
    if (c == '-' || (c >= '0' && c <= '9'))
        return scan_number(s);
    static const char *const words[] = {"true", "false", "null"};
    for (int k = 0; k < 3; k++)
        if (starts_with(s, words[k])) {
            s->pos += strlen(words[k]);
            return 0;
        }
    if (starts_with(s, "NaN") || starts_with(s, "nan"))
        return fail(s, "NaN is not a JSON number (numbers must be finite)");
    if (starts_with(s, "Infinity") || starts_with(s, "inf"))
        return fail(s, "Infinity is not a JSON number (numbers must be finite)");
    if (at_end(s))
        return fail(s, "the text ends where a value was expected");
    if (c == '\'')
        return fail(s, "single quotes: JSON strings use double quotes");
    if (c == '\0')
        return fail(s, "a NUL byte where a value was expected");
    return fail(s, "expected a value (a number, a string in double quotes, true, false, null, "
                   "an object or a list)");
}

/* After a value inside a container: a comma (then the next member) or the closing bracket.
 * Returns 1 when the container closed, 0 when a comma was read, -1 on error. */
static int after_member(Scanner *s, char container)
{
    skip_space(s);
    char close = container == '{' ? '}' : ']';
    if (peek(s) == close) {
        s->pos++;
        return 1;
    }
    if (peek(s) == ',') {
        s->pos++;
        return 0;
    }
    if (at_end(s))
        return fail(s, container == '{' ? "the text ends inside an object (expected '}')"
                                        : "the text ends inside a list (expected ']')");
    return fail(s, container == '{' ? "expected ',' or '}' after a value in an object"
                                    : "expected ',' or ']' after a value in a list");
}

/* ---- the keys of the open objects -------------------------------------------------- */

static int hex_value(const char *p)
{
    int v = 0;
    for (int k = 0; k < 4; k++)
        v = v * 16 + (p[k] <= '9' ? p[k] - '0' : (p[k] | 0x20) - 'a' + 10);
    return v;
}

/* Appends code point c as UTF-8 (a lone surrogate as its 3-byte form, as cJSON would not take
 * it anyway). dst has room for 4 bytes. Returns the bytes written. */
static size_t put_utf8(char *dst, uint32_t c)
{
    if (c < 0x80)
        return dst[0] = (char)c, 1;
    if (c < 0x800)
        return dst[0] = (char)(0xC0 | (c >> 6)), dst[1] = (char)(0x80 | (c & 0x3F)), 2;
    if (c < 0x10000) {
        dst[0] = (char)(0xE0 | (c >> 12)), dst[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        dst[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    dst[0] = (char)(0xF0 | (c >> 18)), dst[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    dst[2] = (char)(0x80 | ((c >> 6) & 0x3F)), dst[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* Decodes the (already checked) string text[from..to), quotes excluded, into dst (room for
 * to - from bytes: no escape decodes to more bytes than it takes). Returns the length. */
static size_t decode_string(const char *text, size_t from, size_t to, char *dst)
{
    static const char plain[] = "\"\\/bfnrt", meant[] = "\"\\/\b\f\n\r\t";
    size_t n = 0;
    for (size_t i = from; i < to;) {
        if (text[i] != '\\') {
            dst[n++] = text[i++];
            continue;
        }
        char e = text[i + 1];
        if (e != 'u') {
            dst[n++] = meant[strchr(plain, e) - plain];
            i += 2;
            continue;
        }
        uint32_t c = (uint32_t)hex_value(text + i + 2);
        i += 6;
        if (c >= 0xD800 && c <= 0xDBFF && i + 6 <= to && text[i] == '\\' && text[i + 1] == 'u') {
            uint32_t low = (uint32_t)hex_value(text + i + 2);
            if (low >= 0xDC00 && low <= 0xDFFF) {
                c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
                i += 6;
            }
        }
        n += put_utf8(dst + n, c);
    }
    return n;
}

static uint32_t hash_bytes(const char *p, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

/* Doubles the bucket table and chains every entry anew, oldest first, so each chain still runs
 * from the newest entry down. Returns 0 or -1 (out of memory). */
static int grow_buckets(KeySet *k)
{
    int n = k->num_buckets ? 2 * k->num_buckets : 64;
    int *bucket = malloc((size_t)n * sizeof *bucket);
    if (!bucket)
        return -1;
    for (int b = 0; b < n; b++)
        bucket[b] = -1;
    for (int i = 0; i < k->count; i++) {
        uint32_t b = k->entry[i].hash & (uint32_t)(n - 1);
        k->entry[i].older = bucket[b];
        bucket[b] = i;
    }
    free(k->bucket);
    k->bucket = bucket;
    k->num_buckets = n;
    return 0;
}

/* Room for one more entry of up to extra bytes. Returns 0 or -1 (out of memory). */
static int reserve(KeySet *k, size_t extra)
{
    if (k->count == k->capacity) {
        int capacity = k->capacity ? 2 * k->capacity : 64;
        KeyEntry *entry = realloc(k->entry, (size_t)capacity * sizeof *entry);
        if (!entry)
            return -1;
        k->entry = entry, k->capacity = capacity;
    }
    if (k->bytes_capacity - k->used < extra) {
        size_t capacity = k->bytes_capacity ? 2 * k->bytes_capacity : 1024;
        while (capacity - k->used < extra)
            capacity *= 2;
        char *bytes = realloc(k->bytes, capacity);
        if (!bytes)
            return -1;
        k->bytes = bytes, k->bytes_capacity = capacity;
    }
    if (k->count >= k->num_buckets && grow_buckets(k))
        return -1;
    return 0;
}

/* Adds the key whose string spans text[at..end) (quotes included) to the innermost open object,
 * whose keys start at entry first. Refuses one that object already has. */
static int add_key(Scanner *s, size_t at, size_t end, int first)
{
    KeySet *k = &s->keys;
    if (reserve(k, end - at))
        return fail(s, "out of memory checking the keys");
    char *bytes = k->bytes + k->used;
    size_t len = decode_string(s->text, at + 1, end - 1, bytes);
    uint32_t hash = hash_bytes(bytes, len), b = hash & (uint32_t)(k->num_buckets - 1);
    for (int i = k->bucket[b]; i >= first; i = k->entry[i].older) {
        const KeyEntry *e = &k->entry[i];
        if (e->hash != hash || e->len != len || memcmp(k->bytes + e->start, bytes, len) != 0)
            continue;
        int line, column, key_len = (int)(end - at - 2);
        line_column(s, e->at, &line, &column);
        char what[160];
        snprintf(what, sizeof what, "duplicate key \"%.*s%s\" (first at line %d)",
                 key_len > 60 ? 60 : key_len, s->text + at + 1, key_len > 60 ? "..." : "", line);
        s->pos = at;
        s->duplicate = 1;
        return fail(s, what);
    }
    k->entry[k->count] = (KeyEntry){at, k->used, len, hash, k->bucket[b]};
    k->bucket[b] = k->count++;
    k->used += len;
    return 0;
}

/* Forgets the keys of the object that just closed (entries from first on). */
static void close_object(KeySet *k, int first)
{
    while (k->count > first) {
        const KeyEntry *e = &k->entry[--k->count];
        k->bucket[e->hash & (uint32_t)(k->num_buckets - 1)] = e->older;
        k->used = e->start;
    }
}

/* A key and its colon, at the start of an object member of the object open at depth. */
static int scan_key(Scanner *s, int after_comma, int depth)
{
    skip_space(s);
    if (at_end(s))
        return fail(s, "the text ends inside an object (expected a key in double quotes)");
    if (peek(s) != '"') {
        if (after_comma && peek(s) == '}')
            return fail(s, "a comma before '}' (trailing commas are not allowed)");
        return fail(s, after_comma ? "expected a key in double quotes after ','"
                                   : "expected a key in double quotes or '}'");
    }
    size_t at = s->pos;
    if (scan_string(s) || add_key(s, at, s->pos, s->first_key[depth]))
        return -1;
    skip_space(s);
    if (peek(s) != ':')
        return fail(s, "expected ':' after the key");
    s->pos++;
    return 0;
}

/* The check itself; s->keys is freed by the caller. */
static int check(Scanner *s)
{
    char stack[JSON_MAX_DEPTH];
    int depth = 0, after_comma = 0;
    for (;;) {
        /* expecting a value */
        int comma = after_comma;
        after_comma = 0;
        skip_space(s);
        char c = peek(s);
        if (c == '{' || c == '[') {
            if (depth == JSON_MAX_DEPTH)
                return fail(s, "nested more than 1000 deep");
            s->first_key[depth] = s->keys.count;
            stack[depth++] = c;
            s->pos++;
            skip_space(s);
            if (peek(s) == (c == '{' ? '}' : ']')) { /* empty container */
                s->pos++;
                depth--;
            } else {
                if (c == '{' && scan_key(s, 0, depth - 1))
                    return -1;
                continue;
            }
        } else if (c == ']' && comma) {
            return fail(s, "a comma before ']' (trailing commas are not allowed)");
        } else if (scan_scalar(s)) {
            return -1;
        }
        /* a value is complete: close containers until one continues */
        for (;;) {
            if (depth == 0) {
                skip_space(s);
                if (!at_end(s))
                    return fail(s, peek(s) == '\0' ? "a NUL byte after the JSON value"
                                                   : "unexpected text after the JSON value");
                return 0;
            }
            int closed = after_member(s, stack[depth - 1]);
            if (closed < 0)
                return -1;
            if (closed == 0) {
                after_comma = 1;
                if (stack[depth - 1] == '{' && scan_key(s, 1, depth - 1))
                    return -1;
                break;
            }
            depth--;
            if (stack[depth] == '{')
                close_object(&s->keys, s->first_key[depth]);
        }
    }
}

int json_check(const char *text, size_t len, char *msg, size_t msgsize)
{
    Scanner s = {.text = text, .len = len, .msg = msg, .msgsize = msgsize};
    int rc = check(&s);
    free(s.keys.entry);
    free(s.keys.bytes);
    free(s.keys.bucket);
    return rc && s.duplicate ? JSON_CHECK_DUPLICATE_KEY : rc;
}
