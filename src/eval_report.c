/* eval_report.c: the results of `lpg eval` as tables: Markdown (what it prints), CSV and JSON
 * (with the verdicts, their p-values and the Holm correction), written whole into output_dir. */
#include "eval.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "provenance.h"
#include "stats.h"
#include "util.h"

/* "0.0123 ± 0.0045", with "(n=3)" when fewer seeds than run have a value; "failed" or "-". */
static void format_score(const EvalScore *s, int seeds, char *out, size_t size)
{
    if (s->failed)
        snprintf(out, size, "failed");
    else if (isnan(s->score.mean))
        snprintf(out, size, "-");
    else if (s->score.seeds < seeds)
        snprintf(out, size, "%.4g ± %.2g (n=%d)", s->score.mean, s->score.se, s->score.seeds);
    else
        snprintf(out, size, "%.4g ± %.2g", s->score.mean, s->score.se);
}

/* Rule r of row against A2C (EVAL_UNKNOWN when either run failed). */
static EvalWinner eval_row_winner(const EvalConfig *c, const EvalRow *row, int r)
{
    const EvalScore *rule = &row->method[r], *a2c = &row->method[c->num_rules];
    if (rule->failed || a2c->failed)
        return EVAL_UNKNOWN;
    return eval_better(rule->score.mean, rule->score.se, a2c->score.mean, a2c->score.se);
}

/* The verdict cell of rule r: the rule's name, "A2C", "tie" or "-". */
static const char *verdict_cell(const EvalConfig *c, EvalWinner w, int r)
{
    return w == EVAL_LPG ? c->rules[r].name : eval_winner_name(w);
}

/* Every rule-against-A2C comparison of the table, rule r of row i at [i * num_rules + r]: its
 * two-sided p-value (stats.h's normal approximation, the one behind the two-standard-error
 * verdict), its Holm-adjusted p-value across all the table's comparisons, and its verdict with
 * and without the correction; comparisons counts those with a p-value. */
typedef struct {
    double *p, *p_holm;
    EvalWinner *winner, *winner_holm;
    int comparisons;
} Verdicts;

static void verdicts_free(Verdicts *v)
{
    free(v->p);
    free(v->p_holm);
    free(v->winner);
    free(v->winner_holm);
}

/* Fills v for the table. Returns 0, or -1 when out of memory (reported). A verdict stands after
 * the correction when its adjusted p-value is at most STATS_ALPHA_2SE, the level of the
 * uncorrected rule; otherwise it becomes a tie. */
static int verdicts_compute(const EvalConfig *c, const EvalRow *rows, int num_rows, Verdicts *v)
{
    size_t n = (size_t)num_rows * c->num_rules + 1;
    v->p = lpg_calloc(n, sizeof *v->p, "verdicts");
    v->p_holm = lpg_calloc(n, sizeof *v->p_holm, "verdicts");
    v->winner = lpg_calloc(n, sizeof *v->winner, "verdicts");
    v->winner_holm = lpg_calloc(n, sizeof *v->winner_holm, "verdicts");
    if (!v->p || !v->p_holm || !v->winner || !v->winner_holm)
        return verdicts_free(v), -1;
    for (int i = 0; i < num_rows; i++)
        for (int r = 0; r < c->num_rules; r++) {
            const EvalScore *rule = &rows[i].method[r], *a2c = &rows[i].method[c->num_rules];
            size_t k = (size_t)i * c->num_rules + r;
            v->winner[k] = eval_row_winner(c, &rows[i], r);
            v->p[k] = v->winner[k] == EVAL_UNKNOWN
                          ? NAN
                          : p_two_sided_normal(rule->score.mean, rule->score.se,
                                               a2c->score.mean, a2c->score.se);
        }
    v->comparisons = holm_adjust(v->p, num_rows * c->num_rules, v->p_holm);
    if (v->comparisons < 0)
        return verdicts_free(v), -1;
    for (size_t k = 0; k + 1 < n; k++) {
        int decided = v->winner[k] == EVAL_LPG || v->winner[k] == EVAL_A2C;
        v->winner_holm[k] = !decided                          ? v->winner[k]
                            : v->p_holm[k] <= STATS_ALPHA_2SE ? v->winner[k]
                                                              : EVAL_TIE;
    }
    return 0;
}

