/* commands.h: the subcommands of the lpg binary. Each owns its usage text (printed by --help)
 * and returns the process exit code: 0 on success, non-zero after reporting an error. */
#ifndef LPG_COMMANDS_H
#define LPG_COMMANDS_H

int cmd_env(int argc, char **argv);
int cmd_gradcheck(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_meta_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_info(int argc, char **argv);


#endif
