/* topo_args — the options of the commands that read a topology (run,
 * validate, describe, reload): FILE, --set, a mode flag; and the libweir
 * options they make (--set overrides, the environment applied). */
#ifndef WEIR_CLI_TOPO_ARGS_H
#define WEIR_CLI_TOPO_ARGS_H

#include <weir/runtime.h>

#define WEIR_CLI_MAX_SETS 64

typedef struct topo_args {
  const char *file;
  char *sets[WEIR_CLI_MAX_SETS];
  int set_count;
  int dot, params, help;
  weir_runtime_options_t opts;
} topo_args_t;

/* 0, or -1 after printing what is wrong (exit 2). */
int weir_cli_parse_topo_args(int argc, char **argv, topo_args_t *a, const char *cmd);

#endif
