/* weir produce | consume — feed and read topics, for demos and tests (a
 * small kcat that needs nothing but weir). */
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <weir/runtime.h>

#include "commands.h"

typedef struct client_args {
  const char *bootstrap, *topic, *key_sep;
  long max, idle_ms, timeout_ms;
  const char *key_serde, *value_serde; /* names, as weir_runtime_print_value takes */
  int verbose;
} client_args_t;

static int parse_client_args(int argc, char **argv, client_args_t *a, const char *usage) {
  static const struct option opts[] = {{"bootstrap", required_argument, NULL, 'b'},
                                       {"topic", required_argument, NULL, 't'},
                                       {"key-separator", required_argument, NULL, 'k'},
                                       {"max", required_argument, NULL, 'm'},
                                       {"idle-ms", required_argument, NULL, 'i'},
                                       {"timeout-ms", required_argument, NULL, 'T'},
                                       {"key-serde", required_argument, NULL, 'K'},
                                       {"value-serde", required_argument, NULL, 'V'},
                                       {"verbose", no_argument, NULL, 'v'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  int c, bad = 0;
  memset(a, 0, sizeof *a);
  a->max = -1, a->idle_ms = 3000, a->timeout_ms = 60000;
  a->key_serde = a->value_serde = "string";
  optind = 1;
  while ((c = getopt_long(argc, argv, "b:t:k:m:i:T:K:V:vh", opts, NULL)) != -1) {
    switch (c) {
    case 'b': a->bootstrap = optarg; break;
    case 't': a->topic = optarg; break;
    case 'k': a->key_sep = optarg; break;
    case 'm': bad |= (a->max = weir_cli_parse_long(optarg)) < 0; break;
    case 'i': bad |= (a->idle_ms = weir_cli_parse_long(optarg)) < 0; break;
    case 'T': bad |= (a->timeout_ms = weir_cli_parse_long(optarg)) < 0; break;
    case 'K': bad |= weir_runtime_print_value(a->key_serde = optarg, NULL, 0, NULL) != 0; break;
    case 'V': bad |= weir_runtime_print_value(a->value_serde = optarg, NULL, 0, NULL) != 0; break;
    case 'v': a->verbose = 1; break;
    case 'h': fputs(usage, stdout); return 1;
    default: bad = 1;
    }
  }
  if (bad || !a->bootstrap || !a->topic) {
    fputs(usage, stderr);
    return 2;
  }
  return 0;
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *bootstrap) {
  char why[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  char group[64];
  /* assign() needs a group id, but this client never joins the group. */
  snprintf(group, sizeof group, "weir-consume-%ld", (long)getpid());
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, NULL, 0);
  rd_kafka_conf_set(conf, "group.id", group, NULL, 0);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", NULL, 0);
  rd_kafka_conf_set(conf, "enable.partition.eof", "false", NULL, 0);
  rd_kafka_t *rk = rd_kafka_new(type, conf, why, sizeof why);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    fprintf(stderr, "weir: error: cannot create a Kafka client: %s\n", why);
  }
  return rk;
}

static const char produce_usage[] =
    "usage: weir produce -b ADDR -t TOPIC [--key-separator S]\n"
    "Sends one record per line of stdin (without the newline). With --key-separator, the\n"
    "text before the first S is the key and the rest the value.\n";

static int produce_line(rd_kafka_t *rk, const char *topic, char *line, size_t len,
                        const char *sep) {
  char *key = NULL, *value = line;
  size_t key_len = 0, value_len = len;
  char *at = sep && *sep ? strstr(line, sep) : NULL;
  if (at) {
    key = line, key_len = (size_t)(at - line);
    value = at + strlen(sep), value_len = len - key_len - strlen(sep);
  }
  for (;;) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE(value, value_len), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
      return err ? (fprintf(stderr, "weir: error: produce to %s: %s\n", topic,
                            rd_kafka_err2str(err)),
                    -1)
                 : 0;
    rd_kafka_poll(rk, 10);
  }
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  if (m->err)
    ++*(long *)opaque;
}

