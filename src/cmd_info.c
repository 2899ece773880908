/* cmd_info.c: `lpg info <file>`: what a rule file or meta-training checkpoint holds and how it
 * was made (kind, precision, meta-step, the rule's size, the command-line overrides and every
 * key's effective value, the provenance of the program that wrote it), and with --sections its
 * table of sections. Only reads the file. `lpg info` alone prints this program's provenance. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "checkpoint.h"
#include "commands.h"
#include "meta_config.h"
#include "provenance.h"
#include "rule_file.h"
#include "util.h"

static void print_info_usage(FILE *out)
{
    fprintf(out,
            "usage: lpg info <file.lpg> [--sections]\n"
            "       lpg info\n\n"
            "Shows what a rule file (<run_dir>/rule.lpg, <run_dir>/rules/rule_<step>.lpg) or a\n"
            "meta-training checkpoint (<run_dir>/checkpoint.lpg) holds and how it was made: the\n"
            "kind of file, the precision of the build that wrote it (float: build/lpg, double:\n"
            "build/lpg-double; either build reads both, converting), the meta-step, the rule's LSTM\n"
            "width and parameter count, the command-line overrides of the run (key=value, as given)\n"
            "and the effective config: every key's value after defaults, the config file and the\n"
            "overrides (paths as resolved then). Files written before effective configs were\n"
            "recorded show the saved config file text instead. Then the provenance of the program\n"
            "that wrote the file: lpg's version, precision, compiler, glibc, OpenBLAS and its\n"
            "kernels, the CPU, LPG_CPU and the vector kernels in use (docs/guide.md, \"What\n"
            "reproduces where\"). Without a file, prints that record for this program.\n\n"
            "  --sections   also list every section: name, type and element count\n");
}

/* Prints text, ending with a newline whatever the text ends with. */
static void print_text(const char *text)
{
    size_t len = strlen(text);
    fputs(text, stdout);
    if (len == 0 || text[len - 1] != '\n')
        fputc('\n', stdout);
}

static void print_sections(const Checkpoint *ck)
{
    printf("sections (%d):\n", ck->num_sections);
    printf("  %-24s %-6s %12s\n", "name", "type", "elements");
    for (int i = 0; i < ck->num_sections; i++) {
        const CheckpointSection *s = &ck->sections[i];
        printf("  %-24s %-6s %12zu\n", s->name, checkpoint_type_name(s->type), s->count);
    }
}

/* Prints an optional int64 scalar as "label: value", or "label: not recorded"; a value outside
 * [min, max] is an error naming the section. */
static int print_scalar(const Checkpoint *ck, const char *name, const char *label, int64_t min,
                        int64_t max)
{
    int64_t value = 0;
    if (!checkpoint_find(ck, name)) {
        printf("%s: not recorded\n", label);
        return 0;
    }
    if (checkpoint_get_int64_in(ck, name, min, max, &value))
        return -1;
    printf("%s: %lld\n", label, (long long)value);
    return 0;
}

static int print_rule(const Checkpoint *ck)
{
    RuleLayout layout;
    real *eta = rule_file_read(ck, &layout);
    if (!eta)
        return -1;
    uint32_t crc = (uint32_t)crc32_z(crc32_z(0L, Z_NULL, 0), (const unsigned char *)eta,
                                     layout.count * sizeof(real));
    printf("rule: LSTM width %d, %zu parameters (eta crc32 %08x), kind %s", layout.hidden,
           layout.count, crc, rule_kind_name(&layout));
    if (layout.method == RULE_LPG_V)
        printf(" (value: lr %g, tabular lr %g, lambda %g)", layout.value_lr,
               layout.value_tabular_lr, layout.value_lambda);
    if (layout.lifetime_inputs)
        printf(", reads lifetime inputs (n/N, log N)");
    printf("\n");
    free(eta);
    return 0;
}

