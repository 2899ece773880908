/* test_json_check.c: JSON errors say where (line and column) and what was expected; NaN,
 * Infinity, deep nesting and NUL characters are named; every committed config passes. */
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include "json_check.h"
#include "test.h"
#include "util.h"

/* Checks text (of length len) and expects the message to equal want exactly. */
static int says(const char *text, size_t len, const char *want)
{
    char msg[256] = "";
    int rc = json_check(text, len, msg, sizeof msg);
    if (rc == -1 && strcmp(msg, want) == 0)
        return 1;
    fprintf(stderr, "  json_check(\"%.40s\") = %d, '%s', expected '%s'\n", text, rc, msg, want);
    return 0;
}
#define SAYS(text, want) says(text, strlen(text), want)

TEST(json_errors_name_line_column_and_what_was_expected)
{
    CHECK(SAYS("{\"a\": NaN}", "line 1, column 7: NaN is not a JSON number (numbers must be finite)"));
    CHECK(SAYS("{\"a\": [1,\n  Infinity]}",
               "line 2, column 3: Infinity is not a JSON number (numbers must be finite)"));
    CHECK(SAYS("{\"a\": -Infinity}",
               "line 1, column 7: Infinity is not a JSON number (numbers must be finite)"));
    CHECK(SAYS("{\"a\": 1,}", "line 1, column 9: a comma before '}' (trailing commas are not allowed)"));
    CHECK(SAYS("[1, 2,]", "line 1, column 7: a comma before ']' (trailing commas are not allowed)"));
    CHECK(SAYS("{\"a\" 1}", "line 1, column 6: expected ':' after the key"));
    CHECK(SAYS("{\"a\": 1 \"b\": 2}", "line 1, column 9: expected ',' or '}' after a value in an object"));
    CHECK(SAYS("{'a': 1}", "line 1, column 2: expected a key in double quotes or '}'"));
    CHECK(SAYS("{\"a\": 'x'}", "line 1, column 7: single quotes: JSON strings use double quotes"));
    CHECK(SAYS("{\"a\": \"x}", "line 1, column 7: a string that is never closed (expected '\"')"));
    CHECK(SAYS("{\"a\": 01}", "line 1, column 8: a number with a leading zero"));
    CHECK(SAYS("{\"a\": 1.}", "line 1, column 9: a malformed number (expected a digit after '.')"));
    CHECK(SAYS("{\"a\": [1, 2}", "line 1, column 12: expected ',' or ']' after a value in a list"));
    CHECK(SAYS("{\"a\": 1} x", "line 1, column 10: unexpected text after the JSON value"));
    CHECK(SAYS("{\"a\": 1", "line 1, column 8: the text ends inside an object (expected '}')"));
    CHECK(SAYS("{\"a\": tru}", "line 1, column 7: expected a value (a number, a string in double "
                              "quotes, true, false, null, an object or a list)"));
    CHECK(SAYS("{\"a\": \"x\\q\"}", "line 1, column 10: invalid escape in a string (expected one "
                                   "of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"));
    CHECK(SAYS("", "line 1, column 1: the text ends where a value was expected"));
}

TEST(json_check_refuses_nul_characters_and_deep_nesting)
{
    CHECK(SAYS("{\"name\": \"a\\u0000b\"}",
               "line 1, column 13: a NUL character (\\u0000) inside a string is not allowed"));
    CHECK(says("{\"name\": \"a\0b\"}", 15, "line 1, column 12: a NUL byte inside a string"));
    CHECK(says("{\"a\": 1}\0{}", 11, "line 1, column 9: a NUL byte after the JSON value"));
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 1);
    if (!deep)
        return;
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    CHECK(says(deep, 2 * depth, "line 1, column 1001: nested more than 1000 deep"));
    deep[JSON_MAX_DEPTH] = '\0'; /* 1000 deep, unclosed: the depth itself is fine */
    CHECK(says(deep, JSON_MAX_DEPTH, "line 1, column 1001: the text ends where a value was expected"));
    free(deep);
}

TEST(json_check_accepts_valid_json_and_every_committed_config)
{
    char msg[256];
    const char *good = "{\"a\": [1, -2.5e-3, 0, 1E+9, true, false, null, \"\\u00e9\\n\"],\n"
                       " \"b\": {}, \"c\": [], \"d\": {\"e\": [[]]}}";
    CHECK_INT(json_check(good, strlen(good), msg, sizeof msg), 0);
    glob_t files;
    int n = 0;
    if (glob("configs/*.json", 0, NULL, &files) == 0) {
        glob("configs/*/*.json", GLOB_APPEND, NULL, &files);
        glob("configs/*/*/*.json", GLOB_APPEND, NULL, &files);
        for (size_t i = 0; i < files.gl_pathc; i++) {
            size_t len = 0;
            char *text = read_whole_file(files.gl_pathv[i], &len);
            int rc = text ? json_check(text, len, msg, sizeof msg) : -1;
            if (rc)
                fprintf(stderr, "  %s: %s\n", files.gl_pathv[i], msg);
            CHECK_INT(rc, 0);
            free(text);
            n++;
        }
        globfree(&files);
    }
    CHECK(n >= 30);
}

TEST(json_errors_reach_the_commands)
{
    char out[4096];
    FILE *f = fopen("build/test_json_nan.json", "w");
    if (!f)
        return;
    fputs("{\n  \"env\": \"../configs/envs/chain_short.json\",\n  \"lr\": NaN\n}\n", f);
    fclose(f);
    CHECK_INT(run_lpg("train build/test_json_nan.json", out, sizeof out), 1);
    CHECK(strstr(out, "lpg: build/test_json_nan.json: invalid JSON: line 3, column 9: NaN is not "
                      "a JSON number") != NULL);
}
