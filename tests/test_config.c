/* test_config.c: the config reader: types, ranges, unknown keys, overrides, paths. */
#include <cJSON.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "config.h"
#include "quiet_stderr.h"
#include "test.h"

typedef struct {
    int steps;
    double lr;
    int verbose;
    char name[CONFIG_STR_MAX];
    char env[LPG_PATH_MAX];
    ConfigPathList envs;
    ConfigDoubleList lrs;
} Sample;

static const ConfigField sample_fields[] = {
    {"steps", CONFIG_INT, offsetof(Sample, steps), 1, 1000, "steps", CONFIG_LEARNING, NULL},
    {"lr", CONFIG_DOUBLE, offsetof(Sample, lr), 0, 10, "learning rate", CONFIG_LEARNING, NULL},
    {"verbose", CONFIG_BOOL, offsetof(Sample, verbose), 0, 1, "chatty", CONFIG_LEARNING, NULL},
    {"name", CONFIG_STRING, offsetof(Sample, name), 0, 0, "a name", CONFIG_LEARNING, NULL},
    {"env", CONFIG_PATH, offsetof(Sample, env), 0, 0, "an env file", CONFIG_LEARNING, NULL},
    {"envs", CONFIG_PATH_LIST, offsetof(Sample, envs), 0, 0, "env files", CONFIG_LEARNING, NULL},
    {"lrs", CONFIG_DOUBLE_LIST, offsetof(Sample, lrs), 0, 100, "grid", CONFIG_LEARNING, NULL},
};
#define NSAMPLE ((int)(sizeof sample_fields / sizeof sample_fields[0]))

static int write_temp(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    fclose(f);
    return 0;
}

static int load_text(const char *text, Sample *s, int nover, char **over)
{
    const char *path = "build/test_config_sample.json";
    memset(s, 0, sizeof *s);
    s->steps = 7;
    if (write_temp(path, text))
        return -2;
    return config_load(path, sample_fields, NSAMPLE, s, nover, over);
}

TEST(config_reads_typed_values)
{
    Sample s;
    CHECK_INT(load_text("{\"steps\": 12, \"lr\": 0.5, \"verbose\": true, \"name\": \"x\","
                        " \"env\": \"envs/a.json\", \"envs\": [\"a.json\", \"/abs/b.json\"],"
                        " \"lrs\": [1, 2.5]}", &s, 0, NULL), 0);
    CHECK_INT(s.steps, 12);
    CHECK_NEAR(s.lr, 0.5, 0);
    CHECK_INT(s.verbose, 1);
    CHECK(strcmp(s.name, "x") == 0);
    CHECK(strcmp(s.env, "build/envs/a.json") == 0); /* relative to the config's folder */
    CHECK_INT(s.envs.count, 2);
    CHECK(strcmp(s.envs.item[0], "build/a.json") == 0);
    CHECK(strcmp(s.envs.item[1], "/abs/b.json") == 0);
    CHECK_INT(s.lrs.count, 2);
    CHECK_NEAR(s.lrs.item[1], 2.5, 0);
}

TEST(config_keeps_defaults_for_missing_keys)
{
    Sample s;
    REQUIRE(load_text("{}", &s, 0, NULL) == 0);
    CHECK_INT(s.steps, 7);
}

TEST(config_rejects_bad_input)
{
    Sample s;
    CHECK_INT(load_text("{\"stepz\": 1}", &s, 0, NULL), -1);
    CHECK_INT(load_text("{\"steps\": 1.5}", &s, 0, NULL), -1);
    CHECK_INT(load_text("{\"steps\": 0}", &s, 0, NULL), -1);
    CHECK_INT(load_text("{\"steps\": \"3\"}", &s, 0, NULL), -1);
    CHECK_INT(load_text("{\"lr\": 11}", &s, 0, NULL), -1);
    CHECK_INT(load_text("{\"verbose\": 1}", &s, 0, NULL), -1);
    CHECK_INT(load_text("{\"steps\": 3,}", &s, 0, NULL), -1);
    CHECK_INT(load_text("[1, 2]", &s, 0, NULL), -1);
    CHECK_INT(load_text("{\"envs\": []}", &s, 0, NULL), -1);
    CHECK_INT(load_text("{\"lrs\": [1, \"a\"]}", &s, 0, NULL), -1);
}