/* Closes a memory stream and returns its text (open_memstream sets *text only at the close),
 * or NULL (reported) when it ran out of memory. */
static char *close_text(FILE *f, char **text)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || !*text) {
        free(*text);
        lpg_error("out of memory writing the results table");
        return NULL;
    }
    return *text;
}

/* Steps per seed in the final window of a run of steps, as train_run counts them. */
static long long final_steps(const EvalConfig *c, int steps)
{
    long long per_update = (long long)c->copies * c->unroll;
    long long updates = (steps + per_update - 1) / per_update;
    return (updates * TRAIN_FINAL_PERCENT + 99) / 100 * per_update;
}

/* ", except ..." for the families whose steps_* key replaces steps. */
static void family_budgets_markdown(FILE *f, const EvalConfig *c)
{
    int listed = 0;
    for (int i = 0; i < EVAL_FAMILIES; i++)
        if (c->family_steps[i] > 0)
            fprintf(f, "%s%s %d", listed++ ? ", " : ", except ", eval_families[i].what,
                    c->family_steps[i]);
}

static void markdown_header(FILE *f, const EvalConfig *c)
{
    fprintf(f, "# lpg eval\n\n");
    for (int r = 0; r < c->num_rules; r++) {
        const EvalRule *rule = &c->rules[r];
        fprintf(f, "%s: rule `%s` (α_lr %g for tabular agents", rule->name, rule->path,
                rule->tabular_alpha_lr);
        if (rule->chain_alpha_lr != rule->tabular_alpha_lr)
            fprintf(f, " (%g on chains)", rule->chain_alpha_lr);
        fprintf(f, ", %g for MLP agents%s; α_y %g).\n", rule->mlp_alpha_lr,
                strcmp(rule->inner_optimizer, "adam") == 0 ? ", by Adam" : "", rule->alpha_y);
    }
    fprintf(f, "A2C: tuned per family.\n\n%d seeds (%d to %d) per environment and method, the "
               "same budget for every method: %d environment steps per seed (%d copies, %d steps "
               "per update)", c->seeds, c->seed, c->seed + c->seeds - 1, c->steps, c->copies,
            c->unroll);
    family_budgets_markdown(f, c);
    fprintf(f, ".\n\nFinal score: each seed's reward per step over its last %d%% of steps, then "
               "the mean ± standard error over seeds. Every step counts, so the score is defined "
               "however long the episodes are. A verdict names the method ahead of A2C by more "
               "than two standard errors of the difference, sqrt(se_rule² + se_A2C²); else "
               "tie. That is a two-sided test at level 0.0455 (normal approximation) for each "
               "comparison alone, so among many comparisons some verdicts are chance; the counts "
               "after correction keep only the verdicts that stand under Holm-Bonferroni across "
               "all the table's comparisons (family-wise error at most 0.0455).\n\n",
            TRAIN_FINAL_PERCENT);
}

