/* cmd_meta_train.c: `lpg meta-train`: runs (or resumes) meta-training with progress lines, a
 * JSONL log per meta-step and atomic checkpoints, also on SIGINT/SIGTERM. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "commands.h"
#include "dist.h"
#include "json_check.h"
#include "memory_estimate.h"
#include "meta_train.h"
#include "provenance.h"
#include "run_files.h"
#include "util.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: lpg meta-train <config.json> [key=value ...] [--resume [--allow-changes] | --overwrite |\n"
            "                      --restore-replaced]\n\n"
            "Meta-trains an update rule over the config's environments (docs/method.md sections 5-8),\n"
            "or with meta_optimizer \"es\" by evolution strategies over whole lifetimes (section 13;\n"
            "a meta-step is then a generation).\n"
            "Writes <run_dir>/rule.lpg (the rule alone) and then <run_dir>/checkpoint.lpg every\n"
            "checkpoint_every meta-steps, at the end and on Ctrl-C/SIGTERM, and one JSON line per\n"
            "meta-step to <run_dir>/log.jsonl.\n\n"
            "  --resume         continue from <run_dir>/checkpoint.lpg exactly where it stopped (raise\n"
            "                   meta_steps=N to go further). Only meta_steps, threads and where and how\n"
            "                   often files are written may change; a changed learning key (seed,\n"
            "                   input_grad, betas, lrs, ...) is named and refused.\n"
            "  --allow-changes  with --resume: continue with the changed learning keys (each is noted).\n"
            "  --overwrite      start afresh where a run exists: the old run folder is moved to\n"
            "                   <run_dir>.replaced and removed once the new run's first checkpoint is\n"
            "                   written, so stopping early never loses it. Without it a fresh start\n"
            "                   refuses to replace a checkpoint. While <run_dir>.replaced exists, a\n"
            "                   fresh start and --overwrite refuse, naming it.\n"
            "  --restore-replaced\n"
            "                   put back the run an --overwrite moved to <run_dir>.replaced when that\n"
            "                   was stopped before its first checkpoint (killed or crashed; Ctrl-C\n"
            "                   writes one): the new run's files are removed; --resume then\n"
            "                   continues the old run.\n"
            "                   A --resume of a run whose --overwrite was stopped after its first\n"
            "                   checkpoint removes <run_dir>.replaced, as the --overwrite would have.\n\n"
            "The checkpoint is itself a rule file for `lpg train` and `lpg eval`. With rule_every=N it also\n"
            "keeps a snapshot of the rule every N meta-steps, <run_dir>/rules/rule_<step>.lpg, to pick the\n"
            "best one by evaluating them (snapshots change nothing in the run). `lpg info <file>` shows\n"
            "how a file was made: its meta-step, the overrides and every key's effective value.\n\n"
            "config keys:\n");
    MetaConfig defaults;
    meta_config_defaults(&defaults);
    config_print_fields(meta_config_fields, meta_config_num_fields, &defaults);
}

/* The "step" of one log line; for a provenance line (the first, and one after each resume by
 * another build or machine) the step it took over at ("from_step", 0 for the first); -1 when the
 * line is neither (not JSON as json_check takes it: a line cut short by a kill, or with a key
 * twice). */
static long long log_line_step(const char *line, size_t len)
{
    char why[256];
    if (json_check(line, len, why, sizeof why))
        return -1;
    cJSON *record = cJSON_ParseWithLength(line, len);
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(record, "step");
    long long s = cJSON_IsNumber(step) ? (long long)step->valuedouble : -1;
    if (!step && cJSON_GetObjectItemCaseSensitive(record, "provenance")) {
        const cJSON *from = cJSON_GetObjectItemCaseSensitive(record, "from_step");
        s = cJSON_IsNumber(from) ? (long long)from->valuedouble : 0;
    }
    cJSON_Delete(record);
    return s;
}

/* Keeps only the log lines of meta-steps up to step (those after it are redone on resume), and
 * the provenance lines of the program that made them. */
