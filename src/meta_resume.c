/* meta_resume.c: a meta-training run's checkpoints and rule files: what they hold, how a run
 * is saved, and how one resumes, after checking the file against the config (shape, agent,
 * provenance, every learning key) so that a resumed run gives the numbers of one never stopped. */
#include "meta_train.h"
#include "meta_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "checkpoint.h"
#include "dist.h"
#include "es_run.h"
#include "provenance.h"
#include "rule_file.h"
#include "util.h"

/* The sections that record how the run was made (read back by `lpg info`; resume only compares
 * the provenance, see note_provenance). The provenance is that of the program writing the file. */
static int add_config_record(const MetaRun *run, CheckpointWriter *w)
{
    int rc = checkpoint_add_text(w, "config", run->config_text);
    rc = rc || checkpoint_add_text(w, "effective_config", run->effective_config);
    rc = rc || checkpoint_add_text(w, "overrides", run->overrides_text);
    rc = rc || provenance_add_section(w);
    return rc ? -1 : 0;
}

/* The "shape" section: the keys whose values fix the shape of the saved state, in this order. */
enum { SHAPE_LIFETIMES, SHAPE_COPIES, SHAPE_UNROLL, SHAPE_K, SHAPE_RULE_HIDDEN, SHAPE_ENVS,
       SHAPE_FIELDS };
static const char *const shape_keys[SHAPE_FIELDS] = {"lifetimes", "copies", "unroll", "K",
                                                     "rule_hidden", "envs"};

/* The "lives" section: per lifetime, these int64 fields in this order. */
enum { LIVES_ENV, LIVES_ARM, LIVES_LENGTH_REPORT /* length * 2 + report */, LIVES_FIELDS };

static void shape_of(const MetaRun *run, int64_t shape[SHAPE_FIELDS])
{
    const MetaConfig *c = &run->config;
    shape[SHAPE_LIFETIMES] = c->lifetimes, shape[SHAPE_COPIES] = c->copies;
    shape[SHAPE_UNROLL] = c->unroll, shape[SHAPE_K] = c->K;
    shape[SHAPE_RULE_HIDDEN] = c->rule_hidden, shape[SHAPE_ENVS] = run->num_envs;
}

/* The "agent_shape" section: conv filters (0: MLP agents), the number of hidden layers, then
 * their widths: what fixes the size of every saved θ and critic. Files from before the section
 * had MLP agents. */
enum { AGENT_SHAPE_MAX = 2 + AGENT_MAX_HIDDEN };

static size_t agent_shape_of(const MetaConfig *c, int64_t shape[AGENT_SHAPE_MAX])
{
    shape[0] = c->conv_filters;
    shape[1] = c->mlp_hidden.count;
    for (int l = 0; l < c->mlp_hidden.count && l < AGENT_MAX_HIDDEN; l++)
        shape[2 + l] = c->mlp_hidden.item[l];
    return 2 + (size_t)(c->mlp_hidden.count < AGENT_MAX_HIDDEN ? c->mlp_hidden.count
                                                               : AGENT_MAX_HIDDEN);
}

static int check_agent_shape(const MetaRun *run, const Checkpoint *ck)
{
    int64_t now[AGENT_SHAPE_MAX], saved[AGENT_SHAPE_MAX];
    size_t count = agent_shape_of(&run->config, now);
    const CheckpointSection *section = checkpoint_find(ck, "agent_shape");
    if (!section) {
        if (run->config.conv_filters > 0)
            return lpg_error("%s: was made with MLP agents (it predates conv agents) but %s says "
                             "agent \"conv\"; resume with agent \"mlp\"", ck->path,
                             run->config_path);
        return 0;
    }
    if (section->count < 2 || section->count > AGENT_SHAPE_MAX)
        return lpg_error("%s: section 'agent_shape': %zu values (expected 2 to %d)", ck->path,
                         section->count, AGENT_SHAPE_MAX);
    if (checkpoint_get_int64(ck, "agent_shape", saved, section->count))
        return -1;
    int same = section->count == count;
    for (size_t j = 0; same && j < count; j++)
        same = saved[j] == now[j];
    if (same)
        return 0;
    char had[128] = "", want[128] = "";
    for (size_t j = 2; j < section->count; j++)
        snprintf(had + strlen(had), sizeof had - strlen(had), "%s%lld", j > 2 ? "," : "",
                 (long long)saved[j]);
    for (size_t j = 2; j < count; j++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", j > 2 ? "," : "",
                 (long long)now[j]);
    return lpg_error("%s: was made with agent \"%s\" (%lld filters), mlp_hidden [%s] but %s says "
                     "agent \"%s\", mlp_hidden [%s]; resume with the same agent", ck->path,
                     saved[0] > 0 ? "conv" : "mlp", (long long)saved[0], had, run->config_path,
                     agent_choice_names[run->config.agent], want);
}

