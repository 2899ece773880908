/* commands.h: the subcommands of the lpg binary. Each owns its usage text (printed by --help)
 * and returns the process exit code: 0 on success, non-zero after reporting an error. */
#ifndef LPG_COMMANDS_H
#define LPG_COMMANDS_H

#define COMMAND_MAX_OVERRIDES 256

/* A flag a command accepts: a switch (value NULL: *set becomes 1) or an option taking the next
 * word (*value points at it; *set, when not NULL, becomes 1 too). */
typedef struct {
    const char *name;     /* "--resume" */
    const char **value;
    int *set;
} CommandFlag;

/* The words after a command's name, split the same way for every command. */
typedef struct {
    const char *path;                              /* the one positional word (config or file) */
    int noverrides;
    char *overrides[COMMAND_MAX_OVERRIDES];        /* key=value words, in order (into argv) */
} CommandArgs;

/* Splits argv[1..argc): a word starting with '-' must be one of flags[0..nflags) (else
 * "<command>: unknown option '<word>' (try 'lpg <command> --help')"); with allow_overrides,
 * a word containing '=' is a key=value override; exactly one other word is args->path (what
 * names it in the messages: "config", "file"). Returns 0, or 2 (the exit status of a
 * command-line error) after reporting. */
int command_args_parse(const char *command, const char *what, int argc, char **argv,
                       const CommandFlag *flags, int nflags, int allow_overrides,
                       CommandArgs *args);

int cmd_env(int argc, char **argv);
int cmd_gradcheck(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_meta_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_analyse(int argc, char **argv);


#endif