/* A key given twice is refused, whichever of the two values the reader would have taken. */
TEST(config_refuses_a_key_given_twice)
{
    Sample s;
    mute_stderr();
    CHECK_INT(load_text("{\"steps\": 2, \"steps\": 3}", &s, 0, NULL), -1);
    CHECK_INT(load_text("{\"steps\": 2, \"lr\": 1, \"steps\": 2}", &s, 0, NULL), -1);
    unmute_stderr();
    CHECK_INT(s.steps, 7); /* nothing was applied */
    CHECK_INT(load_text("{\"steps\": 2, \"lr\": 1}", &s, 0, NULL), 0);
    CHECK_INT(s.steps, 2);
    /* The reader of any JSON text, with where it came from in the message. */
    const char *text = "{\"a\": [{\"b\": 1,\n \"b\": 2}]}";
    mute_stderr();
    cJSON *root = config_parse_text(text, strlen(text), "somewhere");
    unmute_stderr();
    CHECK(root == NULL);
    cJSON_Delete(root);
    text = "{\"a\": [{\"b\": 1}, {\"b\": 2}]}";
    root = config_parse_text(text, strlen(text), "somewhere");
    CHECK(cJSON_IsObject(root) && cJSON_GetArraySize(cJSON_GetObjectItem(root, "a")) == 2);
    cJSON_Delete(root);
}

TEST(config_applies_overrides)
{
    Sample s;
    char *good[] = {"steps=99", "lr=0.25", "verbose=true", "lrs=1,2,3", "name=abc"};
    REQUIRE(load_text("{\"steps\": 12}", &s, 5, good) == 0);
    CHECK_INT(s.steps, 99);
    CHECK_NEAR(s.lr, 0.25, 0);
    CHECK_INT(s.verbose, 1);
    CHECK_INT(s.lrs.count, 3);
    CHECK(strcmp(s.name, "abc") == 0);
    char *bad_key[] = {"nope=1"};
    CHECK_INT(load_text("{}", &s, 1, bad_key), -1);
    char *bad_value[] = {"steps=abc"};
    CHECK_INT(load_text("{}", &s, 1, bad_value), -1);
    char *bad_range[] = {"steps=5000"};
    CHECK_INT(load_text("{}", &s, 1, bad_range), -1);
    char *no_equals[] = {"steps"};
    CHECK_INT(load_text("{}", &s, 1, no_equals), -1);
}

TEST(config_dirname_and_resolve)
{
    char out[LPG_PATH_MAX];
    config_dirname("configs/envs/x.json", out, sizeof out);
    CHECK(strcmp(out, "configs/envs") == 0);
    config_dirname("x.json", out, sizeof out);
    CHECK(strcmp(out, ".") == 0);
    CHECK_INT(config_resolve_path("configs", "envs/a.json", out, sizeof out), 0);
    CHECK(strcmp(out, "configs/envs/a.json") == 0);
    CHECK_INT(config_resolve_path(".", "a.json", out, sizeof out), 0);
    CHECK(strcmp(out, "a.json") == 0);
}

TEST(config_to_json_writes_every_key_and_reads_back)
{
    Sample s;
    char *over[] = {"lrs=2,4,8", "name=a \"quoted\" name"};
    CHECK_INT(load_text("{\"steps\": 12, \"lr\": 0.1, \"verbose\": true, \"env\": \"envs/a.json\","
                        " \"envs\": [\"a.json\", \"/abs/b.json\"]}", &s, 2, over), 0);
    char *json = config_to_json(sample_fields, NSAMPLE, &s);
    REQUIRE(json != NULL);
    if (!json)
        return;
    CHECK(strstr(json, "\"lrs\": [2,4,8]") != NULL);           /* the override, as a list */
    CHECK(strstr(json, "\"env\": \"build/envs/a.json\"") != NULL); /* paths as stored */
    CHECK(strstr(json, "\"verbose\": true") != NULL);
    cJSON *root = cJSON_Parse(json);
    REQUIRE(root != NULL);
    CHECK_INT(root ? cJSON_GetArraySize(root) : 0, NSAMPLE);
    /* Applied to a blank struct it gives back every value (paths already resolved: base "."). */
    Sample back;
    memset(&back, 0, sizeof back);
    CHECK_INT(root ? config_apply_json(root, sample_fields, NSAMPLE, &back, "json", ".") : -1, 0);
    CHECK_INT(back.steps, 12);
    CHECK(back.lr == s.lr);
    CHECK_INT(back.verbose, 1);
    CHECK(strcmp(back.name, "a \"quoted\" name") == 0);
    CHECK(strcmp(back.env, s.env) == 0);
    CHECK_INT(back.envs.count, 2);
    CHECK(strcmp(back.envs.item[1], "/abs/b.json") == 0);
    CHECK_INT(back.lrs.count, 3);
    CHECK(back.lrs.item[2] == 8);
    cJSON_Delete(root);
    free(json);
}

/* ---- choices and integer lists ------------------------------------------------------------ */

typedef struct {
    int mode;               /* index in mode_names */
    ConfigIntList widths;
} Choice;

static const char *const mode_names[] = {"off", "on", "auto", NULL};

static const ConfigField choice_fields[] = {
    {"mode", CONFIG_ENUM, offsetof(Choice, mode), 0, 0, "a choice", CONFIG_LEARNING, mode_names},
    {"widths", CONFIG_INT_LIST, offsetof(Choice, widths), 1, 64, "widths", CONFIG_OUTPUT, NULL},
};
#define NCHOICE ((int)(sizeof choice_fields / sizeof choice_fields[0]))

