/* run_files.h: the files of a meta-training run folder (checkpoint, rule, log, snapshots) and
 * the previous run an --overwrite moves aside to <run_dir>.replaced until the new run's first
 * checkpoint is in place. Whatever point a run is stopped at (SIGKILL included), the old run can
 * be put back (--restore-replaced) or the new one resumed; the folder aside is removed only by
 * the --overwrite that made it (or the resume of that run), never silently by anything else. */
#ifndef LPG_RUN_FILES_H
#define LPG_RUN_FILES_H

#include "util.h"

typedef struct {
    char dir[LPG_PATH_MAX];
    char ckpt[LPG_PATH_MAX + 32], rule[LPG_PATH_MAX + 32], log[LPG_PATH_MAX + 32];
    char aside[LPG_PATH_MAX + 32]; /* <run_dir>.replaced */
    int remove_aside;              /* once this run's first checkpoint is in place */
} RunFiles;

/* Fills f with the paths of the run folder run_dir (trailing slashes dropped). Returns 0 or -1
 * (reported: too long). */
int run_files_init(RunFiles *f, const char *run_dir);

/* Removes what a run writes in dir (the files lpg names, snapshots, leftover .tmp files; the
 * checkpoint first, so a folder without one is known to be partly removed); with remove_dir
 * all of them and the folders when nothing else is left, else only the .tmp leftovers. */
void run_files_remove(const char *dir, int remove_dir);

/* Before a fresh start: refuses where a run (or a run moved aside) would be lost, naming it and
 * the ways out; with overwrite moves an existing run aside as a whole (one rename), and it is
 * removed at the new run's first checkpoint (run_files_checkpoint_written). Returns 0 or -1. */
int run_files_prepare_fresh(RunFiles *f, int overwrite);

/* Before a resume: with no checkpoint but a run aside, names it and how to put it back; with
 * both (an --overwrite stopped between its first checkpoint and the removal), marks the run
 * aside for removal, as that --overwrite would have done. Returns 0 or -1. */
int run_files_prepare_resume(RunFiles *f);

/* --restore-replaced: puts the run an interrupted --overwrite moved aside back in place of the
 * new run, which must not have a checkpoint yet (its files are removed). Returns 0 or -1. */
int run_files_restore_replaced(RunFiles *f);

/* After a checkpoint is written: removes the run aside if this run was to remove it. */
void run_files_checkpoint_written(RunFiles *f);

#endif