static int trim_log(const char *path, long long step)
{
    size_t len;
    if (access(path, F_OK) != 0)
        return 0; /* no log yet */
    char *text = read_whole_file(path, &len);
    if (!text)
        return -1;
    size_t keep = 0;
    for (char *line = text; line < text + len;) {
        char *end = memchr(line, '\n', (size_t)(text + len - line));
        long long s = end ? log_line_step(line, (size_t)(end - line)) : -1;
        if (s < 0 || s > step)
            break;
        keep = (size_t)(end + 1 - text);
        line = end + 1;
    }
    int rc = write_file_atomic(path, text, keep);
    free(text);
    return rc;
}

/* CPU time of this process: in total and in the last meta-step, and A2C's part of the step. */
typedef struct {
    double total, step, a2c_step;
    double a2c_total; /* the sampler's count at the last step */
} CpuTimes;

static void cpu_times_update(CpuTimes *t, const MetaRun *run)
{
    double now = process_cpu_seconds();
    t->step = now - t->total, t->total = now;
    t->a2c_step = run->levels.a2c_seconds - t->a2c_total, t->a2c_total = run->levels.a2c_seconds;
}

/* A number for the log, to 6 significant digits; not-finite values print as null. */
static cJSON *log_number(double x)
{
    char text[32];
    snprintf(text, sizeof text, "%.6g", x);
    return cJSON_CreateNumber(isfinite(x) ? strtod(text, NULL) : NAN);
}

/* With level_sampler "regret": the CPU seconds of the meta-step (this process) and of its A2C
 * scoring, and each procedural environment's buffer size and mean regret. */
static void add_level_fields(cJSON *line, const MetaRun *run, const CpuTimes *cpu)
{
    const LevelSampler *s = &run->levels;
    cJSON *sizes = cJSON_CreateObject(), *regrets = cJSON_CreateObject();
    cJSON_AddItemToObject(line, "cpu_seconds", log_number(cpu->step));
    cJSON_AddItemToObject(line, "a2c_seconds", log_number(cpu->a2c_step));
    for (int e = 0; e < run->num_envs; e++)
        if (level_is_procedural(&run->specs[e])) {
            cJSON_AddNumberToObject(sizes, run->specs[e].name, s->buffers[e].count);
            cJSON_AddItemToObject(regrets, run->specs[e].name,
                                  log_number(level_buffer_mean_score(&s->buffers[e])));
        }
    cJSON_AddItemToObject(line, "levels", sizes);
    cJSON_AddItemToObject(line, "level_regret", regrets);
}

/* One JSON object per meta-step, built with cJSON so that environment names are escaped. */
static void write_log_line(FILE *log, const MetaRun *run, const MetaStepStats *st, double seconds,
                           const CpuTimes *cpu)
{
    cJSON *line = cJSON_CreateObject();
    cJSON *returns = cJSON_CreateObject(), *finals = cJSON_CreateObject();
    cJSON *fvus = cJSON_CreateObject();
    cJSON_AddNumberToObject(line, "step", (double)run->step);
    if (run->es) { /* a generation: the spread of the members' (standardised) fitness */
        cJSON_AddItemToObject(line, "fitness_max", log_number(st->fitness_max));
        cJSON_AddItemToObject(line, "fitness_min", log_number(st->fitness_min));
    } else {
        cJSON_AddItemToObject(line, "J", log_number(st->J));
    }
    cJSON_AddItemToObject(line, "grad_norm", log_number(st->grad_norm));
    cJSON_AddNumberToObject(line, "lifetimes_finished", (double)run->lifetimes_finished);
    cJSON_AddNumberToObject(line, "env_steps", (double)st->env_steps);
    cJSON_AddItemToObject(line, "seconds", log_number(seconds));
    for (int e = 0; e < run->num_envs; e++) {
        double mean = st->episodes[e] ? st->return_sum[e] / (double)st->episodes[e] : NAN;
        cJSON_AddItemToObject(returns, run->specs[e].name, log_number(mean));
        cJSON_AddItemToObject(finals, run->specs[e].name, log_number(meta_run_final_return(run, e)));
        cJSON_AddItemToObject(fvus, run->specs[e].name, log_number(st->critic_fvu[e]));
    }
    cJSON_AddItemToObject(line, "returns", returns);
    cJSON_AddItemToObject(line, "final_returns", finals);
    if (run->es)
        cJSON_Delete(fvus); /* ES trains no critic */
    else
        cJSON_AddItemToObject(line, "critic_fvu", fvus);
    if (run->levels.enabled)
        add_level_fields(line, run, cpu);
    char *text = cJSON_PrintUnformatted(line);
    if (text)
        fprintf(log, "%s\n", text);
    fflush(log);
    cJSON_free(text);
    cJSON_Delete(line);
}

