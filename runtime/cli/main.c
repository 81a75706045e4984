/* weir — run stream-processing topologies of plugin operators over Kafka.
 * A program on libweir's public API (weir/runtime.h), as an embedding one
 * is: the runtime itself lives in libweir.so. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <weir/runtime.h>
#include <weir/weir.h>

#include "commands.h"
#include "malloc_tune.h"

static const char usage[] =
    "usage: weir <command> [options]\n"
    "\n"
    "Topologies:\n"
    "  run FILE [--set SECTION.KEY=VALUE]...   run a topology until SIGINT/SIGTERM\n"
    "  validate FILE [--set ...]               check a topology; exit 0 when valid, 1 when not\n"
    "  describe FILE [--dot|--params]          print a topology as text, Graphviz, or the\n"
    "                                          reference of every key it may hold\n"
    "  reload FILE [--set ...]                 swap changed plugins and parameters into the\n"
    "                                          running `weir run FILE` (or send it SIGHUP)\n"
    "  query ADDR STORE KEY | ADDR STORE --range [--from K] [--to K] [--prefix P] [--limit N]\n"
    "                                          ask a running instance (http.listen) for state\n"
    "Plugins:\n"
    "  plugin info FILE.so                     list a plugin's operators and parameters\n"
    "Development broker and tools:\n"
    "  broker [--brokers N] [--partitions N] [--topic T]...\n"
    "                                          run an in-memory Kafka broker; prints its address\n"
    "  produce -b ADDR -t TOPIC [--key-separator S]   one record per line of stdin\n"
    "  consume -b ADDR -t TOPIC [--max N] [--idle-ms MS] [--timeout-ms MS]\n"
    "          [--key-serde S] [--value-serde S] [--verbose]   print a topic's records\n"
    "\n"
    "Run `weir <command> --help` for a command's options. Version %s.\n";

int main(int argc, char **argv) {
  static const struct {
    const char *name;
    int (*fn)(int, char **);
  } commands[] = {{"run", weir_cmd_run},           {"validate", weir_cmd_validate},
                  {"describe", weir_cmd_describe}, {"plugin", weir_cmd_plugin},
                  {"broker", weir_cmd_broker},     {"produce", weir_cmd_produce},
                  {"consume", weir_cmd_consume},   {"reload", weir_cmd_reload},
                  {"query", weir_cmd_query}};
  weir_malloc_tune(getenv("GLIBC_TUNABLES"), getenv("MALLOC_MMAP_THRESHOLD_"),
                   getenv("MALLOC_TRIM_THRESHOLD_"));
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fprintf(argc < 2 ? stderr : stdout, usage, weir_runtime_version());
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    /* What a bug report needs: the versions of everything that shapes
     * behaviour, librdkafka as loaded at run time (not as compiled). */
    printf("weir %s (plugin ABI %d.%d)\nlibrdkafka %s\nRocksDB %s (built against)\n",
           weir_runtime_version(), WEIR_ABI_MAJOR, WEIR_ABI_MINOR, rd_kafka_version_str(),
           WEIR_ROCKSDB_VERSION);
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0)
      return commands[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "weir: unknown command '%s'; run `weir --help` for the list\n", argv[1]);
  return 2;
}
