#include "kafka/kafka_conf.h"

#include <stdio.h>
#include <string.h>

int weir_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value,
                        char *errstr, size_t errstr_size) {
  char why[256];
  if (rd_kafka_conf_set(conf, key, value, why, sizeof why) == RD_KAFKA_CONF_OK)
    return 0;
  snprintf(errstr, errstr_size, "librdkafka rejected %.100s=%.100s: %s", key, value, why);
  return -1;
}

/* librdkafka 2.0.2 backs off fetching for ~1 s each time its prefetch queue
 * reaches queued.min.messages; a large queue keeps a fast loop fed. The
 * producer batches up to 5 ms: throughput without a visible latency cost. */
static const char *const consumer_defaults[][2] = {
    {"queued.min.messages", "200000"},
    {"queued.max.messages.kbytes", "262144"},
    {"fetch.max.bytes", "52428800"},
    {"auto.offset.reset", "earliest"}, /* Kafka Streams' default */
    {"partition.assignment.strategy", "range"},
    {"session.timeout.ms", "45000"},
    {"enable.partition.eof", "false"},
};

static const char *const producer_defaults[][2] = {
    {"linger.ms", "5"},
    {"batch.num.messages", "10000"},
    {"queue.buffering.max.messages", "1000000"},
    {"queue.buffering.max.kbytes", "1048576"},
    {"acks", "all"},
    {"enable.idempotence", "true"}, /* keeps per-partition order across retries */
    {"partitioner", "murmur2_random"}, /* Java's default: same key, same partition */
};

/* What weir owns: a user value here would break at-least-once. */
static const char *const consumer_owned[][2] = {
    {"enable.auto.commit", "false"},
    {"enable.auto.offset.store", "false"},
};

/* The restore consumer reads changelogs to their end outside the group. */
static const char *const restore_owned[][2] = {
    {"enable.auto.commit", "false"},
    {"enable.auto.offset.store", "false"},
    {"enable.partition.eof", "true"},
    {"auto.offset.reset", "earliest"},
};

static int set_table(rd_kafka_conf_t *conf, const char *const (*table)[2], size_t n,
                     char *errstr, size_t errstr_size) {
  for (size_t i = 0; i < n; i++)
    if (weir_kafka_conf_set(conf, table[i][0], table[i][1], errstr, errstr_size))
      return -1;
  return 0;
}

/* [kafka] properties apply to every client; librdkafka ignores (with a
 * warning) a consumer property on a producer, so filter the obvious ones to
 * keep logs clean. */
static int role_ignores(weir_client_role_t role, const char *key) {
  static const char *const consumer_only[] = {"queued.", "fetch.", "auto.offset.reset",
                                              "session.timeout.ms", "heartbeat.interval.ms",
                                              "max.poll.interval.ms", "partition.assignment",
                                              "group.", "isolation.level", "enable.auto", NULL};
  static const char *const producer_only[] = {"linger.ms", "batch.", "queue.buffering.",
                                              "acks", "enable.idempotence", "compression.",
                                              "partitioner", "message.timeout.ms",
                                              "retries", "transaction", NULL};
  const char *const *list = role == WEIR_CLIENT_PRODUCER ? consumer_only : producer_only;
  if (role == WEIR_CLIENT_ADMIN)
    return 0;
  if (role == WEIR_CLIENT_RESTORE && strncmp(key, "group.", 6) == 0)
    return 1;
  for (size_t i = 0; list[i]; i++)
    if (strncmp(key, list[i], strlen(list[i])) == 0)
      return 1;
  return 0;
}

static int set_user_props(rd_kafka_conf_t *conf, const weir_topology_t *t,
                          weir_client_role_t role, char *errstr, size_t errstr_size) {
  char why[400];
  for (size_t i = 0; i < t->kafka_count; i++) {
    const weir_kafka_prop_t *p = &t->kafka[i];
    if (role_ignores(role, p->key))
      continue;
    if (weir_kafka_conf_set(conf, p->key, p->value, why, sizeof why)) {
      snprintf(errstr, errstr_size, "%s:%d: [kafka] %s", t->path, p->line, why);
      return -1;
    }
  }
  return 0;
}

rd_kafka_conf_t *weir_kafka_conf_new(const weir_topology_t *t, const char *bootstrap,
                                     weir_client_role_t role, const char *client_id,
                                     char *errstr, size_t errstr_size) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  int bad = weir_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, errstr_size) ||
            weir_kafka_conf_set(conf, "client.id", client_id, errstr, errstr_size);
  if (!bad && (role == WEIR_CLIENT_CONSUMER || role == WEIR_CLIENT_RESTORE))
    bad = set_table(conf, consumer_defaults,
                    sizeof consumer_defaults / sizeof consumer_defaults[0], errstr, errstr_size);
  if (!bad && role == WEIR_CLIENT_PRODUCER)
    bad = set_table(conf, producer_defaults,
                    sizeof producer_defaults / sizeof producer_defaults[0], errstr, errstr_size);
  if (!bad)
    bad = set_user_props(conf, t, role, errstr, errstr_size);
  if (!bad && role == WEIR_CLIENT_CONSUMER)
    bad = weir_kafka_conf_set(conf, "group.id", t->settings.application_id, errstr,
                              errstr_size) ||
          set_table(conf, consumer_owned, sizeof consumer_owned / sizeof consumer_owned[0],
                    errstr, errstr_size);
  if (!bad && role == WEIR_CLIENT_RESTORE)
    bad = set_table(conf, restore_owned, sizeof restore_owned / sizeof restore_owned[0], errstr,
                    errstr_size);
  if (bad) {
    rd_kafka_conf_destroy(conf);
    return NULL;
  }
  return conf;
}
