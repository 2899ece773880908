/* run_files.c: a meta-training run folder and the run an --overwrite moved aside (see
 * run_files.h). The states, by whether <run_dir>/checkpoint.lpg exists and what the folder aside
 * holds:
 *   no folder aside                 the ordinary case;
 *   aside holds a checkpoint,
 *     run_dir has none              an --overwrite stopped before its first checkpoint: the old
 *                                   run is intact, --restore-replaced puts it back;
 *     run_dir has one               stopped between that checkpoint and removing the old run:
 *                                   --resume finishes the removal and continues;
 *   aside without a checkpoint      stopped while removing it (the checkpoint goes first): the
 *                                   old run is gone already, the rest is removed. */
#include "run_files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef enum { ASIDE_NONE, ASIDE_RUN, ASIDE_REMNANT } AsideState;

int run_files_init(RunFiles *f, const char *run_dir)
{
    memset(f, 0, sizeof *f);
    size_t len = strlen(run_dir);
    while (len > 1 && run_dir[len - 1] == '/')
        len--;
    if (len >= sizeof f->dir)
        return lpg_error("%s: key 'run_dir': path too long", run_dir);
    memcpy(f->dir, run_dir, len);
    snprintf(f->ckpt, sizeof f->ckpt, "%s/checkpoint.lpg", f->dir);
    snprintf(f->rule, sizeof f->rule, "%s/rule.lpg", f->dir);
    snprintf(f->log, sizeof f->log, "%s/log.jsonl", f->dir);
    snprintf(f->aside, sizeof f->aside, "%s.replaced", f->dir);
    return 0;
}

/* Removes the rule snapshots (with remove_dir) and their .tmp leftovers in dir/rules. */
static void remove_snapshots(const char *dir, int remove_dir)
{
    char path[LPG_PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/rules", dir);
    DIR *rules = opendir(path);
    for (struct dirent *e = rules ? readdir(rules) : NULL; e; e = readdir(rules)) {
        size_t n = strlen(e->d_name);
        int snapshot = strncmp(e->d_name, "rule_", 5) == 0 &&
                       ((n > 4 && strcmp(e->d_name + n - 4, ".lpg") == 0) ||
                        (n > 8 && strcmp(e->d_name + n - 8, ".lpg.tmp") == 0));
        if (snapshot && (remove_dir || strcmp(e->d_name + n - 4, ".tmp") == 0)) {
            snprintf(path, sizeof path, "%s/rules/%s", dir, e->d_name);
            unlink(path);
        }
    }
    if (rules)
        closedir(rules);
    if (remove_dir) {
        snprintf(path, sizeof path, "%s/rules", dir);
        rmdir(path);
    }
}

void run_files_remove(const char *dir, int remove_dir)
{
    static const char *const names[] = {"checkpoint.lpg", "rule.lpg", "log.jsonl"};
    char path[LPG_PATH_MAX + 300];
    for (size_t i = 0; remove_dir && i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    DIR *d = opendir(dir);
    for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d))
        if (is_leftover_file(e->d_name)) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
    remove_snapshots(dir, remove_dir);
    if (remove_dir && rmdir(dir) != 0 && errno != ENOENT)
        fprintf(stderr, "lpg: note: %s still holds files lpg did not write; left in place\n", dir);
}

static AsideState aside_state(const RunFiles *f)
{
    char ckpt[LPG_PATH_MAX + 64];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.lpg", f->aside);
    if (access(ckpt, F_OK) == 0)
        return ASIDE_RUN;
    return access(f->aside, F_OK) == 0 ? ASIDE_REMNANT : ASIDE_NONE;
}

/* A folder aside whose checkpoint is gone was being removed when lpg was stopped: the old run is
 * lost already, so the rest goes too (said, not silent). */
static void finish_removing_remnant(const RunFiles *f)
{
    if (aside_state(f) != ASIDE_REMNANT)
        return;
    fprintf(stderr, "meta-train: removing what is left of %s (a run --overwrite replaced; its "
            "removal was stopped after its checkpoint was removed)\n", f->aside);
    run_files_remove(f->aside, 1);
}

