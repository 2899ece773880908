/* json_check.h: a strict syntax check of JSON text that says where and what is wrong, run
 * before cJSON parses a file (cJSON only says that parsing failed). It names the line and
 * column, what was expected there, NaN and Infinity as such, nesting deeper than cJSON takes,
 * and NUL characters (a raw NUL byte, or \u0000 in a string, which cJSON would silently treat
 * as the end of the string). */
#ifndef LPG_JSON_CHECK_H
#define LPG_JSON_CHECK_H

#include <stddef.h>

#define JSON_MAX_DEPTH 1000 /* cJSON's nesting limit */

/* Checks text[0..len). Returns 0 when it is one valid JSON value (surrounded by whitespace);
 * otherwise -1 with "line L, column C: <what was wrong>" in msg. */
int json_check(const char *text, size_t len, char *msg, size_t msgsize);

#endif
