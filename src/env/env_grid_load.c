/* env_grid_load.c: reading and checking the grid-world part of an environment file (the schema
 * is in env.c). Every error names the file, the place in it and the key. */
#include <cJSON.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "env_kinds.h"

#define WHERE_MAX (LPG_PATH_MAX + 32)

static const char *const grid_keys[] = {"name",  "kind",  "gamma", "max_steps",
                                           "width", "height", "moves", "walls",
                                           "start", "object_types", "objects", NULL};
static const char *const type_keys[] = {"reward", "p_end", "p_respawn", NULL};
static const char *const fixed_object_keys[] = {"type", "at", NULL};
static const char *const drawn_object_keys[] = {"type", "count", NULL};

/* Reads [x, y] into a cell index; `where` and `key` name it in errors. */
static int read_cell(const cJSON *item, const EnvSpec *spec, const char *where, const char *key,
                     int *cell)
{
    if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) != 2 ||
        !cJSON_IsNumber(item->child) || !cJSON_IsNumber(item->child->next))
        return lpg_error("%s: key '%s': expected a cell [x, y]", where, key);
    double x = item->child->valuedouble, y = item->child->next->valuedouble;
    if (x < 0 || x >= spec->width || y < 0 || y >= spec->height)
        return lpg_error("%s: key '%s': cell (%g, %g) is outside the %dx%d grid", where, key, x,
                         y, spec->width, spec->height);
    if (x != (int)x || y != (int)y)
        return lpg_error("%s: key '%s': cell coordinates must be integers", where, key);
    *cell = (int)y * spec->width + (int)x;
    return 0;
}

static int cell_x(const EnvSpec *spec, int cell) { return cell % spec->width; }
static int cell_y(const EnvSpec *spec, int cell) { return cell / spec->width; }

static const cJSON *get_array(const cJSON *root, const char *key, int required, int max_items,
                              const char *path)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!item) {
        if (required)
            lpg_error("%s: missing required key '%s'", path, key);
        return NULL;
    }
    if (!cJSON_IsArray(item)) {
        lpg_error("%s: key '%s': expected a list", path, key);
        return NULL;
    }
    int count = cJSON_GetArraySize(item);
    if (count > max_items || (required && count == 0)) {
        lpg_error("%s: key '%s': list must have %d to %d items, has %d", path, key, required,
                  max_items, count);
        return NULL;
    }
    return item;
}

static int read_size(const cJSON *root, EnvSpec *spec, const char *path)
{
    spec->moves = 9;
    if (config_get_int(root, "width", 1, 2, ENV_MAX_SIDE, &spec->width, path) ||
        config_get_int(root, "height", 1, 2, ENV_MAX_SIDE, &spec->height, path) ||
        config_get_int(root, "moves", 0, 4, 9, &spec->moves, path))
        return -1;
    if (spec->moves != 4 && spec->moves != 9)
        return lpg_error("%s: key 'moves': expected 4 or 9, got %d", path, spec->moves);
    return 0;
}

static int read_walls(const cJSON *root, EnvSpec *spec, const char *path)
{
    const cJSON *walls = cJSON_GetObjectItemCaseSensitive(root, "walls");
    if (!walls)
        return 0;
    if (!get_array(root, "walls", 0, ENV_MAX_CELLS, path))
        return -1;
    char where[WHERE_MAX];
    int k = 0;
    for (const cJSON *item = walls->child; item; item = item->next, k++) {
        snprintf(where, sizeof where, "%s: walls[%d]", path, k);
        int cell;
        if (read_cell(item, spec, where, "walls", &cell))
            return -1;
        if (spec->wall[cell])
            return lpg_error("%s: key 'walls': duplicate cell (%d, %d)", where,
                             cell_x(spec, cell), cell_y(spec, cell));
        spec->wall[cell] = 1;
    }
    int cells = spec->width * spec->height;
    if (k >= cells)
        return lpg_error("%s: key 'walls': no free cell left", path);
    return 0;
}

static int read_object_types(const cJSON *root, EnvSpec *spec, const char *path)
{
    const cJSON *types = get_array(root, "object_types", 1, ENV_MAX_TYPES, path);
    if (!types)
        return -1;
    char where[WHERE_MAX];
    int t = 0;
    for (const cJSON *item = types->child; item; item = item->next, t++) {
        snprintf(where, sizeof where, "%s: object_types[%d]", path, t);
        ObjectType *type = &spec->type[t];
        if (!cJSON_IsObject(item))
            return lpg_error("%s: key 'object_types': expected an object", where);
        if (config_check_keys(item, type_keys, where) ||
            config_get_double(item, "reward", 1, -100.0, 100.0, &type->reward, where) ||
            config_get_double(item, "p_end", 1, 0.0, 1.0, &type->p_end, where) ||
            config_get_double(item, "p_respawn", 1, 0.0, 1.0, &type->p_respawn, where))
            return -1;
    }
    spec->num_types = t;
    return 0;
}

/* Adds `count` objects of type `type`; the cells are set by the caller (tabular) or drawn. */
static int add_objects(EnvSpec *spec, int type, int count, const char *path)
{
    if (spec->num_objects + count > ENV_MAX_OBJECTS)
        return lpg_error("%s: key 'objects': too many objects (%d > %d)", path,
                         spec->num_objects + count, ENV_MAX_OBJECTS);
    for (int k = 0; k < count; k++) {
        spec->object_type[spec->num_objects] = type;
        spec->object_cell[spec->num_objects] = -1;
        spec->num_objects++;
    }
    return 0;
}