static int save_lives(const MetaRun *run, CheckpointWriter *w)
{
    int n = run->config.lifetimes;
    int64_t *meta = lpg_calloc((size_t)n * LIVES_FIELDS, sizeof(int64_t), "lifetime table");
    if (!meta)
        return -1;
    for (int i = 0; i < n; i++) {
        int64_t *m = meta + (size_t)i * LIVES_FIELDS;
        m[LIVES_ENV] = run->lives[i].env_index;
        m[LIVES_ARM] = run->lives[i].arm;
        m[LIVES_LENGTH_REPORT] = (int64_t)run->lives[i].length * 2 + run->lives[i].report;
    }
    int rc = checkpoint_add_int64(w, "lives", meta, (size_t)n * LIVES_FIELDS);
    free(meta);
    /* Each rank saves its own lifetimes; rank 0 appends them all in rank (= lifetime) order. */
    CheckpointWriter mine;
    checkpoint_writer_init(&mine);
    char prefix[32];
    for (int i = 0; rc == 0 && i < n; i++) {
        snprintf(prefix, sizeof prefix, "life%d", i);
        rc = dist_owns(n, i) ? lifetime_save(&run->lives[i], &mine, prefix) : 0;
    }
    unsigned char *all = NULL;
    size_t all_len = 0;
    rc = rc || dist_gather_bytes(mine.data, mine.len, &all, &all_len);
    rc = rc || (dist_rank() == 0 && checkpoint_add_sections(w, all, all_len));
    free(all);
    checkpoint_writer_free(&mine);
    return rc ? -1 : 0;
}

int meta_run_save(const MetaRun *run, const char *path)
{
    CheckpointWriter w;
    checkpoint_writer_init(&w);
    int64_t shape[SHAPE_FIELDS], step = run->step, finished = run->lifetimes_finished;
    shape_of(run, shape);
    int rc = add_config_record(run, &w);
    rc = rc || checkpoint_add_int64(&w, "shape", shape, SHAPE_FIELDS);
    int64_t agent_shape[AGENT_SHAPE_MAX];
    size_t agent_count = agent_shape_of(&run->config, agent_shape);
    rc = rc || checkpoint_add_int64(&w, "agent_shape", agent_shape, agent_count);
    rc = rc || checkpoint_add_int64(&w, "step", &step, 1);
    rc = rc || checkpoint_add_int64(&w, "lifetimes_finished", &finished, 1);
    rc = rc || rule_file_add(&w, &run->layout, run->eta);
    rc = rc || adam_save(&run->adam, &w, "adam");
    rc = rc || bandit_save(run->bandits, run->num_envs, &w, "bandits");
    rc = rc || checkpoint_add_bytes(&w, "rng", &run->rng, sizeof run->rng);
    rc = rc || checkpoint_add_bytes(&w, "final_returns", run->final_returns, sizeof run->final_returns);
    rc = rc || checkpoint_add_int64(&w, "final_count", run->final_count, CONFIG_LIST_MAX);
    rc = rc || level_sampler_save(&run->levels, &w);
    rc = rc || (!run->es && save_lives(run, &w)); /* an ES run has none between generations */
    rc = rc || (dist_rank() == 0 && checkpoint_write(&w, path)); /* rank 0 alone writes */
    checkpoint_writer_free(&w);
    return rc ? -1 : 0;
}

