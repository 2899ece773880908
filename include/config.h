/* config.h: JSON configs read with cJSON into typed structs.
 *
 * A command describes its config as a table of ConfigField (key, type, offset into its struct,
 * range, help). config_load() fills the struct from a file: the caller sets defaults first, every
 * key in the file must be in the table, every value must have the field's type and lie in range.
 * Command-line `key=value` overrides go through the same checks. Errors name the file and key.
 * Nested parts (an environment's objects, say) are read with the config_get_* helpers. */
#ifndef LPG_CONFIG_H
#define LPG_CONFIG_H

#include <stddef.h>
#include "util.h"

struct cJSON;

#define CONFIG_STR_MAX 256
#define CONFIG_LIST_MAX 64

typedef enum {
    CONFIG_INT,         /* int */
    CONFIG_DOUBLE,      /* double */
    CONFIG_BOOL,        /* int, 0 or 1 */
    CONFIG_STRING,      /* char[CONFIG_STR_MAX] */
    CONFIG_PATH,        /* char[LPG_PATH_MAX], resolved relative to the config file's folder */
    CONFIG_PATH_LIST,   /* ConfigPathList, each resolved like CONFIG_PATH */
    CONFIG_DOUBLE_LIST, /* ConfigDoubleList */
    CONFIG_ENUM,        /* int: the index in the field's names of the string given */
    CONFIG_INT_LIST,    /* ConfigIntList */
} ConfigType;

typedef struct {
    int count;
    char item[CONFIG_LIST_MAX][LPG_PATH_MAX];
} ConfigPathList;

typedef struct {
    int count;
    double item[CONFIG_LIST_MAX];
} ConfigDoubleList;

typedef struct {
    int count;
    int item[CONFIG_LIST_MAX];
} ConfigIntList;

/* What a key means for the numbers a command computes. */
typedef enum {
    CONFIG_LEARNING = 0, /* changes what is learned or measured (the default): a resumed
                          * meta-training run refuses a change, eval's ranks must agree on it */
    CONFIG_OUTPUT,       /* output only: where, how often and how fast results are written, how
                          * long a run goes on, how much memory it may take; no number depends
                          * on it */
} ConfigRole;

typedef struct {
    const char *key;
    ConfigType type;
    size_t offset;    /* offsetof(the struct, the member) */
    double min, max;  /* value range; for lists, also each item's range (counts: 1..CONFIG_LIST_MAX) */
    const char *help; /* one line for --help */
    ConfigRole role;
    const char *const *names; /* CONFIG_ENUM: the values' names, NULL-terminated (else NULL) */
} ConfigField;

/* Rows of a field table for the struct T: a learning key, an output-only key, and a choice
 * among names (a learning key). A command's table file defines its short names over these. */
#define CONFIG_KEY(T, key, type, member, min, max, help) \
    {key, type, offsetof(T, member), min, max, help, CONFIG_LEARNING, NULL}
#define CONFIG_OUTPUT_KEY(T, key, type, member, min, max, help) \
    {key, type, offsetof(T, member), min, max, help, CONFIG_OUTPUT, NULL}
#define CONFIG_CHOICE(T, key, member, names, help) \
    {key, CONFIG_ENUM, offsetof(T, member), 0, 0, help, CONFIG_LEARNING, names}

/* words[0..count) as one phrase into out: "a, b and c" with last " and ", quoted ("\"a\"")
 * when quote is 1; cut short if it does not fit. */
void config_join_words(const char *const *words, int count, const char *last, int quote,
                       char *out, size_t size);

/* The field of key in the table, or NULL. */
const ConfigField *config_field(const ConfigField *fields, int nfields, const char *key);

/* The keys of the table with the given role, as "a, b and c" into out. */
void config_keys_with_role(const ConfigField *fields, int nfields, ConfigRole role, char *out,
                           size_t size);

/* Parses JSON text[0..len) after the strict check of json_check.h; returns the tree (caller
 * frees with cJSON_Delete) or NULL after reporting "lpg: <where>: invalid JSON: line L, column
 * C: <what was expected>", or "lpg: <where>: line L, column C: duplicate key "k" (...)". */
struct cJSON *config_parse_text(const char *text, size_t len, const char *where);

/* Parses a JSON file whose top level is an object, as config_parse_text with the path as where. */
struct cJSON *config_parse_file(const char *path);

/* Applies the members of JSON object obj to out by the field table. `where` names the place in
 * errors (a file path, or "path: objects[2]"); `base_dir` resolves relative paths. */
int config_apply_json(const struct cJSON *obj, const ConfigField *fields, int nfields, void *out,
                      const char *where, const char *base_dir);

/* Loads path into out (defaults already set), then applies overrides ("key=value" strings). */
int config_load(const char *path, const ConfigField *fields, int nfields, void *out,
                int noverrides, char **overrides);

/* Applies one "key=value" override (value parsed as the field's type; lists comma separated). */
int config_apply_override(const char *arg, const ConfigField *fields, int nfields, void *out);

/* Prints the table as "  key (type, range): help [default]" lines, reading defaults from out. */
void config_print_fields(const ConfigField *fields, int nfields, const void *defaults);

/* Formats config (a struct described by the table) as JSON text: every key in table order with
 * its current value; lists as arrays, paths as stored (already resolved). Returns a new string
 * the caller frees, or NULL after reporting. */
char *config_to_json(const ConfigField *fields, int nfields, const void *config);

/* Checks that every member of obj is one of the NULL-terminated allowed keys. */
int config_check_keys(const struct cJSON *obj, const char *const *allowed, const char *where);

/* Typed getters for nested parts: required members must exist; on error they report
 * "<where>: key '<key>': <problem>" and return -1. */
int config_get_int(const struct cJSON *obj, const char *key, int required, int min, int max,
                   int *out, const char *where);
int config_get_double(const struct cJSON *obj, const char *key, int required, double min,
                      double max, double *out, const char *where);

/* Directory part of path ("configs/envs/x.json" -> "configs/envs"; "x.json" -> "."). */
void config_dirname(const char *path, char *out, size_t outsize);

/* Joins base_dir and rel unless rel is absolute. Returns -1 if it does not fit. */
int config_resolve_path(const char *base_dir, const char *rel, char *out, size_t outsize);

#endif