static int object_at(const EnvSpec *spec, int cell)
{
    for (int j = 0; j < spec->num_objects; j++)
        if (spec->object_cell[j] == cell)
            return j;
    return -1;
}

/* One entry of "objects": {"type", "at"} for tabular grids, {"type", "count"} for random ones. */
static int read_object(const cJSON *item, EnvSpec *spec, const char *where, const char *path)
{
    int tabular = spec->kind == ENV_TABULAR_GRID;
    if (!cJSON_IsObject(item))
        return lpg_error("%s: key 'objects': expected an object", where);
    int type = 0, count = 1, cell = -1;
    if (config_check_keys(item, tabular ? fixed_object_keys : drawn_object_keys, where) ||
        config_get_int(item, "type", 1, 0, spec->num_types - 1, &type, where))
        return -1;
    if (!tabular) {
        if (config_get_int(item, "count", 1, 1, ENV_MAX_OBJECTS, &count, where))
            return -1;
        return add_objects(spec, type, count, path);
    }
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(item, "at");
    if (!at)
        return lpg_error("%s: missing required key 'at'", where);
    if (read_cell(at, spec, where, "at", &cell))
        return -1;
    if (spec->wall[cell])
        return lpg_error("%s: key 'at': cell (%d, %d) is a wall", where, cell_x(spec, cell),
                         cell_y(spec, cell));
    int other = object_at(spec, cell);
    if (other >= 0)
        return lpg_error("%s: key 'at': cell (%d, %d) already holds object %d", where,
                         cell_x(spec, cell), cell_y(spec, cell), other);
    if (add_objects(spec, type, 1, path))
        return -1;
    spec->object_cell[spec->num_objects - 1] = cell;
    return 0;
}

static int read_objects(const cJSON *root, EnvSpec *spec, const char *path)
{
    const cJSON *objects = get_array(root, "objects", 1, ENV_MAX_OBJECTS, path);
    if (!objects)
        return -1;
    char where[WHERE_MAX];
    int k = 0;
    for (const cJSON *item = objects->child; item; item = item->next, k++) {
        snprintf(where, sizeof where, "%s: objects[%d]", path, k);
        if (read_object(item, spec, where, path))
            return -1;
    }
    return 0;
}

static int read_start(const cJSON *root, EnvSpec *spec, const char *path)
{
    spec->start_cell = -1;
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(root, "start");
    if (!start)
        return 0;
    int cell;
    if (read_cell(start, spec, path, "start", &cell))
        return -1;
    if (spec->wall[cell])
        return lpg_error("%s: key 'start': cell (%d, %d) is a wall", path, cell_x(spec, cell),
                         cell_y(spec, cell));
    spec->start_cell = cell;
    return 0;
}

/* Room for everything: the agent and the objects must fit on distinct free cells. */
static int check_room(const EnvSpec *spec, const char *path)
{
    int cells = spec->width * spec->height, open = 0;
    for (int c = 0; c < cells; c++)
        open += !spec->wall[c];
    if (spec->kind == ENV_RANDOM_GRID && spec->num_objects + 1 > open)
        return lpg_error("%s: key 'objects': the agent and %d object%s need %d free cells, the "
                         "grid has %d", path, spec->num_objects, spec->num_objects == 1 ? "" : "s",
                         spec->num_objects + 1, open);
    if (spec->kind != ENV_TABULAR_GRID)
        return 0;
    if (spec->start_cell >= 0) {
        int j = object_at(spec, spec->start_cell);
        if (j >= 0)
            return lpg_error("%s: key 'start': cell (%d, %d) holds object %d", path,
                             cell_x(spec, spec->start_cell), cell_y(spec, spec->start_cell), j);
    } else if (spec->num_objects >= open) {
        return lpg_error("%s: key 'start': omitted, but no free cell is left for the agent", path);
    }
    long long states = (long long)cells << spec->num_objects;
    if (states > ENV_MAX_TABULAR_STATES)
        return lpg_error("%s: key 'objects': %d cells x 2^%d object states = %lld states, more "
                         "than %d", path, cells, spec->num_objects, states,
                         ENV_MAX_TABULAR_STATES);
    return 0;
}

int grid_load(const cJSON *root, EnvSpec *spec, const char *path)
{
    /* Both grid kinds share the keys; what "objects" holds differs. */
    if (config_check_keys(root, grid_keys, path) || read_size(root, spec, path) ||
        read_walls(root, spec, path) || read_start(root, spec, path) ||
        read_object_types(root, spec, path) || read_objects(root, spec, path) ||
        check_room(spec, path))
        return -1;
    int cells = spec->width * spec->height;
    spec->num_actions = spec->moves;
    if (spec->kind == ENV_TABULAR_GRID)
        spec->num_states = cells << spec->num_objects;
    else {
        spec->obs_dim = (spec->num_types + 1) * cells;
        spec->obs_planes = spec->num_types + 1;
        spec->obs_height = spec->height;
        spec->obs_width = spec->width;
    }
    return 0;
}
