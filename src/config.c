/* config.c: reading JSON configs into typed structs with strict checking (see config.h). */
#include "config.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_check.h"

struct cJSON *config_parse_text(const char *text, size_t len, const char *where)
{
    char why[256];
    int checked = json_check(text, len, why, sizeof why);
    if (checked) {
        lpg_error("%s: %s%s", where, checked == JSON_CHECK_DUPLICATE_KEY ? "" : "invalid JSON: ",
                  why);
        return NULL;
    }
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) /* the check above passed, so cJSON itself gave up (out of memory?) */
        lpg_error("%s: cJSON could not parse it", where);
    return root;
}

struct cJSON *config_parse_file(const char *path)
{
    size_t len = 0;
    char *text = read_whole_file(path, &len);
    if (!text)
        return NULL;
    cJSON *root = config_parse_text(text, len, path);
    if (root && !cJSON_IsObject(root)) {
        lpg_error("%s: the top level must be a JSON object", path);
        cJSON_Delete(root);
        root = NULL;
    }
    free(text);
    return root;
}

static const char *type_name(ConfigType type)
{
    switch (type) {
    case CONFIG_INT: return "integer";
    case CONFIG_DOUBLE: return "number";
    case CONFIG_BOOL: return "boolean";
    case CONFIG_STRING: return "string";
    case CONFIG_PATH: return "path";
    case CONFIG_PATH_LIST: return "list of paths";
    case CONFIG_DOUBLE_LIST: return "list of numbers";
    case CONFIG_ENUM: return "choice";
    case CONFIG_INT_LIST: return "list of ints";
    }
    return "?";
}

static const char *type_phrase(ConfigType type)
{
    return type == CONFIG_INT ? "an integer" : "a number";
}

void config_dirname(const char *path, char *out, size_t outsize)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(out, outsize, ".");
        return;
    }
    size_t n = (size_t)(slash - path);
    if (n == 0)
        n = 1; /* "/x.json" -> "/" */
    if (n >= outsize)
        n = outsize - 1;
    memcpy(out, path, n);
    out[n] = '\0';
}

int config_resolve_path(const char *base_dir, const char *rel, char *out, size_t outsize)
{
    int n;
    if (rel[0] == '/' || !base_dir || !base_dir[0] || strcmp(base_dir, ".") == 0)
        n = snprintf(out, outsize, "%s", rel);
    else
        n = snprintf(out, outsize, "%s/%s", base_dir, rel);
    return (n < 0 || (size_t)n >= outsize) ? -1 : 0;
}

static int range_error(const char *where, const char *key, double value, double min, double max)
{
    return lpg_error("%s: key '%s': value %g is out of range [%g, %g]", where, key, value, min, max);
}

/* Stores a number into an INT/DOUBLE/BOOL field after checks. */
static int store_number(const ConfigField *f, double value, void *out, const char *where)
{
    if (!isfinite(value))
        return lpg_error("%s: key '%s': value must be finite", where, f->key);
    if (f->type == CONFIG_INT && value != floor(value))
        return lpg_error("%s: key '%s': expected an integer, got %g", where, f->key, value);
    if (value < f->min || value > f->max)
        return range_error(where, f->key, value, f->min, f->max);
    char *slot = (char *)out + f->offset;
    if (f->type == CONFIG_INT || f->type == CONFIG_BOOL)
        *(int *)slot = (int)value;
    else
        *(double *)slot = value;
    return 0;
}

static int store_string(const ConfigField *f, const char *s, void *out, const char *where,
                        const char *base_dir, char *slot_override)
{
    char *slot = slot_override ? slot_override : (char *)out + f->offset;
    if (f->type == CONFIG_STRING) {
        if (strlen(s) >= CONFIG_STR_MAX)
            return lpg_error("%s: key '%s': string longer than %d characters", where, f->key,
                             CONFIG_STR_MAX - 1);
        strcpy(slot, s);
        return 0;
    }
    if (s[0] == '\0')
        return lpg_error("%s: key '%s': empty path", where, f->key);
    if (config_resolve_path(base_dir, s, slot, LPG_PATH_MAX) != 0)
        return lpg_error("%s: key '%s': path too long", where, f->key);
    return 0;
}

static int check_count(const ConfigField *f, int count, const char *where)
{
    if (count < 1 || count > CONFIG_LIST_MAX)
        return lpg_error("%s: key '%s': list must have 1 to %d items, has %d", where, f->key,
                         CONFIG_LIST_MAX, count);
    return 0;
}

/* The name of value in a NULL-terminated list of names, or "?" when out of range. */
static const char *config_enum_name(const char *const *names, int value)
{
    for (int k = 0; names[k]; k++)
        if (k == value)
            return names[k];
    return "?";
}

