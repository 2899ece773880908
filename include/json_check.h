/* json_check.h: a strict syntax check of JSON text that says where and what is wrong, run
 * before cJSON parses a file (cJSON only says that parsing failed). It names the line and
 * column, what was expected there, NaN and Infinity as such, nesting deeper than cJSON takes,
 * NUL characters (a raw NUL byte, or \u0000 in a string, which cJSON would silently treat as
 * the end of the string), and a key given twice in one object (cJSON would keep both, and a
 * lookup would silently take one of them). */
#ifndef LPG_JSON_CHECK_H
#define LPG_JSON_CHECK_H

#include <stddef.h>

#define JSON_MAX_DEPTH 1000 /* cJSON's nesting limit */
#define JSON_CHECK_DUPLICATE_KEY (-2)

/* Checks text[0..len). Returns 0 when it is one valid JSON value (surrounded by whitespace)
 * whose objects each name a key once; otherwise "line L, column C: <what was wrong>" in msg
 * and -1, or JSON_CHECK_DUPLICATE_KEY for a key given twice (the message names it, quoted as
 * written, and the line of its first use). Keys are compared decoded ("\u0061" is "a"). */
int json_check(const char *text, size_t len, char *msg, size_t msgsize);

#endif
