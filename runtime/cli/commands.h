/* The `weir` command's subcommands. Each returns the process exit code. */
#ifndef WEIR_CLI_COMMANDS_H
#define WEIR_CLI_COMMANDS_H

int weir_cmd_run(int argc, char **argv);
int weir_cmd_validate(int argc, char **argv);
int weir_cmd_describe(int argc, char **argv);
int weir_cmd_plugin(int argc, char **argv);
int weir_cmd_broker(int argc, char **argv);
int weir_cmd_produce(int argc, char **argv);
int weir_cmd_consume(int argc, char **argv);
int weir_cmd_reload(int argc, char **argv);
int weir_cmd_query(int argc, char **argv);

/* Shared by the commands that read a topology: load FILE, apply --set
 * overrides, build and validate. Prints every error; NULL on failure. */
struct weir_topology;
struct weir_topology *weir_cli_load_topology(const char *path, char **overrides,
                                             int override_count);
void weir_cli_free_topology(struct weir_topology *t);

/* Milliseconds to a number; -1 when not a non-negative integer. */
long weir_cli_parse_long(const char *s);

#endif
