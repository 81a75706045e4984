/* The `weir` command's subcommands, each a user of libweir's public API
 * (weir/runtime.h) or a plain librdkafka client. Each returns the process
 * exit code. */
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

/* Each line of `lines` on stderr as "weir: error: LINE". */
void weir_cli_print_errors(const char *lines);

/* Milliseconds to a number; -1 when not a non-negative integer. */
long weir_cli_parse_long(const char *s);

#endif
