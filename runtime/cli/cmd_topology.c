/* weir validate | describe | plugin info | reload: libweir's tool calls
 * (weir/runtime.h) with the command line's options and output. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <weir/runtime.h>

#include "commands.h"
#include "topo_args.h"

long weir_cli_parse_long(const char *s) {
  char *end;
  long v = strtol(s, &end, 10);
  return (*s && !*end && v >= 0) ? v : -1;
}

void weir_cli_print_errors(const char *lines) {
  const char *p = lines;
  while (*p) {
    size_t n = strcspn(p, "\n");
    if (n)
      fprintf(stderr, "weir: error: %.*s\n", (int)n, p);
    p += n + (p[n] == '\n');
  }
}

int weir_cli_parse_topo_args(int argc, char **argv, topo_args_t *a, const char *cmd) {
  static const struct option opts[] = {{"set", required_argument, NULL, 's'},
                                       {"dot", no_argument, NULL, 'd'},
                                       {"params", no_argument, NULL, 'p'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  int c;
  memset(a, 0, sizeof *a);
  optind = 1;
  while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
    if (c == 's' && a->set_count < WEIR_CLI_MAX_SETS)
      a->sets[a->set_count++] = optarg;
    else if (c == 'd')
      a->dot = 1;
    else if (c == 'p')
      a->params = 1;
    else if (c == 'h')
      a->help = 1;
    else
      return -1;
  }
  /* The command applies the environment as it applies --set. */
  a->opts = (weir_runtime_options_t){.struct_size = sizeof a->opts,
                                     .overrides = (const char *const *)a->sets,
                                     .override_count = a->set_count,
                                     .use_environment = 1};
  if (a->help)
    return 0;
  if (optind != argc - 1) {
    fprintf(stderr, "weir %s: expected one topology file; see `weir %s --help`\n", cmd, cmd);
    return -1;
  }
  a->file = argv[optind];
  return 0;
}

/* Room for every error line of a topology that is wrong everywhere. */
enum { ERRORS_SIZE = 64 * 1024 };

int weir_cmd_validate(int argc, char **argv) {
  topo_args_t a;
  if (weir_cli_parse_topo_args(argc, argv, &a, "validate"))
    return 2;
  if (a.help) {
    puts("usage: weir validate FILE [--set SECTION.KEY=VALUE]...\n"
         "Checks every section, key, value, edge and plugin of FILE; prints each problem as\n"
         "file:line: message. Exit 0 when valid, 1 when not.");
    return 0;
  }
  char *errors = calloc(1, ERRORS_SIZE);
  if (!errors)
    return 1;
  int rc = weir_runtime_validate_file(a.file, &a.opts, stdout, errors, ERRORS_SIZE);
  if (rc)
    weir_cli_print_errors(errors);
  free(errors);
  return rc ? 1 : 0;
}

int weir_cmd_describe(int argc, char **argv) {
  topo_args_t a;
  if (weir_cli_parse_topo_args(argc, argv, &a, "describe"))
    return 2;
  if (a.help) {
    puts("usage: weir describe FILE [--dot | --params] [--set SECTION.KEY=VALUE]...\n"
         "Prints the topology as text; --dot as Graphviz (weir describe f.ini --dot | dot -Tsvg);\n"
         "--params the reference of every key each section may hold, with the operators'\n"
         "own parameter declarations.");
    return 0;
  }
  char *errors = calloc(1, ERRORS_SIZE);
  if (!errors)
    return 1;
  weir_runtime_describe_format_t format = a.dot      ? WEIR_RUNTIME_DESCRIBE_DOT
                                          : a.params ? WEIR_RUNTIME_DESCRIBE_PARAMS
                                                     : WEIR_RUNTIME_DESCRIBE_TEXT;
  int rc = weir_runtime_describe_file(a.file, &a.opts, format, stdout, errors, ERRORS_SIZE);
  if (rc)
    weir_cli_print_errors(errors);
  free(errors);
  return rc ? 1 : 0;
}

int weir_cmd_plugin(int argc, char **argv) {
  char errstr[2048];
  if (argc < 2 || strcmp(argv[1], "info") != 0 || argc != 3) {
    fprintf(stderr, "usage: weir plugin info FILE.so\n");
    return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
  }
  if (weir_runtime_describe_plugin(argv[2], stdout, errstr, sizeof errstr)) {
    fprintf(stderr, "weir: error: %s\n", errstr);
    return 1;
  }
  return 0;
}

int weir_cmd_reload(int argc, char **argv) {
  topo_args_t a;
  char report[ERRORS_SIZE];
  if (weir_cli_parse_topo_args(argc, argv, &a, "reload"))
    return 2;
  if (a.help) {
    puts("usage: weir reload FILE [--set SECTION.KEY=VALUE]...\n"
         "Asks the running `weir run FILE` (found by FILE's state.dir and application.id) to\n"
         "re-read FILE and swap in new plugin builds and changed parameters while records\n"
         "flow. Prints its answer; exits 0 when the new version runs (or nothing changed), 1\n"
         "when it was refused (every task keeps the running version).");
    return 0;
  }
  int rc = weir_runtime_request_reload(a.file, &a.opts, report, sizeof report);
  if (rc < 0) {
    weir_cli_print_errors(report);
    return 1;
  }
  fputs(report, rc == 0 ? stdout : stderr);
  return rc;
}