/* Stores the index of name in f->names, or reports the names expected. */
static int store_enum(const ConfigField *f, const char *name, void *out, const char *where)
{
    int count = 0;
    for (; f->names[count]; count++)
        if (strcmp(name, f->names[count]) == 0) {
            *(int *)((char *)out + f->offset) = count;
            return 0;
        }
    char expected[512];
    config_join_words(f->names, count, " or ", 1, expected, sizeof expected);
    return lpg_error("%s: key '%s': expected %s, got \"%s\"", where, f->key, expected, name);
}

static int apply_value(const ConfigField *f, const cJSON *item, void *out, const char *where,
                       const char *base_dir)
{
    char *slot = (char *)out + f->offset;
    switch (f->type) {
    case CONFIG_INT:
    case CONFIG_DOUBLE:
        if (!cJSON_IsNumber(item))
            return lpg_error("%s: key '%s': expected %s", where, f->key, type_phrase(f->type));
        return store_number(f, item->valuedouble, out, where);
    case CONFIG_BOOL:
        if (!cJSON_IsBool(item))
            return lpg_error("%s: key '%s': expected true or false", where, f->key);
        *(int *)slot = cJSON_IsTrue(item) ? 1 : 0;
        return 0;
    case CONFIG_STRING:
    case CONFIG_PATH:
        if (!cJSON_IsString(item))
            return lpg_error("%s: key '%s': expected a string", where, f->key);
        return store_string(f, item->valuestring, out, where, base_dir, NULL);
    case CONFIG_PATH_LIST: {
        if (!cJSON_IsArray(item))
            return lpg_error("%s: key '%s': expected a list of strings", where, f->key);
        ConfigPathList *list = (ConfigPathList *)slot;
        int count = cJSON_GetArraySize(item);
        if (check_count(f, count, where))
            return -1;
        int i = 0;
        for (const cJSON *e = item->child; e; e = e->next, i++) {
            if (!cJSON_IsString(e))
                return lpg_error("%s: key '%s': item %d is not a string", where, f->key, i);
            if (store_string(f, e->valuestring, out, where, base_dir, list->item[i]))
                return -1;
        }
        list->count = count;
        return 0;
    }
    case CONFIG_ENUM:
        if (!cJSON_IsString(item))
            return lpg_error("%s: key '%s': expected a string", where, f->key);
        return store_enum(f, item->valuestring, out, where);
    case CONFIG_INT_LIST:
    case CONFIG_DOUBLE_LIST: {
        int integers = f->type == CONFIG_INT_LIST;
        if (!cJSON_IsArray(item))
            return lpg_error("%s: key '%s': expected a list of %s", where, f->key,
                             integers ? "integers" : "numbers");
        int count = cJSON_GetArraySize(item);
        if (check_count(f, count, where))
            return -1;
        int i = 0;
        for (const cJSON *e = item->child; e; e = e->next, i++) {
            double value = cJSON_IsNumber(e) ? e->valuedouble : NAN;
            if (!isfinite(value) || (integers && value != floor(value)))
                return lpg_error("%s: key '%s': item %d is not %s", where, f->key, i,
                                 integers ? "an integer" : "a number");
            if (value < f->min || value > f->max)
                return range_error(where, f->key, value, f->min, f->max);
            if (integers)
                ((ConfigIntList *)slot)->item[i] = (int)value;
            else
                ((ConfigDoubleList *)slot)->item[i] = value;
        }
        if (integers)
            ((ConfigIntList *)slot)->count = count;
        else
            ((ConfigDoubleList *)slot)->count = count;
        return 0;
    }
    }
    return lpg_error("%s: key '%s': unsupported field type", where, f->key);
}

int config_apply_json(const cJSON *obj, const ConfigField *fields, int nfields, void *out,
                      const char *where, const char *base_dir)
{
    for (const cJSON *item = obj->child; item; item = item->next) {
        const ConfigField *f = config_field(fields, nfields, item->string);
        if (!f)
            return lpg_error("%s: unknown key '%s'", where, item->string);
        if (apply_value(f, item, out, where, base_dir))
            return -1;
    }
    return 0;
}