char *eval_table_markdown(const EvalConfig *c, const EvalRow *rows, int num_rows)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return lpg_error("out of memory writing the results table"), NULL;
    markdown_header(f, c);
    fprintf(f, "| environment | kind |");
    for (int r = 0; r < c->num_rules; r++)
        fprintf(f, " %s |", c->rules[r].name);
    fprintf(f, " A2C |");
    for (int r = 0; r < c->num_rules; r++)
        fprintf(f, " %s vs A2C |", c->rules[r].name);
    fprintf(f, "\n|---|---|");
    for (int m = 0; m <= c->num_rules; m++)
        fprintf(f, "---:|");
    for (int r = 0; r < c->num_rules; r++)
        fprintf(f, "---|");
    fprintf(f, "\n");
    Verdicts v;
    if (verdicts_compute(c, rows, num_rows, &v)) {
        fclose(f);
        free(text);
        return NULL;
    }
    int wins[EVAL_MAX_RULES][4] = {{0}}, wins_holm[EVAL_MAX_RULES][4] = {{0}};
    for (int i = 0; i < num_rows; i++) {
        fprintf(f, "| %s | %s |", rows[i].name, env_kind_name(rows[i].kind));
        for (int m = 0; m <= c->num_rules; m++) {
            char cell[64];
            format_score(&rows[i].method[m], c->seeds, cell, sizeof cell);
            fprintf(f, " %s |", cell);
        }
        for (int r = 0; r < c->num_rules; r++) {
            size_t k = (size_t)i * c->num_rules + r;
            wins[r][v.winner[k]]++;
            wins_holm[r][v.winner_holm[k]]++;
            fprintf(f, " %s |", verdict_cell(c, v.winner[k], r));
        }
        fprintf(f, "\n");
    }
    fprintf(f, "\n");
    for (int r = 0; r < c->num_rules; r++) {
        fprintf(f, "%s better on %d (%d after correction for %d comparisons), A2C better on %d "
                   "(%d after correction), tie on %d (%d after correction)",
                c->rules[r].name, wins[r][EVAL_LPG], wins_holm[r][EVAL_LPG], v.comparisons,
                wins[r][EVAL_A2C], wins_holm[r][EVAL_A2C], wins[r][EVAL_TIE],
                wins_holm[r][EVAL_TIE]);
        if (wins[r][EVAL_UNKNOWN])
            fprintf(f, ", undecided on %d", wins[r][EVAL_UNKNOWN]);
        fprintf(f, " of %d environments.\n", num_rows);
    }
    verdicts_free(&v);
    return close_text(f, &text);
}

/* "better", "worse" or "tie": rule r against A2C; "" when undecided or for A2C itself. */
static const char *verdict_word(const EvalConfig *c, const EvalRow *row, int m)
{
    if (m >= c->num_rules)
        return "";
    switch (eval_row_winner(c, row, m)) {
    case EVAL_LPG: return "better";
    case EVAL_A2C: return "worse";
    case EVAL_TIE: return "tie";
    case EVAL_UNKNOWN: break;
    }
    return "";
}

/* printf's %.6g, or "nan" whatever the NaN's sign. */
static void format_number(double x, char *out, size_t size)
{
    if (isnan(x))
        snprintf(out, size, "nan");
    else
        snprintf(out, size, "%.6g", x);
}

/* The results as CSV, one row per environment and method: "environment,kind,method,seeds,
 * steps,final_steps,mean,se,scored_seeds,episodes,final_return,final_return_se,verdict";
 * missing numbers "nan". A new string the caller frees, or NULL after reporting. */
static char *eval_table_csv(const EvalConfig *c, const EvalRow *rows, int num_rows)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return lpg_error("out of memory writing the results table"), NULL;
    fprintf(f, "environment,kind,method,seeds,steps,final_steps,mean,se,scored_seeds,episodes,"
               "final_return,final_return_se,verdict\n");
    for (int i = 0; i < num_rows; i++)
        for (int m = 0; m <= c->num_rules; m++) {
            const EvalScore *s = &rows[i].method[m];
            char mean[32], se[32], ret[32], ret_se[32];
            format_number(s->failed ? NAN : s->score.mean, mean, sizeof mean);
            format_number(s->failed ? NAN : s->score.se, se, sizeof se);
            format_number(s->failed ? NAN : s->score.return_mean, ret, sizeof ret);
            format_number(s->failed ? NAN : s->score.return_se, ret_se, sizeof ret_se);
            fprintf(f, "%s,%s,%s,%d,%d,%lld,%s,%s,%d,%lld,%s,%s,%s\n", rows[i].name,
                    env_kind_name(rows[i].kind), eval_method_name(c, m), c->seeds, rows[i].steps,
                    final_steps(c, rows[i].steps), mean, se, s->failed ? 0 : s->score.seeds,
                    s->failed ? 0LL : (long long)s->score.episodes, ret, ret_se,
                    verdict_word(c, &rows[i], m));
        }
    return close_text(f, &text);
}

/* A number, or null for NaN (JSON has no NaN). */
static cJSON *json_number(double x)
{
    return isnan(x) ? cJSON_CreateNull() : cJSON_CreateNumber(x);
}

