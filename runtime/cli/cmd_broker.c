/* weir broker — the embedded (in-memory) Kafka broker as its own process. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <weir/runtime.h>

#include "commands.h"

static const char broker_usage[] =
    "usage: weir broker [--brokers N] [--partitions N] [--topic T]...\n"
    "Runs librdkafka's mock Kafka cluster on loopback until SIGINT/SIGTERM. The first line on\n"
    "stdout is its bootstrap address. Data is kept in memory only: for development and tests,\n"
    "never production. Each partition keeps at most 5 MiB or 100,000 message sets and drops\n"
    "the oldest; topics created by a client (not with --topic) get 4 partitions.\n";

int weir_cmd_broker(int argc, char **argv) {
  static const struct option opts[] = {{"brokers", required_argument, NULL, 'b'},
                                       {"partitions", required_argument, NULL, 'p'},
                                       {"topic", required_argument, NULL, 't'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  long brokers = 1, partitions = 6;
  const char *topics[256];
  int topic_count = 0, c;
  char errstr[512];
  optind = 1;
  while ((c = getopt_long(argc, argv, "b:p:t:h", opts, NULL)) != -1) {
    if (c == 'b')
      brokers = weir_cli_parse_long(optarg);
    else if (c == 'p')
      partitions = weir_cli_parse_long(optarg);
    else if (c == 't' && topic_count < 256)
      topics[topic_count++] = optarg;
    else {
      fputs(broker_usage, c == 'h' ? stdout : stderr);
      return c == 'h' ? 0 : 2;
    }
  }
  if (brokers < 1 || brokers > 32 || partitions < 1 || partitions > 10000) {
    fprintf(stderr, "weir broker: --brokers must be 1..32 and --partitions 1..10000\n");
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, NULL);
  weir_broker_t *e = weir_broker_start((int)brokers, errstr, sizeof errstr);
  if (!e) {
    fprintf(stderr, "weir: error: %s\n", errstr);
    return 1;
  }
  for (int i = 0; i < topic_count; i++)
    if (weir_broker_create_topic(e, topics[i], (int)partitions, errstr, sizeof errstr)) {
      fprintf(stderr, "weir: error: %s\n", errstr);
      weir_broker_stop(e);
      return 1;
    }
  printf("%s\n", weir_broker_address(e));
  fflush(stdout);
  weir_runtime_log(
      WEIR_LOG_INFO,
      "embedded broker on %s with %d topic(s) of %ld partition(s); in memory only, for "
      "development and tests; stop with SIGINT or SIGTERM",
      weir_broker_address(e), topic_count, partitions);
  int sig = 0;
  sigwait(&signals, &sig);
  weir_broker_stop(e);
  return 0;
}