int config_apply_override(const char *arg, const ConfigField *fields, int nfields, void *out)
{
    const char *eq = strchr(arg, '=');
    char key[CONFIG_STR_MAX];
    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof key)
        return lpg_error("command line: '%s': expected key=value", arg);
    memcpy(key, arg, (size_t)(eq - arg));
    key[eq - arg] = '\0';
    const char *value = eq + 1;
    const ConfigField *f = config_field(fields, nfields, key);
    const char *where = "command line"; /* messages go on with "key '<key>': ..." */
    if (!f)
        return lpg_error("%s: unknown key '%s'", where, key);
    double number;
    switch (f->type) {
    case CONFIG_INT:
    case CONFIG_DOUBLE:
        if (parse_double(value, &number))
            return lpg_error("%s: key '%s': expected %s, got '%s'", where, key,
                             type_phrase(f->type), value);
        return store_number(f, number, out, where);
    case CONFIG_BOOL:
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
            return lpg_error("%s: key '%s': expected true or false, got '%s'", where, key, value);
        *(int *)((char *)out + f->offset) = strcmp(value, "true") == 0;
        return 0;
    case CONFIG_STRING:
    case CONFIG_PATH:
        return store_string(f, value, out, where, ".", NULL);
    case CONFIG_ENUM:
        return store_enum(f, value, out, where);
    case CONFIG_PATH_LIST:
    case CONFIG_DOUBLE_LIST:
    case CONFIG_INT_LIST: {
        /* Comma-separated; parsed into a temporary JSON array so both paths share one check. */
        cJSON *array = cJSON_CreateArray();
        char buf[4096];
        if (snprintf(buf, sizeof buf, "%s", value) >= (int)sizeof buf) {
            cJSON_Delete(array);
            return lpg_error("%s: key '%s': value too long", where, key);
        }
        int bad = 0;
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
            if (f->type == CONFIG_PATH_LIST) {
                cJSON_AddItemToArray(array, cJSON_CreateString(tok));
            } else if (parse_double(tok, &number)) {
                bad = lpg_error("%s: key '%s': '%s' is not a number", where, key, tok);
                break;
            } else {
                cJSON_AddItemToArray(array, cJSON_CreateNumber(number));
            }
        }
        int rc = bad ? -1 : apply_value(f, array, out, where, ".");
        cJSON_Delete(array);
        return rc;
    }
    }
    return -1;
}

int config_load(const char *path, const ConfigField *fields, int nfields, void *out,
                int noverrides, char **overrides)
{
    cJSON *root = config_parse_file(path);
    if (!root)
        return -1;
    char dir[LPG_PATH_MAX];
    config_dirname(path, dir, sizeof dir);
    int rc = config_apply_json(root, fields, nfields, out, path, dir);
    cJSON_Delete(root);
    for (int i = 0; rc == 0 && i < noverrides; i++)
        rc = config_apply_override(overrides[i], fields, nfields, out);
    return rc;
}

void config_print_fields(const ConfigField *fields, int nfields, const void *defaults)
{
    for (int i = 0; i < nfields; i++) {
        const ConfigField *f = &fields[i];
        const char *slot = (const char *)defaults + f->offset;
        char def[LPG_PATH_MAX + 16] = "";
        switch (f->type) {
        case CONFIG_INT: snprintf(def, sizeof def, "%d", *(const int *)slot); break;
        case CONFIG_DOUBLE: snprintf(def, sizeof def, "%g", *(const double *)slot); break;
        case CONFIG_BOOL: snprintf(def, sizeof def, "%s", *(const int *)slot ? "true" : "false"); break;
        case CONFIG_STRING:
        case CONFIG_PATH: snprintf(def, sizeof def, "\"%s\"", slot); break;
        case CONFIG_PATH_LIST: {
            const ConfigPathList *l = (const ConfigPathList *)slot;
            snprintf(def, sizeof def, "%d item%s", l->count, l->count == 1 ? "" : "s");
            break;
        }
        case CONFIG_DOUBLE_LIST: {
            const ConfigDoubleList *l = (const ConfigDoubleList *)slot;
            size_t n = 0;
            for (int j = 0; j < l->count && n < sizeof def - 24; j++)
                n += (size_t)snprintf(def + n, sizeof def - n, "%s%g", j ? "," : "", l->item[j]);
            break;
        }
        case CONFIG_ENUM:
            snprintf(def, sizeof def, "\"%s\"", config_enum_name(f->names, *(const int *)slot));
            break;
        case CONFIG_INT_LIST: {
            const ConfigIntList *l = (const ConfigIntList *)slot;
            size_t n = 0;
            for (int j = 0; j < l->count && n < sizeof def - 24; j++)
                n += (size_t)snprintf(def + n, sizeof def - n, "%s%d", j ? "," : "", l->item[j]);
            break;
        }
        }
        printf("  %-22s %-15s %s [default: %s]\n", f->key, type_name(f->type), f->help, def);
    }
}

