/* test_eval_crash.c: `lpg eval` killed (SIGKILL) at moments spread over its run leaves every
 * file whole, and no table (or scripts/plot picture) beside curves it does not describe; the
 * rerun writes the same files, byte for byte, as an unbroken run. */
#include <cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "util.h"

/* Three environments, two rules and A2C: nine curves and three tables, about half a second. */
#define EVAL_ARGS "tests/configs/eval_mpi.json steps=10000 steps_random_grid=10000 threads=1"
#define REF "build/test_eval_crash_ref"
#define STALE "build/test_eval_crash_stale"
#define KILLED "build/test_eval_crash"
#define MAX_FILES 16

typedef struct {
    char name[64];
    char *text;
    size_t len;
} OutputFile;

typedef struct {
    OutputFile file[MAX_FILES];
    int count;
} OutputSet;

/* The files of dir (not those starting with '.'; with final_only, not the .tmp files either),
 * read whole. Returns 0 or -1. */
static int read_set(const char *dir, int final_only, OutputSet *set)
{
    memset(set, 0, sizeof *set);
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int rc = 0;
    for (struct dirent *e = readdir(d); e && rc == 0; e = readdir(d)) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.' || (final_only && n > 4 && strcmp(e->d_name + n - 4, ".tmp") == 0))
            continue;
        if (set->count == MAX_FILES || strlen(e->d_name) >= sizeof set->file[0].name) {
            rc = -1;
            break;
        }
        OutputFile *f = &set->file[set->count++];
        char path[512];
        snprintf(f->name, sizeof f->name, "%s", e->d_name);
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        f->text = read_whole_file(path, &f->len);
        rc = f->text ? 0 : -1;
    }
    closedir(d);
    return rc;
}

static void free_set(OutputSet *set)
{
    for (int i = 0; i < set->count; i++)
        free(set->file[i].text);
    set->count = 0;
}

static const OutputFile *find_file(const OutputSet *set, const char *name)
{
    for (int i = 0; i < set->count; i++)
        if (strcmp(set->file[i].name, name) == 0)
            return &set->file[i];
    return NULL;
}

/* Removes every "seconds" member (wall time, which differs from run to run) below item. */
static void drop_seconds(cJSON *item)
{
    for (cJSON *child = item ? item->child : NULL; child; child = child->next)
        drop_seconds(child);
    if (cJSON_IsObject(item))
        cJSON_DeleteItemFromObjectCaseSensitive(item, "seconds");
}

/* True when a and b hold the same bytes; for results.json, the same but for wall times. */
static int same_output(const OutputFile *a, const OutputFile *b)
{
    if (!a || !b)
        return 0;
    if (strcmp(a->name, "results.json") != 0)
        return a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
    cJSON *x = cJSON_Parse(a->text), *y = cJSON_Parse(b->text);
    drop_seconds(x);
    drop_seconds(y);
    int same = x && y && cJSON_Compare(x, y, 1);
    cJSON_Delete(x);
    cJSON_Delete(y);
    return same;
}

static int is_table(const char *name)
{
    return strncmp(name, "results.", 8) == 0;
}

/* Runs the eval into dir with extra overrides; returns its exit status. */
static int run_eval(const char *dir, const char *extra)
{
    char args[512], out[16384];
    snprintf(args, sizeof args, "eval " EVAL_ARGS " %s output_dir=%s", extra, dir);
    return run_lpg(args, out, sizeof out);
}

/* Starts the eval into KILLED, waits until the shell condition `until` holds (at most 15 s),
 * then SIGKILLs it. */
static void eval_and_kill(const char *until)
{
    const char *bin = getenv("LPG_BIN") ? getenv("LPG_BIN") : "build/lpg";
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "D=" KILLED "; S=" STALE "; %s eval " EVAL_ARGS " output_dir=$D "
             ">/dev/null 2>&1 & pid=$!; i=0; until %s || [ $i -ge 3000 ]; do sleep 0.005; "
             "i=$((i+1)); done; kill -KILL $pid; wait $pid 2>/dev/null; true", bin, until);
    CHECK_INT(system(cmd), 0);
}

/* What a kill may leave: each final-named file whole (a .tmp file may be cut short), from this eval (as in ref) or the earlier one (stale);
 * a table of this eval only with every curve of it; a table of the earlier one only with its
 * curves. Returns the number of files of this eval found. */