static void progress_line(const MetaRun *run, const MetaStepStats *st, double steps_per_s,
                          double env_steps_per_s)
{
    long long left = run->config.meta_steps - run->step;
    double eta_s = steps_per_s > 0 ? (double)left / steps_per_s : 0;
    if (run->es)
        fprintf(stderr, "generation %lld/%d  fitness %.3g..%.3g  |g| %.3g  lifetimes done %lld  %.3g s/generation  %.3g env steps/s  %02d:%02d:%02d left\n  final return:",
                (long long)run->step, run->config.meta_steps, st->fitness_min, st->fitness_max,
                st->grad_norm, (long long)run->lifetimes_finished,
                steps_per_s > 0 ? 1 / steps_per_s : 0, env_steps_per_s, (int)(eta_s / 3600),
                (int)fmod(eta_s / 60, 60), (int)fmod(eta_s, 60));
    else
    fprintf(stderr, "meta-step %lld/%d  J %.4f  |g| %.3g  lifetimes done %lld  %.2f steps/s  %.3g env steps/s  %02d:%02d:%02d left\n  final return:",
            (long long)run->step, run->config.meta_steps, st->J, st->grad_norm,
            (long long)run->lifetimes_finished, steps_per_s, env_steps_per_s, (int)(eta_s / 3600),
            (int)fmod(eta_s / 60, 60), (int)fmod(eta_s, 60));
    for (int e = 0; e < run->num_envs; e++)
        fprintf(stderr, " %s %.3g", run->specs[e].name, meta_run_final_return(run, e));
    fputc('\n', stderr);
    level_sampler_print(&run->levels, stderr, process_cpu_seconds());
}

/* Writes rule.lpg (only the rule, its config and step: small enough to commit; what `lpg train`
 * and `lpg eval` need) and then the full checkpoint, so rule.lpg is never behind it; a resume
 * rewrites rule.lpg from the checkpoint. The first checkpoint of an --overwrite run removes the
 * previous run it moved aside. */
static int save(const MetaRun *run, RunFiles *files)
{
    int lead = dist_rank() == 0; /* every rank takes part in meta_run_save; rank 0 writes */
    if ((lead && meta_run_save_rule(run, files->rule)) || meta_run_save(run, files->ckpt))
        return -1;
    if (!lead)
        return 0;
    fprintf(stderr, "checkpoint: %s and %s (meta-step %lld)\n", files->ckpt, files->rule,
            (long long)run->step);
    run_files_checkpoint_written(files);
    return 0;
}

/* Writes <run_dir>/rules/rule_<step>.lpg: the rule as it is now, for picking the best snapshot
 * later. Only reads the run, so the run's numbers are the same with or without snapshots. */
