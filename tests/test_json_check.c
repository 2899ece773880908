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

/* Checks text and expects a duplicate-key refusal whose message equals want exactly. */
static int says_duplicate(const char *text, const char *want)
{
    char msg[256] = "";
    int rc = json_check(text, strlen(text), msg, sizeof msg);
    if (rc == JSON_CHECK_DUPLICATE_KEY && strcmp(msg, want) == 0)
        return 1;
    fprintf(stderr, "  json_check(\"%.60s\") = %d, '%s', expected '%s'\n", text, rc, msg, want);
    return 0;
}

static int passes(const char *text)
{
    char msg[256] = "";
    int rc = json_check(text, strlen(text), msg, sizeof msg);
    if (rc != 0)
        fprintf(stderr, "  json_check(\"%.60s\") = %d, '%s', expected 0\n", text, rc, msg);
    return rc == 0;
}

TEST(json_check_refuses_a_key_twice_in_one_object)
{
    CHECK(says_duplicate("{\"a\": 1, \"a\": 2}", "line 1, column 10: duplicate key \"a\" (first at line 1)"));
    CHECK(says_duplicate("{\n  \"lifetimes\": 2,\n  \"lifetimes\": 3\n}",
                         "line 3, column 3: duplicate key \"lifetimes\" (first at line 2)"));
    /* in a nested object, after another object closed inside it */
    CHECK(says_duplicate("{\"x\": {\"a\": 1, \"b\": {\"a\": 2},\n\"a\": 3}}",
                         "line 2, column 1: duplicate key \"a\" (first at line 1)"));
    CHECK(says_duplicate("[{}, {\"o\": [1, {\"p\": 0}], \"o\": null}]",
                         "line 1, column 27: duplicate key \"o\" (first at line 1)"));
    /* keys are compared as cJSON reads them: escapes decoded, UTF-8 as is */
    CHECK(says_duplicate("{\"a\": 1, \"\\u0061\": 2}",
                         "line 1, column 10: duplicate key \"\\u0061\" (first at line 1)"));
    CHECK(says_duplicate("{\"\\u00e9\": 1, \"\xc3\xa9\": 2}",
                         "line 1, column 15: duplicate key \"\xc3\xa9\" (first at line 1)"));
    CHECK(says_duplicate("{\"\\ud83d\\ude00\": 1, \"\xf0\x9f\x98\x80\": 2}",
                         "line 1, column 21: duplicate key \"\xf0\x9f\x98\x80\" (first at line 1)"));
    CHECK(says_duplicate("{\"a\\nb\": 1, \"a\\u000Ab\": 2}",
                         "line 1, column 13: duplicate key \"a\\u000Ab\" (first at line 1)"));
    CHECK(says_duplicate("{\"\": 1, \"\": 2}", "line 1, column 9: duplicate key \"\" (first at line 1)"));
    /* a long key is cut in the message */
    CHECK(says_duplicate("{\"0123456789012345678901234567890123456789012345678901234567890123456789\": 1,"
                         " \"0123456789012345678901234567890123456789012345678901234567890123456789\": 2}",
                         "line 1, column 79: duplicate key \"012345678901234567890123456789012345678901"
                         "234567890123456789...\" (first at line 1)"));
    /* one key in several objects, and keys that only look alike, are fine */
    CHECK(passes("[{\"a\": 1}, {\"a\": 2}]"));
    CHECK(passes("{\"a\": {\"a\": {\"a\": 1}}, \"b\": {\"a\": 2}}"));
    CHECK(passes("{\"x\": {\"b\": 1}, \"b\": 2, \"c\": [{\"x\": 1}]}"));
    CHECK(passes("{\"a\": 1, \"A\": 2, \"a \": 3, \"\\u00e9\": 4, \"e\": 5, \"\\ud83d\\ude01\": 6, "
                 "\"\xf0\x9f\x98\x80\": 7}"));
}