/* Loads text (and overrides) into c over the defaults mode "on", widths [32]; what the reader
 * printed goes to msg (at most size - 1 characters). */
static int load_choice(const char *text, Choice *c, int nover, char **over, char *msg,
                       size_t size)
{
    const char *path = "build/test_config_choice.json", *log = "build/test_config_choice.txt";
    memset(c, 0, sizeof *c);
    c->mode = 1;
    c->widths.count = 1;
    c->widths.item[0] = 32;
    if (write_temp(path, text))
        return -2;
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(log, "w");
    if (!f || saved < 0)
        return -2;
    dup2(fileno(f), 2);
    int rc = config_load(path, choice_fields, NCHOICE, c, nover, over);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(f);
    f = fopen(log, "r");
    size_t n = f ? fread(msg, 1, size - 1, f) : 0;
    msg[n] = '\0';
    if (f)
        fclose(f);
    return rc;
}

TEST(config_reads_a_choice_as_its_index_and_writes_its_name)
{
    Choice c;
    char msg[512];
    CHECK_INT(load_choice("{\"mode\": \"auto\"}", &c, 0, NULL, msg, sizeof msg), 0);
    CHECK_INT(c.mode, 2);
    char *over[] = {"mode=off"};
    CHECK_INT(load_choice("{\"mode\": \"auto\"}", &c, 1, over, msg, sizeof msg), 0);
    CHECK_INT(c.mode, 0);
    CHECK_INT(load_choice("{}", &c, 0, NULL, msg, sizeof msg), 0);
    CHECK_INT(c.mode, 1); /* the default stays */
    char *json = config_to_json(choice_fields, NCHOICE, &c);
    CHECK(json && strstr(json, "\"mode\": \"on\"") != NULL);
    free(json);
    /* Not a name of the list: the message lists them, in order. */
    CHECK_INT(load_choice("{\"mode\": \"maybe\"}", &c, 0, NULL, msg, sizeof msg), -1);
    CHECK(strstr(msg, "build/test_config_choice.json: key 'mode': expected \"off\", \"on\" or "
                      "\"auto\", got \"maybe\"") != NULL);
    char *bad[] = {"mode=On"};
    CHECK_INT(load_choice("{}", &c, 1, bad, msg, sizeof msg), -1);
    CHECK(strstr(msg, "command line: key 'mode': expected \"off\", \"on\" or \"auto\", got "
                      "\"On\"") != NULL);
    CHECK_INT(load_choice("{\"mode\": 1}", &c, 0, NULL, msg, sizeof msg), -1);
    CHECK(strstr(msg, "key 'mode': expected a string") != NULL);
}

TEST(config_reads_integer_lists_and_refuses_fractions)
{
    Choice c;
    char msg[512];
    CHECK_INT(load_choice("{\"widths\": [4, 64]}", &c, 0, NULL, msg, sizeof msg), 0);
    CHECK_INT(c.widths.count, 2);
    CHECK_INT(c.widths.item[0], 4);
    CHECK_INT(c.widths.item[1], 64);
    char *over[] = {"widths=8,16,24"};
    CHECK_INT(load_choice("{}", &c, 1, over, msg, sizeof msg), 0);
    CHECK_INT(c.widths.count, 3);
    CHECK_INT(c.widths.item[2], 24);
    char *json = config_to_json(choice_fields, NCHOICE, &c);
    CHECK(json && strstr(json, "\"widths\": [8,16,24]") != NULL);
    free(json);
    CHECK_INT(load_choice("{\"widths\": [8.5]}", &c, 0, NULL, msg, sizeof msg), -1);
    CHECK(strstr(msg, "key 'widths': item 0 is not an integer") != NULL);
    CHECK_INT(load_choice("{\"widths\": [8, 65]}", &c, 0, NULL, msg, sizeof msg), -1);
    CHECK(strstr(msg, "key 'widths': value 65 is out of range [1, 64]") != NULL);
    CHECK_INT(load_choice("{\"widths\": []}", &c, 0, NULL, msg, sizeof msg), -1);
    CHECK(strstr(msg, "key 'widths': list must have 1 to") != NULL);
}

TEST(config_names_the_keys_of_a_role_and_finds_fields)
{
    char keys[128];
    config_keys_with_role(choice_fields, NCHOICE, CONFIG_OUTPUT, keys, sizeof keys);
    CHECK(strcmp(keys, "widths") == 0);
    config_keys_with_role(sample_fields, NSAMPLE, CONFIG_LEARNING, keys, sizeof keys);
    CHECK(strcmp(keys, "steps, lr, verbose, name, env, envs and lrs") == 0);
    CHECK(config_field(choice_fields, NCHOICE, "mode") == &choice_fields[0]);
    CHECK(config_field(choice_fields, NCHOICE, "nope") == NULL);
}
