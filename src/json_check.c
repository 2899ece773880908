/* json_check.c: the strict JSON syntax check behind clear config errors (see json_check.h).
 * An iterative recognizer of RFC 8259 JSON with an explicit stack, so deep nesting is reported,
 * not recursed into. */
#include "json_check.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *text;
    size_t len, pos;
    char *msg;
    size_t msgsize;
} Scanner;

/* Writes "line L, column C: what" for the current position. Returns -1. */
static int fail(Scanner *s, const char *what)
{
    int line = 1, column = 1;
    for (size_t i = 0; i < s->pos && i < s->len; i++) {
        if (s->text[i] == '\n')
            line++, column = 1;
        else
            column++;
    }
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

/* A key and its colon, at the start of an object member. */
static int scan_key(Scanner *s, int after_comma)
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
    if (scan_string(s))
        return -1;
    skip_space(s);
    if (peek(s) != ':')
        return fail(s, "expected ':' after the key");
    s->pos++;
    return 0;
}

int json_check(const char *text, size_t len, char *msg, size_t msgsize)
{
    Scanner s = {text, len, 0, msg, msgsize};
    char stack[JSON_MAX_DEPTH];
    int depth = 0, after_comma = 0;
    for (;;) {
        /* expecting a value */
        int comma = after_comma;
        after_comma = 0;
        skip_space(&s);
        char c = peek(&s);
        if (c == '{' || c == '[') {
            if (depth == JSON_MAX_DEPTH)
                return fail(&s, "nested more than 1000 deep");
            stack[depth++] = c;
            s.pos++;
            skip_space(&s);
            if (peek(&s) == (c == '{' ? '}' : ']')) { /* empty container */
                s.pos++;
                depth--;
            } else {
                if (c == '{' && scan_key(&s, 0))
                    return -1;
                continue;
            }
        } else if (c == ']' && comma) {
            return fail(&s, "a comma before ']' (trailing commas are not allowed)");
        } else if (scan_scalar(&s)) {
            return -1;
        }
        /* a value is complete: close containers until one continues */
        for (;;) {
            if (depth == 0) {
                skip_space(&s);
                if (!at_end(&s))
                    return fail(&s, peek(&s) == '\0' ? "a NUL byte after the JSON value"
                                                     : "unexpected text after the JSON value");
                return 0;
            }
            int closed = after_member(&s, stack[depth - 1]);
            if (closed < 0)
                return -1;
            if (closed == 0) {
                after_comma = 1;
                if (stack[depth - 1] == '{' && scan_key(&s, 1))
                    return -1;
                break;
            }
            depth--;
        }
    }
}