TEST(json_check_finds_duplicates_among_many_keys_and_deep_objects)
{
    /* 5000 keys in one object (the table grows several times), then one of the first again */
    size_t size = 5000 * 16 + 64, n = 0;
    char *text = malloc(size);
    REQUIRE(text != NULL);
    n += (size_t)snprintf(text + n, size - n, "{");
    for (int k = 0; k < 5000; k++)
        n += (size_t)snprintf(text + n, size - n, "%s\"k%d\": %d", k ? ",\n" : "", k, k);
    CHECK(passes(strcat(text, "}")));
    text[n] = '\0';
    strcat(text, ",\n\"k17\": 0}");
    CHECK(says_duplicate(text, "line 5001, column 1: duplicate key \"k17\" (first at line 18)"));
    free(text);
    /* 999 objects nested, each with key "k": fine; one more "k" in the innermost is not */
    size_t depth = JSON_MAX_DEPTH - 1;
    char *deep = malloc(depth * 8 + 64);
    REQUIRE(deep != NULL);
    n = 0;
    for (size_t d = 0; d < depth; d++)
        memcpy(deep + n, "{\"k\": ", 6), n += 6;
    memcpy(deep + n, "1", 1), n += 1;
    memset(deep + n, '}', depth), n += depth;
    deep[n] = '\0';
    CHECK(passes(deep));
    memcpy(deep + n - depth, ", \"k\": 2", 8);
    memset(deep + n - depth + 8, '}', depth);
    deep[n + 8] = '\0';
    CHECK(says_duplicate(deep, "line 1, column 5998: duplicate key \"k\" (first at line 1)"));
    free(deep);
}

/* Writes text to path. Returns 0 or -1. */
static int write_text_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f) ? -1 : 0;
}

TEST(json_duplicate_keys_are_refused_by_every_command)
{
    static const struct {
        const char *command, *file, *text, *message;
    } cases[] = {
        {"meta-train", "build/test_dup_meta.json", "{\n  \"lifetimes\": 2,\n  \"lifetimes\": 3\n}\n",
         "lpg: build/test_dup_meta.json: line 3, column 3: duplicate key \"lifetimes\" (first at line 2)"},
        {"train", "build/test_dup_train.json",
         "{\"env\": \"../configs/envs/chain_short.json\",\n \"lr\": 0.1, \"lr\": 0.2}",
         "lpg: build/test_dup_train.json: line 2, column 13: duplicate key \"lr\" (first at line 2)"},
        {"eval", "build/test_dup_eval.json",
         "{\"rules\": [{\"name\": \"a\", \"path\": \"../checkpoints/grid.lpg\",\n"
         "            \"name\": \"b\"}],\n \"envs\": [\"../configs/envs/chain_short.json\"]}",
         "lpg: build/test_dup_eval.json: line 2, column 13: duplicate key \"name\" (first at line 1)"},
        {"analyse values", "build/test_dup_analyse.json",
         "{\"rule\": \"../checkpoints/grid.lpg\", \"env\": \"../tests/configs/analyse_grid_small.json\","
         "\n \"seed\": 3, \"updates\": 20, \"seed\": 4}",
         "lpg: build/test_dup_analyse.json: line 2, column 28: duplicate key \"seed\" (first at line 2)"},
        {"env", "tests/configs/bad_env_duplicate_key.json", NULL,
         "lpg: tests/configs/bad_env_duplicate_key.json: line 18, column 2: duplicate key \"objects\" "
         "(first at line 15)"},
        /* an environment file named by a config */
        {"train", "build/test_dup_train_env.json",
         "{\"env\": \"../tests/configs/bad_env_duplicate_key.json\"}",
         "lpg: build/../tests/configs/bad_env_duplicate_key.json: line 18"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char args[512], out[8192];
        if (cases[k].text)
            REQUIRE(write_text_file(cases[k].file, cases[k].text) == 0);
        snprintf(args, sizeof args, "%s %s", cases[k].command, cases[k].file);
        int status = run_lpg(args, out, sizeof out);
        if (status == 0 || !strstr(out, cases[k].message)) {
            fprintf(stderr, "  lpg %s: exit %d, output: %s  expected: %s\n", args, status, out,
                    cases[k].message);
            CHECK(0);
        }
    }
}