int run_files_prepare_fresh(RunFiles *f, int overwrite)
{
    finish_removing_remnant(f);
    int have_run = access(f->ckpt, F_OK) == 0;
    AsideState aside = aside_state(f);
    if (aside == ASIDE_RUN && have_run)
        return lpg_error("%s exists, and %s still holds the run its --overwrite replaced (it was "
                         "stopped before removing it): continue the run with --resume (which "
                         "removes %s), or remove %s yourself to start afresh", f->ckpt, f->aside,
                         f->aside, f->aside);
    if (aside == ASIDE_RUN)
        return lpg_error("%s holds the run that an interrupted --overwrite moved aside (the run "
                         "that was to replace it has no checkpoint): put it back with "
                         "--restore-replaced, or remove %s yourself to start afresh", f->aside,
                         f->aside);
    if (aside == ASIDE_REMNANT) /* files lpg did not write are left in it */
        return lpg_error("%s still holds files lpg did not write: move them away", f->aside);
    if (!have_run)
        return 0;
    if (!overwrite)
        return lpg_error("%s exists: continue that run with --resume, or start afresh with "
                         "--overwrite", f->ckpt);
    if (rename(f->dir, f->aside) != 0)
        return lpg_error("%s: cannot move the previous run aside to %s: %s (remove it yourself, or "
                         "choose another run_dir)", f->dir, f->aside, strerror(errno));
    fprintf(stderr, "meta-train: moved the previous run to %s; it is removed once this run's "
            "first checkpoint is written (until then --restore-replaced puts it back)\n", f->aside);
    f->remove_aside = 1;
    return 0;
}

int run_files_prepare_resume(RunFiles *f)
{
    finish_removing_remnant(f);
    int have_run = access(f->ckpt, F_OK) == 0;
    AsideState aside = aside_state(f);
    if (aside == ASIDE_RUN && !have_run)
        return lpg_error("%s: no checkpoint to resume: the --overwrite that started a run here was "
                         "stopped before its first checkpoint; %s holds the run it replaced: put "
                         "it back with --restore-replaced (then --resume continues it), or remove "
                         "%s yourself and start afresh", f->ckpt, f->aside, f->aside);
    if (aside == ASIDE_RUN) {
        fprintf(stderr, "meta-train: %s holds the run that %s replaced; it is removed now, as "
                "the --overwrite would have done after its first checkpoint\n", f->aside, f->dir);
        run_files_remove(f->aside, 1);
    }
    return 0;
}

int run_files_restore_replaced(RunFiles *f)
{
    AsideState aside = aside_state(f);
    if (aside == ASIDE_NONE)
        return lpg_error("%s: nothing to restore: there is no run that an --overwrite moved aside",
                         f->aside);
    if (aside == ASIDE_REMNANT)
        return lpg_error("%s: cannot restore: it holds no checkpoint (lpg was removing it, or "
                         "removed what it had written of it); the previous run is gone", f->aside);
    if (access(f->ckpt, F_OK) == 0)
        return lpg_error("%s holds the run that replaced %s, with a checkpoint: continue it with "
                         "--resume, or move %s away yourself first to put the old run back",
                         f->dir, f->aside, f->dir);
    run_files_remove(f->dir, 1); /* the new run's first files: its log, rule, snapshots */
    if (rename(f->aside, f->dir) != 0)
        return lpg_error("%s: cannot move it back to %s: %s", f->aside, f->dir, strerror(errno));
    fprintf(stderr, "meta-train: put the previous run back from %s into %s; continue it with "
            "--resume\n", f->aside, f->dir);
    return 0;
}

void run_files_checkpoint_written(RunFiles *f)
{
    if (!f->remove_aside)
        return;
    run_files_remove(f->aside, 1);
    fprintf(stderr, "meta-train: removed %s, the run this one replaced\n", f->aside);
    f->remove_aside = 0;
}