int meta_run_save_rule(const MetaRun *run, const char *path)
{
    CheckpointWriter w;
    checkpoint_writer_init(&w);
    int64_t step = run->step;
    int rc = add_config_record(run, &w);
    rc = rc || checkpoint_add_int64(&w, "step", &step, 1);
    rc = rc || rule_file_add(&w, &run->layout, run->eta);
    rc = rc || checkpoint_write(&w, path);
    checkpoint_writer_free(&w);
    return rc ? -1 : 0;
}

static int check_shape(const MetaRun *run, const Checkpoint *ck)
{
    int64_t saved[SHAPE_FIELDS], now[SHAPE_FIELDS];
    if (checkpoint_get_int64(ck, "shape", saved, SHAPE_FIELDS))
        return -1;
    shape_of(run, now);
    for (int j = 0; j < SHAPE_FIELDS; j++)
        if (saved[j] != now[j])
            return lpg_error("%s: was made with %s = %lld but %s says %lld; resume with the same value",
                             ck->path, shape_keys[j], (long long)saved[j], run->config_path,
                             (long long)now[j]);
    return 0;
}

/* Checks one row of the "lives" table against the config; NULL when it fits. */
static const char *check_life_row(const MetaRun *run, const int64_t *m)
{
    int64_t e = m[LIVES_ENV], arm = m[LIVES_ARM], length = m[LIVES_LENGTH_REPORT] / 2;
    if (e < 0 || e >= run->num_envs)
        return "environment index out of range";
    if (arm < 0 || arm >= (int64_t)run->bandits[e].num_arms)
        return "bandit arm out of range";
    if (m[LIVES_LENGTH_REPORT] < 0 || length < 1 || length > meta_longest_life(&run->config, &run->specs[e]) ||
        length % run->config.K != 0)
        return "length is not a whole number of windows within lifetime_updates (mlp_lifetime_updates, the lifetime ranges)";
    return NULL;
}

/* A stub's progress: the update count its owner reads (and checks) in full. */
static int load_progress(Lifetime *life, const Checkpoint *ck, const char *prefix)
{
    char name[CHECKPOINT_NAME_MAX];
    int64_t counters[3];
    snprintf(name, sizeof name, "%s_counters", prefix);
    if (checkpoint_get_int64(ck, name, counters, 3))
        return -1;
    if (counters[0] < 0 || counters[0] > life->length)
        return lpg_error("%s: section %s: values out of range", ck->path, name);
    life->updates = (int)counters[0];
    return 0;
}

static int load_lives(MetaRun *run, const Checkpoint *ck)
{
    int n = run->config.lifetimes;
    int64_t *meta = lpg_calloc((size_t)n * LIVES_FIELDS, sizeof(int64_t), "lifetime table");
    if (!meta || checkpoint_get_int64(ck, "lives", meta, (size_t)n * LIVES_FIELDS)) {
        free(meta);
        return -1;
    }
    int rc = 0;
    char prefix[32];
    for (int i = 0; rc == 0 && i < n; i++) {
        const int64_t *m = meta + (size_t)i * LIVES_FIELDS;
        const char *why = check_life_row(run, m);
        if (why) {
            rc = lpg_error("%s: section 'lives': lifetime %d: %s", ck->path, i, why);
            break;
        }
        int e = (int)m[LIVES_ENV], arm = (int)m[LIVES_ARM];
        const BanditArm *a = &run->bandits[e].arms[arm];
        snprintf(prefix, sizeof prefix, "life%d", i);
        if (!dist_owns(n, i)) {
            lifetime_describe(&run->lives[i], &run->specs[e], e, arm,
                              (int)(m[LIVES_LENGTH_REPORT] / 2), (int)(m[LIVES_LENGTH_REPORT] & 1));
            rc = load_progress(&run->lives[i], ck, prefix);
            continue;
        }
        rc = lifetime_start(&run->lives[i], &run->config, &run->specs[e], e, arm, a->alpha_lr,
                            a->alpha_y, (int)(m[LIVES_LENGTH_REPORT] / 2),
                            (int)(m[LIVES_LENGTH_REPORT] & 1), &run->layout, 0);
        rc = rc || lifetime_load(&run->lives[i], ck, prefix);
    }
    free(meta);
    return rc ? -1 : 0;
}