int weir_cmd_produce(int argc, char **argv) {
  client_args_t a;
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  long sent = 0, failed = 0;
  int rc = parse_client_args(argc, argv, &a, produce_usage);
  if (rc)
    return rc == 1 ? 0 : rc;
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", a.bootstrap, NULL, 0);
  rd_kafka_conf_set(conf, "linger.ms", "5", NULL, 0);
  rd_kafka_conf_set(conf, "partitioner", "murmur2_random", NULL, 0);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, &failed);
  char why[512];
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
  if (!rk) {
    fprintf(stderr, "weir: error: %s\n", why);
    return 1;
  }
  while ((len = getline(&line, &cap, stdin)) > 0) {
    if (line[len - 1] == '\n')
      line[--len] = '\0';
    if (produce_line(rk, a.topic, line, (size_t)len, a.key_sep))
      break;
    sent++;
    rd_kafka_poll(rk, 0);
  }
  free(line);
  if (rd_kafka_flush(rk, 30000))
    fprintf(stderr, "weir: error: %d record(s) not acknowledged within 30 s\n",
            rd_kafka_outq_len(rk));
  rd_kafka_destroy(rk);
  fprintf(stderr, "weir produce: %ld record(s) sent to %s, %ld failed\n", sent, a.topic, failed);
  return failed ? 1 : 0;
}

static const char consume_usage[] =
    "usage: weir consume -b ADDR -t TOPIC [--max N] [--idle-ms MS] [--timeout-ms MS]\n"
    "                    [--key-serde S] [--value-serde S] [--verbose]\n"
    "Prints every record of TOPIC from the beginning as `key<TAB>value` (--verbose adds\n"
    "partition, offset, timestamp and headers), without joining a group. Stops after N\n"
    "records, after MS (default 3000) without a record once one arrived, or at the timeout\n"
    "(default 60000).\n";

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int assign_all(rd_kafka_t *rk, const char *topic) {
  const rd_kafka_metadata_t *md;
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
  rd_kafka_topic_destroy(rkt);
  if (err || md->topic_cnt != 1 || md->topics[0].err) {
    fprintf(stderr, "weir: error: topic '%s': %s\n", topic,
            rd_kafka_err2str(err ? err : md->topics[0].err));
    if (!err)
      rd_kafka_metadata_destroy(md);
    return -1;
  }
  rd_kafka_topic_partition_list_t *parts =
      rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
  for (int p = 0; p < md->topics[0].partition_cnt; p++)
    rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_metadata_destroy(md);
  err = rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  return err ? -1 : 0;
}

static void print_record(const client_args_t *a, const rd_kafka_message_t *m) {
  if (a->verbose) {
    printf("%d@%lld ts=%lld key=", (int)m->partition, (long long)m->offset,
           (long long)rd_kafka_message_timestamp(m, NULL));
  }
  weir_runtime_print_value(a->key_serde, m->key, m->key_len, stdout);
  fputs(a->verbose ? " value=" : "\t", stdout);
  weir_runtime_print_value(a->value_serde, m->payload, m->len, stdout);
  rd_kafka_headers_t *hdrs;
  if (a->verbose && rd_kafka_message_headers(m, &hdrs) == 0) {
    const char *name;
    const void *val;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == 0; i++) {
      printf(" %s=", name);
      weir_runtime_print_value("bytes", val, size, stdout);
    }
  }
  putchar('\n');
}

int weir_cmd_consume(int argc, char **argv) {
  client_args_t a;
  long count = 0;
  int rc = parse_client_args(argc, argv, &a, consume_usage);
  if (rc)
    return rc == 1 ? 0 : rc;
  rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, a.bootstrap);
  if (!rk || assign_all(rk, a.topic)) {
    if (rk)
      rd_kafka_destroy(rk);
    return 1;
  }
  long long start = now_ms(), last = 0;
  while (a.max < 0 || count < a.max) {
    long long now = now_ms();
    if (now - start > a.timeout_ms || (last && now - last > a.idle_ms))
      break;
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (!m)
      continue;
    if (!m->err) {
      print_record(&a, m);
      count++;
      last = now_ms();
    }
    rd_kafka_message_destroy(m);
  }
  fflush(stdout);
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  fprintf(stderr, "weir consume: %ld record(s) from %s\n", count, a.topic);
  return 0;
}