/* "better", "worse" or "tie" for a rule's winner; NULL when undecided. */
static const char *winner_word(EvalWinner w)
{
    return w == EVAL_LPG ? "better" : w == EVAL_A2C ? "worse" : w == EVAL_TIE ? "tie" : NULL;
}

/* A rule's comparison with A2C (k: its index in v): p-values and the corrected verdict. */
static void add_comparison_json(cJSON *o, const Verdicts *v, size_t k)
{
    const char *corrected = winner_word(v->winner_holm[k]);
    cJSON_AddItemToObject(o, "p_value", json_number(v->p[k]));
    cJSON_AddItemToObject(o, "p_holm", json_number(v->p_holm[k]));
    cJSON_AddItemToObject(o, "verdict_holm", corrected ? cJSON_CreateString(corrected)
                                                       : cJSON_CreateNull());
}

/* Per rule: its verdict counts with and without the correction. */
static cJSON *counts_json(const EvalConfig *c, int num_rows, const Verdicts *v)
{
    cJSON *counts = cJSON_CreateObject();
    for (int r = 0; r < c->num_rules; r++) {
        int n[4] = {0}, n_holm[4] = {0};
        for (int i = 0; i < num_rows; i++) {
            n[v->winner[(size_t)i * c->num_rules + r]]++;
            n_holm[v->winner_holm[(size_t)i * c->num_rules + r]]++;
        }
        cJSON *o = cJSON_AddObjectToObject(counts, c->rules[r].name);
        cJSON_AddNumberToObject(o, "better", n[EVAL_LPG]);
        cJSON_AddNumberToObject(o, "worse", n[EVAL_A2C]);
        cJSON_AddNumberToObject(o, "tie", n[EVAL_TIE]);
        cJSON_AddNumberToObject(o, "undecided", n[EVAL_UNKNOWN]);
        cJSON_AddNumberToObject(o, "better_holm", n_holm[EVAL_LPG]);
        cJSON_AddNumberToObject(o, "worse_holm", n_holm[EVAL_A2C]);
        cJSON_AddNumberToObject(o, "tie_holm", n_holm[EVAL_TIE]);
    }
    return counts;
}

static cJSON *method_json(const EvalConfig *c, const EvalRow *row, int m)
{
    const EvalScore *s = &row->method[m];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "mean", json_number(s->failed ? NAN : s->score.mean));
    cJSON_AddItemToObject(o, "se", json_number(s->failed ? NAN : s->score.se));
    cJSON_AddNumberToObject(o, "seeds", s->failed ? 0 : s->score.seeds);
    cJSON_AddNumberToObject(o, "episodes", s->failed ? 0 : (double)s->score.episodes);
    cJSON_AddItemToObject(o, "final_return", json_number(s->failed ? NAN : s->score.return_mean));
    cJSON_AddItemToObject(o, "final_return_se", json_number(s->failed ? NAN : s->score.return_se));
    cJSON_AddBoolToObject(o, "failed", s->failed);
    cJSON_AddNumberToObject(o, "seconds", s->seconds);
    const char *verdict = verdict_word(c, row, m);
    cJSON_AddItemToObject(o, "verdict", *verdict ? cJSON_CreateString(verdict)
                                                 : cJSON_CreateNull());
    return o;
}

static cJSON *methods_json(const EvalConfig *c)
{
    cJSON *list = cJSON_CreateArray();
    for (int m = 0; m <= c->num_rules; m++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", eval_method_name(c, m));
        if (m < c->num_rules) {
            cJSON_AddStringToObject(o, "rule", c->rules[m].path);
            cJSON_AddNumberToObject(o, "tabular_alpha_lr", c->rules[m].tabular_alpha_lr);
            cJSON_AddNumberToObject(o, "chain_alpha_lr", c->rules[m].chain_alpha_lr);
            cJSON_AddNumberToObject(o, "mlp_alpha_lr", c->rules[m].mlp_alpha_lr);
            cJSON_AddNumberToObject(o, "alpha_y", c->rules[m].alpha_y);
            cJSON_AddStringToObject(o, "inner_optimizer", c->rules[m].inner_optimizer);
        }
        cJSON_AddItemToArray(list, o);
    }
    return list;
}