static int save_snapshot(const MetaRun *run)
{
    char path[LPG_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/rules/rule_%lld.lpg", run->config.run_dir, (long long)run->step);
    if (meta_run_save_rule(run, path))
        return -1;
    fprintf(stderr, "rule snapshot: %s\n", path);
    return 0;
}

/* Prints each environment's bandit: the probability of every (α_lr, α_y) arm, the likeliest
 * first, so a user can pick α for `lpg train` / `lpg eval`. */
static void print_bandits(const MetaRun *run)
{
    fprintf(stderr, "bandits (probability of each alpha_lr/alpha_y arm):\n");
    for (int e = 0; e < run->num_envs; e++) {
        const Bandit *b = &run->bandits[e];
        double probs[BANDIT_MAX_ARMS];
        bandit_probabilities(b, probs);
        fprintf(stderr, "  %-22s", run->specs[e].name);
        for (uint32_t a = 0; a < b->num_arms; a++)
            fprintf(stderr, " %g/%g:%.2f", b->arms[a].alpha_lr, b->arms[a].alpha_y, probs[a]);
        fputc('\n', stderr);
    }
}

/* The main loop: steps until meta_steps or a signal, saving as configured. */
static int train_loop(MetaRun *run, RunFiles *files)
{
    int lead = dist_rank() == 0; /* rank 0 alone writes the log, progress and rule files */
    FILE *log = lead ? fopen(files->log, "a") : NULL;
    if (lead && !log)
        return lpg_error("%s: cannot open for appending: %s", files->log, strerror(errno));
    double start = now_seconds(), last_time = start;
    int64_t last_step = run->step, env_steps = 0;
    int rc = 0, snapshot_failed = 0;
    CpuTimes cpu = {process_cpu_seconds(), 0, 0, run->levels.a2c_seconds};
    while (run->step < run->config.meta_steps && !(stop_requested = dist_any(stop_requested))) {
        MetaStepStats st;
        if (meta_run_step(run, &st)) {
            rc = -1;
            break;
        }
        env_steps += st.env_steps;
        cpu_times_update(&cpu, run);
        if (lead)
            write_log_line(log, run, &st, now_seconds() - start, &cpu);
        if (lead && (run->step % run->config.log_every == 0 || run->step == run->config.meta_steps)) {
            double now = now_seconds(), dt = now - last_time;
            progress_line(run, &st, (double)(run->step - last_step) / dt, (double)env_steps / dt);
            last_time = now, last_step = run->step, env_steps = 0;
        }
        if (run->step % run->config.checkpoint_every == 0 && save(run, files)) {
            rc = -1;
            break;
        }
        if (run->config.rule_every > 0 && run->step % run->config.rule_every == 0 &&
            dist_any(lead && save_snapshot(run))) {
            snapshot_failed = 1; /* stop, but keep this step's state in the checkpoint */
            break;
        }
    }
    if (log)
        fclose(log);
    if (rc == 0 && run->step % run->config.checkpoint_every != 0)
        rc = save(run, files);
    if (rc == 0 && snapshot_failed) {
        lpg_error("stopped at meta-step %lld: the rule snapshot could not be written (the "
                  "checkpoint was); continue with --resume", (long long)run->step);
        return 1;
    }
    if (rc == 0 && lead && !run->es) /* ES takes α from the grids' middle: no bandit */
        print_bandits(run);
    if (rc == 0 && stop_requested && lead) {
        fprintf(stderr, "interrupted at meta-step %lld; continue with --resume\n", (long long)run->step);
        return 130;
    }
    if (rc == 0 && stop_requested)
        return 130;
    return rc ? 1 : 0;
}

/* ", on N MPI ranks of T threads" when there are several ranks, else "". */
static const char *ranks_note(void)
{
    static char note[64];
    note[0] = '\0';
    if (dist_size() > 1)
        snprintf(note, sizeof note, ", lifetimes split over %d MPI ranks", dist_size());
    return note;
}

/* The log's provenance line: {"provenance": {...}}, with "from_step" when a resume by another
 * build or machine takes over at that step. A new string (caller frees) or NULL (reported). */
static char *provenance_line(long long from_step)
{
    cJSON *line = cJSON_CreateObject();
    cJSON_AddItemToObject(line, "provenance", provenance_json());
    if (from_step > 0)
        cJSON_AddNumberToObject(line, "from_step", (double)from_step);
    char *text = cJSON_PrintUnformatted(line);
    cJSON_Delete(line);
    char *out = text ? lpg_calloc(strlen(text) + 2, 1, "log line") : NULL;
    if (out)
        sprintf(out, "%s\n", text);
    else if (!text)
        lpg_error("out of memory writing the log");
    cJSON_free(text);
    return out;
}

/* Appends text to path (the log, on resume). */
static int append_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "a");
    if (!f)
        return lpg_error("%s: cannot open for appending: %s", path, strerror(errno));
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    return bad ? lpg_error("%s: cannot write: %s", path, strerror(errno)) : 0;
}

/* Folders, leftovers and the log before the loop: a resume rewrites rule.lpg from the checkpoint
 * (so it matches) and keeps the log lines up to its step, adding a provenance line when another
 * build or machine wrote the checkpoint; a fresh start begins a log of one provenance line. */