/* A path of an effective config written lexically plain: no "." or empty components, each
 * "<dir>/.." pair removed, then the leading ".." components dropped; what is left names the file
 * as seen from some folder above it. */
static void plain_path(const char *path, char *out, size_t size)
{
    char buf[LPG_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    const char *parts[LPG_PATH_MAX / 2];
    int n = 0;
    for (char *save = NULL, *part = strtok_r(buf, "/", &save); part;
         part = strtok_r(NULL, "/", &save)) {
        if (strcmp(part, ".") == 0)
            continue;
        if (strcmp(part, "..") == 0 && n > 0 && strcmp(parts[n - 1], "..") != 0)
            n--;
        else
            parts[n++] = part;
    }
    int first = 0;
    while (first < n && strcmp(parts[first], "..") == 0)
        first++;
    out[0] = '\0';
    for (int i = first; i < n; i++)
        snprintf(out + strlen(out), size - strlen(out), "%s%s", i > first ? "/" : "", parts[i]);
}

/* Whether two environment paths, each relative to the folder its run was started in, name the
 * same file: the shorter plain path ends the longer one at a '/'. */
static int same_env_path(const char *a, const char *b)
{
    char pa[LPG_PATH_MAX], pb[LPG_PATH_MAX];
    plain_path(a, pa, sizeof pa);
    plain_path(b, pb, sizeof pb);
    const char *longer = strlen(pa) >= strlen(pb) ? pa : pb;
    const char *shorter = longer == pa ? pb : pa;
    size_t ll = strlen(longer), ls = strlen(shorter);
    const char *tail = longer + (ll - ls);
    return ls > 0 && strcmp(tail, shorter) == 0 && (ll == ls || tail[-1] == '/');
}

/* The "envs" of a resumed run may be written from another working folder: the same files. */
static int same_envs(const cJSON *old, const cJSON *now)
{
    if (!cJSON_IsArray(old) || !cJSON_IsArray(now) ||
        cJSON_GetArraySize(old) != cJSON_GetArraySize(now))
        return 0;
    for (const cJSON *a = old->child, *b = now->child; a && b; a = a->next, b = b->next)
        if (!cJSON_IsString(a) || !cJSON_IsString(b) ||
            !same_env_path(a->valuestring, b->valuestring))
            return 0;
    return 1;
}

/* The checkpoint's effective config as a JSON object (checked as a config file is: a
 * duplicate key is refused), or NULL (reported). */
static cJSON *read_effective_config(const Checkpoint *ck)
{
    char *text = checkpoint_get_json(ck, "effective_config");
    cJSON *saved = text ? cJSON_Parse(text) : NULL;
    if (text && !cJSON_IsObject(saved))
        lpg_error("%s: section 'effective_config': not a JSON object", ck->path);
    free(text);
    if (!cJSON_IsObject(saved)) {
        cJSON_Delete(saved);
        return NULL;
    }
    return saved;
}

/* Two path values (strings) that name the same file, or are both empty. */
static int same_path_value(const cJSON *old, const cJSON *now)
{
    if (!cJSON_IsString(old) || !cJSON_IsString(now))
        return 0;
    if (!old->valuestring[0] || !now->valuestring[0])
        return !old->valuestring[0] && !now->valuestring[0];
    return same_env_path(old->valuestring, now->valuestring);
}

/* On resume, names every learning key whose value differs from the run that wrote the
 * checkpoint (its effective config), so a changed algorithm (seed, input_grad, betas, lrs) never
 * goes unnoticed. Without allow_changes such a change is refused (-1); with it, each is a note.
 * Older checkpoints without an effective config get a note on the file's text (which keys
 * changed cannot be told). The shape keys are checked (and always refused) elsewhere. */
static int check_config_changes(const MetaRun *run, const Checkpoint *ck, const char *config_path,
                                int allow_changes)
{
    const CheckpointSection *section = checkpoint_find(ck, "effective_config");
    if (!section) {
        char *saved = checkpoint_get_text(ck, "config");
        if (saved && strcmp(saved, run->config_text) != 0)
            fprintf(stderr, "lpg: note: %s differs from the config saved in %s; continuing with %s "
                    "(the shape keys match)\n", config_path, ck->path, config_path);
        free(saved);
        return 0;
    }
    cJSON *saved = read_effective_config(ck);
    if (!saved)
        return -1;
    cJSON *now = cJSON_Parse(run->effective_config);
    /* A key the saved run did not have yet (added to lpg later) is unchanged at its default,
     * which keeps the behaviour of before the key. */
    MetaConfig d;
    meta_config_defaults(&d);
    char *defaults_text = config_to_json(meta_config_fields, meta_config_num_fields, &d);
    cJSON *defaults = defaults_text ? cJSON_Parse(defaults_text) : NULL;
    free(defaults_text);
    int changed = 0;
    for (const cJSON *item = now ? now->child : NULL; saved && item; item = item->next) {
        const ConfigField *f = config_field(meta_config_fields, meta_config_num_fields,
                                            item->string);
        if (f && f->role == CONFIG_OUTPUT)
            continue;
        const cJSON *old = cJSON_GetObjectItemCaseSensitive(saved, item->string);
        if (old && (cJSON_Compare(old, item, 1) ||
                    (f && f->type == CONFIG_PATH_LIST && same_envs(old, item)) ||
                    (f && f->type == CONFIG_PATH && same_path_value(old, item))))
            continue;
        const cJSON *by_default = cJSON_GetObjectItemCaseSensitive(defaults, item->string);
        if (!old && by_default && cJSON_Compare(by_default, item, 1))
            continue;
        char *was = old ? cJSON_PrintUnformatted(old) : NULL, *is = cJSON_PrintUnformatted(item);
        fprintf(stderr, "lpg: %s%s was %s in the run that wrote %s, now %s\n",
                allow_changes ? "note: " : "", item->string, was ? was : "(absent)", ck->path,
                is ? is : "?");
        cJSON_free(was);
        cJSON_free(is);
        changed++;
    }
    cJSON_Delete(saved);
    cJSON_Delete(now);
    cJSON_Delete(defaults);
    if (changed && !allow_changes)
        return lpg_error("%s: not resumed: %d learning key%s changed (above); resume with the "
                         "values of that run, or pass --allow-changes to continue with the new "
                         "ones", ck->path, changed, changed == 1 ? "" : "s");
    return 0;
}

/* Lifetimes that can finish in one meta-step: every lifetime, or an ES generation's. */
static int64_t lives_per_step(const MetaRun *run)
{
    const MetaConfig *c = &run->config;
    return c->use_es ? es_lifetimes_per_generation(c) : c->lifetimes;
}

/* The run-wide counters: the step, the lifetimes finished, the final-return rings and the
 * generator, each checked against the config (a crafted value would index out of bounds). */
static int load_counters(MetaRun *run, const Checkpoint *ck)
{
    int64_t step = 0, finished = 0;
    if (checkpoint_get_int64_in(ck, "step", 0, META_STEPS_MAX, &step) ||
        checkpoint_get_int64_in(ck, "lifetimes_finished", 0, step * lives_per_step(run),
                                &finished) ||
        checkpoint_get_bytes(ck, "rng", &run->rng, sizeof run->rng) ||
        checkpoint_get_bytes(ck, "final_returns", run->final_returns, sizeof run->final_returns) ||
        checkpoint_get_int64(ck, "final_count", run->final_count, CONFIG_LIST_MAX))
        return -1;
    if ((run->rng.inc & 1u) == 0)
        return lpg_error("%s: section 'rng': the stream selector is even", ck->path);
    for (int e = 0; e < CONFIG_LIST_MAX; e++) {
        int64_t count = run->final_count[e];
        if (count < 0 || count > finished || (e >= run->num_envs && count != 0))
            return lpg_error("%s: section 'final_count': environment %d has %lld final returns "
                             "(%lld lifetimes finished)", ck->path, e, (long long)count,
                             (long long)finished);
        for (int64_t j = 0; j < count && j < META_FINAL_WINDOW; j++)
            if (!isfinite(run->final_returns[e][j]))
                return lpg_error("%s: section 'final_returns': environment %d holds a value that "
                                 "is not finite", ck->path, e);
    }
    run->step = step;
    run->lifetimes_finished = finished;
    return 0;
}

/* On resume: when the checkpoint was written by another build, machine or kernel setting (or
 * holds no provenance), notes on stderr which entries differ and sets run->provenance_changed.
 * Never refuses: the run goes on, only its bits will match neither program's unbroken run. */
static int note_provenance(MetaRun *run, const Checkpoint *ck)
{
    int failed;
    char *saved = provenance_read(ck, &failed);
    const char *now = provenance_text();
    if (failed || !now) {
        free(saved);
        return -1;
    }
    run->provenance_changed = !saved || strcmp(saved, now) != 0;
    if (!saved && dist_rank() == 0)
        fprintf(stderr, "lpg: note: %s records no provenance (written before lpg recorded it); "
                        "the resumed run may not repeat an unbroken one bit for bit\n", ck->path);
    if (saved && run->provenance_changed && dist_rank() == 0) {
        cJSON *a = cJSON_Parse(saved), *b = cJSON_Parse(now);
        fprintf(stderr, "lpg: note: %s was written by another build, machine or kernel setting; "
                        "the resumed run will not repeat an unbroken run of either bit for bit:\n",
                ck->path);
        for (const cJSON *item = b ? b->child : NULL; item; item = item->next) {
            const cJSON *old = cJSON_GetObjectItemCaseSensitive(a, item->string);
            if (old && cJSON_Compare(old, item, 1))
                continue;
            char *was = old ? cJSON_PrintUnformatted(old) : NULL, *is = cJSON_PrintUnformatted(item);
            fprintf(stderr, "  %s: %s, now %s\n", item->string, was ? was : "not recorded",
                    is ? is : "?");
            free(was);
            free(is);
        }
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
    free(saved);
    return 0;
}

int meta_run_resume(MetaRun *run, const char *config_path, int noverrides, char **overrides,
                    const char *checkpoint_path, int allow_changes)
{
    if (meta_run_setup(run, config_path, noverrides, overrides))
        return -1;
    Checkpoint ck;
    if (checkpoint_open(&ck, checkpoint_path))
        return -1;
    RuleLayout saved_layout;
    real *eta = NULL;
    int rc = check_shape(run, &ck);
    rc = rc || note_provenance(run, &ck);
    rc = rc || check_agent_shape(run, &ck);
    rc = rc || check_config_changes(run, &ck, config_path, allow_changes);
    if (rc == 0 && !run->es && !checkpoint_find(&ck, "lives"))
        rc = lpg_error("%s: was written by evolution strategies and holds no lifetimes for the "
                       "meta-gradient to continue; resume with meta_optimizer \"es\"", ck.path);
    rc = rc || load_counters(run, &ck);
    if (rc == 0 && !(eta = rule_file_read(&ck, &saved_layout)))
        rc = -1;
    if (rc == 0 && strcmp(rule_kind_name(&saved_layout), rule_kind_name(&run->layout)) != 0)
        rc = lpg_error("%s: holds a rule of kind %s but %s learns one of kind %s; resume with the "
                       "same method and y_softmax", ck.path, rule_kind_name(&saved_layout),
                       config_path, rule_kind_name(&run->layout));
    if (rc == 0 && saved_layout.lifetime_inputs != run->layout.lifetime_inputs)
        rc = lpg_error("%s: holds a rule %s lifetime inputs but %s has lifetime_inputs %s; "
                       "resume with the same value", ck.path,
                       saved_layout.lifetime_inputs ? "with" : "without", config_path,
                       run->layout.lifetime_inputs ? "true" : "false");
    rc = rc || adam_load(&run->adam, &ck, "adam");
    if (rc == 0 && run->adam.step != run->step)
        rc = lpg_error("%s: section 'adam_step' is %lld but section 'step' is %lld", ck.path,
                       (long long)run->adam.step, (long long)run->step);
    rc = rc || bandit_load(run->bandits, run->num_envs, &ck, "bandits");
    rc = rc || level_sampler_load(&run->levels, &ck, run->step);
    rc = rc || (!run->es && load_lives(run, &ck));
    if (rc == 0)
        memcpy(run->eta, eta, run->layout.count * sizeof(real));
    free(eta);
    checkpoint_close(&ck);
    return rc ? -1 : 0;
}