/* The results as JSON (results.json): per environment and method, with the verdicts, their
 * p-values and the Holm correction, and the provenance. A new string, or NULL after reporting. */
static char *eval_results_json(const EvalConfig *c, const EvalRow *rows, int num_rows)
{
    Verdicts v;
    if (verdicts_compute(c, rows, num_rows, &v))
        return NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "provenance", provenance_json());
    char score[128];
    snprintf(score, sizeof score, "reward per step over the last %d%% of each seed's steps; mean "
             "and standard error over seeds", TRAIN_FINAL_PERCENT);
    cJSON_AddStringToObject(root, "score", score);
    cJSON_AddStringToObject(root, "verdict", "each rule against A2C: better or worse when the "
                                             "means differ by more than two standard errors of "
                                             "the difference, else tie; null when undecided");
    cJSON_AddStringToObject(root, "p_value", "two-sided, normal approximation: erfc(|z| / sqrt 2) "
                                             "with z = (mean_rule - mean_A2C) / sqrt(se_rule^2 + "
                                             "se_A2C^2), so the verdict is better or worse exactly "
                                             "when p < 0.0455");
    cJSON_AddStringToObject(root, "verdict_holm", "the verdict when it stands under the "
                                                  "Holm-Bonferroni correction across all the "
                                                  "table's comparisons at level 0.0455 "
                                                  "(p_holm <= 0.0455), else tie");
    cJSON_AddNumberToObject(root, "comparisons", v.comparisons);
    cJSON_AddItemToObject(root, "counts", counts_json(c, num_rows, &v));
    cJSON_AddNumberToObject(root, "seed", c->seed);
    cJSON_AddNumberToObject(root, "seeds", c->seeds);
    cJSON_AddItemToObject(root, "methods", methods_json(c));
    cJSON *envs = cJSON_AddArrayToObject(root, "environments");
    for (int i = 0; i < num_rows; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", rows[i].name);
        cJSON_AddStringToObject(e, "kind", env_kind_name(rows[i].kind));
        cJSON_AddStringToObject(e, "path", rows[i].path);
        cJSON_AddNumberToObject(e, "steps", rows[i].steps);
        cJSON_AddNumberToObject(e, "final_steps", (double)final_steps(c, rows[i].steps));
        cJSON *results = cJSON_AddObjectToObject(e, "results");
        for (int m = 0; m <= c->num_rules; m++) {
            cJSON *o = method_json(c, &rows[i], m);
            if (m < c->num_rules)
                add_comparison_json(o, &v, (size_t)i * c->num_rules + m);
            cJSON_AddItemToObject(results, eval_method_name(c, m), o);
        }
        cJSON_AddItemToArray(envs, e);
    }
    verdicts_free(&v);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return lpg_error("out of memory writing results.json"), NULL;
    size_t n = strlen(text);
    char *out = malloc(n + 2); /* with a final newline, freed with free() like the others */
    if (out)
        memcpy(out, text, n), out[n] = '\n', out[n + 1] = '\0';
    cJSON_free(text);
    if (!out)
        lpg_error("out of memory writing results.json");
    return out;
}

static int write_text(const char *dir, const char *name, char *text)
{
    char path[LPG_PATH_MAX];
    int rc = -1;
    if (!text)
        return -1;
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        lpg_error("%s/%s: path too long", dir, name);
    else
        rc = write_file_atomic(path, text, strlen(text));
    free(text);
    return rc;
}

/* The tables eval writes last (eval_write_tables), each naming every curve of the run. */
static const char *const table_names[] = {"results.md", "results.csv", "results.json"};

int eval_write_tables(const EvalConfig *c, const EvalRow *rows, int num_rows)
{
    if (make_dirs(c->output_dir))
        return -1;
    int rc = write_text(c->output_dir, table_names[0], eval_table_markdown(c, rows, num_rows));
    rc = rc ? rc : write_text(c->output_dir, table_names[1], eval_table_csv(c, rows, num_rows));
    return rc ? rc : write_text(c->output_dir, table_names[2], eval_results_json(c, rows, num_rows));
}