static int start_run(MetaRun *run, RunFiles *f, int resume)
{
    if (resume && run->step >= run->config.meta_steps)
        fprintf(stderr, "meta-train: %s is at meta-step %lld and meta_steps is %d: nothing to do "
                "(raise meta_steps=N to go further)\n", f->ckpt, (long long)run->step,
                run->config.meta_steps);
    if (resume && (meta_run_save_rule(run, f->rule) || trim_log(f->log, run->step)))
        return -1;
    if (resume && !run->provenance_changed)
        return 0;
    char *line = provenance_line(resume ? (long long)run->step : 0);
    if (!line)
        return -1;
    int rc = resume ? append_text(f->log, line) : write_file_atomic(f->log, line, strlen(line));
    free(line);
    return rc;
}

int cmd_meta_train(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    int resume = 0, overwrite = 0, allow_changes = 0, restore = 0;
    const CommandFlag flags[] = {{"--resume", NULL, &resume},
                                 {"--overwrite", NULL, &overwrite},
                                 {"--allow-changes", NULL, &allow_changes},
                                 {"--restore-replaced", NULL, &restore}};
    CommandArgs args;
    int bad = command_args_parse("meta-train", "config", argc, argv, flags, 4, 1, &args);
    if (bad)
        return bad;
    if (resume + overwrite + restore > 1)
        return lpg_error("meta-train: --resume, --overwrite and --restore-replaced exclude each "
                         "other"), 2;
    if (allow_changes && !resume)
        return lpg_error("meta-train: --allow-changes goes with --resume"), 2;
    const char *config_path = args.path;
    int noverrides = args.noverrides;
    char **overrides = args.overrides;
    MetaRun run;
    MetaConfig probe;
    RunFiles files;
    int lead = dist_rank() == 0; /* the run folder is rank 0's */
    int rc = meta_config_load(&probe, config_path, noverrides, overrides);
    rc = rc || run_files_init(&files, probe.run_dir);
    if (restore) /* puts the old run back, and that is all */
        return rc || (lead && run_files_restore_replaced(&files)) ? 1 : 0;
    rc = rc || (lead && (resume ? run_files_prepare_resume(&files)
                                : run_files_prepare_fresh(&files, overwrite)));
    rc = rc || (lead && check_output_dir(files.dir, "run_dir"));
    if (rc == 0 && lead && probe.rule_every > 0) {
        char rules_dir[LPG_PATH_MAX + 32];
        snprintf(rules_dir, sizeof rules_dir, "%s/rules", files.dir);
        rc = make_dirs(rules_dir);
    }
    if (rc == 0 && lead)
        run_files_remove(files.dir, 0); /* .tmp files a killed run left behind */
    if (rc == 0) {
        rc = resume ? meta_run_resume(&run, config_path, noverrides, overrides, files.ckpt,
                                      allow_changes)
                    : meta_run_init(&run, config_path, noverrides, overrides);
        rc = rc || (lead && start_run(&run, &files, resume));
        if (rc == 0) {
            if (lead && run.es)
                fprintf(stderr, "meta-train: %s, evolution strategies: %d members (%d antithetic pairs, "
                        "sigma %g) x %d lifetimes x %d copies per generation, %d environments, rule width %d, "
                        "about %.3g GiB, %s at generation %lld of %d%s\n", config_path,
                        2 * run.config.es_population, run.config.es_population, run.config.es_sigma,
                        run.config.es_lifetimes_per_member, run.config.copies, run.num_envs,
                        run.config.rule_hidden,
                        memory_meta_train(&run.config, run.specs, run.num_envs) / (1 << 30),
                        resume ? "resuming" : "starting", (long long)run.step,
                        run.config.meta_steps, ranks_note());
            else if (lead)
                fprintf(stderr, "meta-train: %s, %d lifetimes x %d copies, %d environments, rule width %d, "
                        "about %.3g GiB, %s at meta-step %lld of %d%s\n", config_path,
                        run.config.lifetimes, run.config.copies, run.num_envs, run.config.rule_hidden,
                        memory_meta_train(&run.config, run.specs, run.num_envs) / (1 << 30),
                        resume ? "resuming" : "starting", (long long)run.step,
                        run.config.meta_steps, ranks_note());
            signal(SIGINT, on_signal);
            signal(SIGTERM, on_signal);
            rc = train_loop(&run, &files);
        } else {
            rc = 1;
        }
        meta_run_free(&run);
    } else {
        rc = 1;
    }
    return rc;
}