static int check_killed(const OutputSet *ref, const OutputSet *stale, const char *moment)
{
    OutputSet now;
    REQUIRE_OR(read_set(KILLED, 1, &now) == 0, 0);
    int new_files = 0, new_curves = 0, old_curves = 0, new_tables = 0, old_tables = 0;
    for (int i = 0; i < now.count; i++) {
        const OutputFile *f = &now.file[i];
        int is_new = same_output(f, find_file(ref, f->name)); /* (curves.png: never new) */
        int is_old = !is_new && same_output(f, find_file(stale, f->name));
        if (!is_new && !is_old)
            fprintf(stderr, "  killed at \"%s\": %s is neither this eval's nor the earlier one's\n",
                    moment, f->name);
        CHECK(is_new || is_old);
        new_files += is_new;
        if (is_table(f->name) || strcmp(f->name, "curves.png") == 0)
            new_tables += is_new, old_tables += is_old;
        else
            new_curves += is_new, old_curves += is_old;
    }
    int curves = ref->count - 3; /* ref has no picture */
    if (new_tables > 0)
        CHECK_INT(new_curves, curves);
    if (old_tables > 0)
        CHECK_INT(new_curves, 0);
    CHECK(new_curves + old_curves <= curves);
    free_set(&now);
    return new_files;
}

TEST(eval_killed_at_any_moment_leaves_whole_files_and_reruns_to_the_same_bytes)
{
    OutputSet ref, stale;
    CHECK_INT(system("rm -rf " REF " " STALE " " KILLED), 0);
    REQUIRE(run_eval(REF, "") == 0);
    REQUIRE(run_eval(STALE, "seed=8") == 0); /* an earlier eval into the same folder */
    FILE *picture = fopen(STALE "/curves.png", "w"); /* as scripts/plot would draw it */
    REQUIRE(picture != NULL);
    fputs("the earlier eval's curves, drawn\n", picture);
    fclose(picture);
    REQUIRE(read_set(REF, 0, &ref) == 0);
    REQUIRE(read_set(STALE, 0, &stale) == 0);
    CHECK_INT(ref.count, 12);
    CHECK_INT(stale.count, 13);
    for (int i = 0; i < ref.count; i++) /* every file of the two evals differs */
        CHECK(!same_output(&ref.file[i], find_file(&stale, ref.file[i].name)));
    static const char *const moments[] = {
        "sleep 0.01", "sleep 0.05", "sleep 0.1", "sleep 0.2", "sleep 0.3",
        "[ ! -e $D/results.md ]",                                    /* writing its files */
        "! cmp -s $D/chain_short.grid.csv $S/chain_short.grid.csv",  /* the first curve */
        "! cmp -s $D/tabular_sparse.all.csv $S/tabular_sparse.all.csv",
        "! cmp -s $D/results.md $S/results.md"};                     /* the first table */
    int partial = 0;
    for (size_t k = 0; k < sizeof moments / sizeof moments[0]; k++) {
        CHECK_INT(system("rm -rf " KILLED " && cp -r " STALE " " KILLED), 0);
        eval_and_kill(moments[k]);
        int found = check_killed(&ref, &stale, moments[k]);
        partial += found > 0 && found < ref.count;
        /* the rerun: every file as in the unbroken run, nothing else left */
        CHECK_INT(run_eval(KILLED, ""), 0);
        OutputSet again;
        REQUIRE(read_set(KILLED, 0, &again) == 0);
        CHECK_INT(again.count, ref.count);
        for (int i = 0; i < ref.count; i++)
            CHECK(same_output(&ref.file[i], find_file(&again, ref.file[i].name)));
        free_set(&again);
        DIR *d = opendir(KILLED);
        for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d)) /* no hidden file */
            CHECK(e->d_name[0] != '.' || strcmp(e->d_name, ".") == 0 ||
                  strcmp(e->d_name, "..") == 0);
        if (d)
            closedir(d);
    }
    if (getenv("LPG_TEST_VERBOSE"))
        fprintf(stderr, "  kills that left part of the files: %d\n", partial);
    free_set(&ref);
    free_set(&stale);
}