/* The overrides and the effective config, or for older files the saved config file text. */
static int print_config_record(const Checkpoint *ck)
{
    if (checkpoint_find(ck, "overrides")) {
        char *overrides = checkpoint_get_text(ck, "overrides");
        if (!overrides)
            return -1;
        if (overrides[0] == '\0') {
            printf("overrides: none\n");
        } else {
            printf("overrides (command line, as given):\n");
            for (char *save = NULL, *line = strtok_r(overrides, "\n", &save); line;
                 line = strtok_r(NULL, "\n", &save))
                printf("  %s\n", line);
        }
        free(overrides);
    }
    if (checkpoint_find(ck, "effective_config")) {
        char *effective = checkpoint_get_json(ck, "effective_config");
        if (!effective)
            return -1;
        printf("effective config:\n");
        print_text(effective);
        free(effective);
        char keys[1024];
        config_keys_with_role(meta_config_fields, meta_config_num_fields, CONFIG_OUTPUT, keys,
                              sizeof keys);
        printf("learning keys: all but %s, which are output only (--resume may change them)\n",
               keys);
        return 0;
    }
    printf("effective config: not recorded: this file predates effective configs, so command-line "
           "overrides of its run are unknown\n");
    if (!checkpoint_find(ck, "config")) {
        printf("config file text: not recorded\n");
        return 0;
    }
    char *config = checkpoint_get_json(ck, "config");
    if (!config)
        return -1;
    printf("config file text (as saved):\n");
    print_text(config);
    free(config);
    return 0;
}

/* The provenance the file records, or a line saying it has none. */
static int print_provenance_record(const Checkpoint *ck)
{
    int failed;
    char *text = provenance_read(ck, &failed);
    if (failed)
        return -1;
    if (!text) {
        printf("provenance: not recorded (the file predates provenance records)\n");
        return 0;
    }
    printf("provenance (the program that wrote the file):\n");
    provenance_print(stdout, text);
    free(text);
    return 0;
}

int cmd_info(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        print_info_usage(stdout);
        return 0;
    }
    if (argc == 1) {
        const char *text = provenance_text();
        if (!text)
            return 1;
        printf("provenance (this program):\n");
        provenance_print(stdout, text);
        return 0;
    }
    int sections = 0;
    const CommandFlag flags[] = {{"--sections", NULL, &sections}};
    CommandArgs args;
    int bad = command_args_parse("info", "file", argc, argv, flags, 1, 0, &args);
    if (bad)
        return bad;
    const char *path = args.path;
    Checkpoint ck;
    if (checkpoint_open(&ck, path))
        return 1;
    int full = checkpoint_find(&ck, "shape") != NULL;
    int has_rule = checkpoint_find(&ck, "rule_hidden") != NULL;
    printf("file: %s\n", path);
    printf("kind: %s\n", full ? "meta-training checkpoint (the whole run state; also a rule file)"
                        : has_rule ? "rule file" : "lpg checkpoint file without a rule");
    printf("precision: %s (%u-byte reals)%s\n", checkpoint_precision(&ck), ck.real_size,
           ck.real_size == sizeof(real) ? "" : "; converted on read by this build");
    int rc = 0;
    if (has_rule) {
        rc = print_scalar(&ck, "step", "meta-step", 0, META_STEPS_MAX);
        if (rc == 0 && full)
            rc = print_scalar(&ck, "lifetimes_finished", "lifetimes finished", 0,
                              (int64_t)META_STEPS_MAX * META_LIFETIMES_MAX);
        rc = rc || print_rule(&ck);
        rc = rc || print_config_record(&ck);
    }
    rc = rc || print_provenance_record(&ck);
    if (sections)
        print_sections(&ck);
    if (rc == 0 && !has_rule)
        rc = lpg_error("%s: holds no rule (no section 'rule_hidden'): not a rule file or a "
                       "meta-training checkpoint", path);
    checkpoint_close(&ck);
    return rc ? 1 : 0;
}