/* The JSON value of one field of config; NULL when cJSON runs out of memory. */
static cJSON *field_to_json(const ConfigField *f, const void *config)
{
    const char *slot = (const char *)config + f->offset;
    switch (f->type) {
    case CONFIG_INT: return cJSON_CreateNumber(*(const int *)slot);
    case CONFIG_DOUBLE: return cJSON_CreateNumber(*(const double *)slot);
    case CONFIG_BOOL: return cJSON_CreateBool(*(const int *)slot);
    case CONFIG_STRING:
    case CONFIG_PATH: return cJSON_CreateString(slot);
    case CONFIG_PATH_LIST: {
        const ConfigPathList *list = (const ConfigPathList *)slot;
        cJSON *array = cJSON_CreateArray();
        for (int i = 0; array && i < list->count; i++)
            if (!cJSON_AddItemToArray(array, cJSON_CreateString(list->item[i]))) {
                cJSON_Delete(array);
                array = NULL;
            }
        return array;
    }
    case CONFIG_DOUBLE_LIST: {
        const ConfigDoubleList *list = (const ConfigDoubleList *)slot;
        return cJSON_CreateDoubleArray(list->item, list->count);
    }
    case CONFIG_ENUM: return cJSON_CreateString(config_enum_name(f->names, *(const int *)slot));
    case CONFIG_INT_LIST: {
        const ConfigIntList *list = (const ConfigIntList *)slot;
        return cJSON_CreateIntArray(list->item, list->count);
    }
    }
    return NULL;
}

char *config_to_json(const ConfigField *fields, int nfields, const void *config)
{
    /* One key per line, values compact ("[2,4,8]"): easy to read and to grep, and valid JSON. */
    char **values = calloc((size_t)(nfields > 0 ? nfields : 1), sizeof *values);
    size_t len = 8; /* braces, newlines, NUL */
    int ok = values != NULL;
    for (int i = 0; ok && i < nfields; i++) {
        cJSON *value = field_to_json(&fields[i], config);
        values[i] = value ? cJSON_PrintUnformatted(value) : NULL;
        cJSON_Delete(value);
        ok = values[i] != NULL;
        if (ok)
            len += strlen(fields[i].key) + strlen(values[i]) + 8;
    }
    char *text = ok ? malloc(len) : NULL;
    if (text) {
        size_t n = (size_t)snprintf(text, len, "{\n");
        for (int i = 0; i < nfields; i++)
            n += (size_t)snprintf(text + n, len - n, "  \"%s\": %s%s\n", fields[i].key, values[i],
                                  i + 1 < nfields ? "," : "");
        snprintf(text + n, len - n, "}\n");
    }
    for (int i = 0; values && i < nfields; i++)
        cJSON_free(values[i]);
    free(values);
    if (!text)
        lpg_error("out of memory formatting a config as JSON");
    return text;
}

int config_check_keys(const cJSON *obj, const char *const *allowed, const char *where)
{
    for (const cJSON *item = obj->child; item; item = item->next) {
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, item->string) == 0;
        if (!ok)
            return lpg_error("%s: unknown key '%s'", where, item->string);
    }
    return 0;
}

static const cJSON *get_member(const cJSON *obj, const char *key, int required, const char *where,
                               int *missing)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    *missing = item == NULL;
    if (!item && required)
        lpg_error("%s: missing required key '%s'", where, key);
    return item;
}

int config_get_int(const cJSON *obj, const char *key, int required, int min, int max, int *out,
                   const char *where)
{
    int missing;
    const cJSON *item = get_member(obj, key, required, where, &missing);
    if (missing)
        return required ? -1 : 0;
    ConfigField f = {key, CONFIG_INT, 0, min, max, "", CONFIG_LEARNING, NULL};
    if (!cJSON_IsNumber(item))
        return lpg_error("%s: key '%s': expected an integer", where, key);
    return store_number(&f, item->valuedouble, out, where);
}

int config_get_double(const cJSON *obj, const char *key, int required, double min, double max,
                      double *out, const char *where)
{
    int missing;
    const cJSON *item = get_member(obj, key, required, where, &missing);
    if (missing)
        return required ? -1 : 0;
    ConfigField f = {key, CONFIG_DOUBLE, 0, min, max, "", CONFIG_LEARNING, NULL};
    if (!cJSON_IsNumber(item))
        return lpg_error("%s: key '%s': expected a number", where, key);
    return store_number(&f, item->valuedouble, out, where);
}

const ConfigField *config_field(const ConfigField *fields, int nfields, const char *key)
{
    for (int i = 0; i < nfields; i++)
        if (strcmp(fields[i].key, key) == 0)
            return &fields[i];
    return NULL;
}

void config_join_words(const char *const *words, int count, const char *last, int quote,
                       char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (int k = 0; k < count && n < size; k++)
        n += (size_t)snprintf(out + n, size - n, "%s%s%s%s",
                              k == 0 ? "" : k == count - 1 ? last : ", ", quote ? "\"" : "",
                              words[k], quote ? "\"" : "");
}

void config_keys_with_role(const ConfigField *fields, int nfields, ConfigRole role, char *out,
                           size_t size)
{
    const char *keys[256];
    int count = 0;
    for (int i = 0; i < nfields && count < 256; i++)
        if (fields[i].role == role)
            keys[count++] = fields[i].key;
    config_join_words(keys, count, " and ", 0, out, size);
}
