/* cmd_args.c: one way of splitting every command's words into flags, overrides and the file
 * (see commands.h). */
#include <string.h>

#include "commands.h"
#include "util.h"

static const CommandFlag *find_flag(const CommandFlag *flags, int nflags, const char *word)
{
    for (int i = 0; i < nflags; i++)
        if (strcmp(flags[i].name, word) == 0)
            return &flags[i];
    return NULL;
}

int command_args_parse(const char *command, const char *what, int argc, char **argv,
                       const CommandFlag *flags, int nflags, int allow_overrides,
                       CommandArgs *args)
{
    memset(args, 0, sizeof *args);
    for (int k = 1; k < argc; k++) {
        const char *word = argv[k];
        if (word[0] == '-' && word[1] != '\0') {
            const CommandFlag *f = find_flag(flags, nflags, word);
            if (!f)
                return lpg_error("%s: unknown option '%s' (try 'lpg %s --help')", command, word,
                                 command), 2;
            if (f->value) {
                if (k + 1 >= argc)
                    return lpg_error("%s: %s needs a value", command, word), 2;
                *f->value = argv[++k];
            }
            if (f->set)
                *f->set = 1;
        } else if (allow_overrides && strchr(word, '=')) {
            if (args->noverrides == COMMAND_MAX_OVERRIDES)
                return lpg_error("%s: more than %d key=value overrides", command,
                                 COMMAND_MAX_OVERRIDES), 2;
            args->overrides[args->noverrides++] = argv[k];
        } else if (args->path) {
            return lpg_error("%s: more than one %s given ('%s', '%s')", command, what,
                             args->path, word), 2;
        } else {
            args->path = word;
        }
    }
    if (!args->path)
        return lpg_error("%s: no %s given (try 'lpg %s --help')", command, what, command), 2;
    return 0;
}
