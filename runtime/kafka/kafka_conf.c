#include "kafka/kafka_conf.h"
#include "config/config.h"
#include "util/log.h"
#include "util/secret.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int weir_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *errstr,
                        size_t errstr_size) {
  char why[256];
  if (rd_kafka_conf_set(conf, key, value, why, sizeof why) == RD_KAFKA_CONF_OK)
    return 0;
  if (weir_secret_key(key))
    weir_secret_scrub(why, sizeof why, value);
  snprintf(errstr, errstr_size, "librdkafka rejected %.100s=%.100s: %s", key,
           weir_secret_show(key, value), why);
  return -1;
}

/* The prefetch is most of weir's memory. librdkafka 2.0.2 stops fetching
 * once a consumer's queue holds queued.min.messages (counted over the whole
 * consumer, as the partitions' queues forward to one) and then fetches
 * again only at its broker thread's next I/O or after 1 s; weir wakes it as
 * soon as the queue is down to half (kafka/fetch_wake.h), so the queue no
 * longer has to hold a second of processing. With the wake, 20,000 records
 * and 64 KiB per partition a Fetch (1 MiB: up to 365,000 lz4-compressed
 * 100-byte records) ran a 2 M-record passthrough at 1.30 M records/s in
 * 49-72 MiB, against 1.19-1.46 M in 152-177 MiB at 200,000 and 1 MiB, and a
 * stream-table join at 502-526 k in 83 MiB against 497-667 k in 190 MiB
 * (bench, Kafka 4.4, 2026-12-04); each wake is one small request to every
 * broker, 64 of them over those 2 M records. queued.max.messages.kbytes is
 * librdkafka's own default, 64 MiB: it binds only for records over ~3 KiB.
 * fetch.max.bytes bounds one Fetch response as a whole: at 50 MiB, the
 * responses of 12 partitions of small records (a count over 5,000,000
 * distinct 8-byte words and its repartition topic) landed ~3,500,000
 * records at once, 408 MiB of librdkafka's per-message memory (heaptrack),
 * and peak RSS grew with the backlog: 303 MiB at 1,000,000 records, 634 at
 * 5,000,000. The producer batches up to 5 ms: throughput without a visible
 * latency cost.
 *
 * fetch.wait.max.ms: a partition weir resumes (a join task that waited for
 * its other input, a task queue that was full) is fetched only after the
 * consumer's Fetch in flight returns, and when every other partition it
 * reads is at its end that Fetch is a long poll the broker holds for this
 * long: librdkafka's 500 ms left a stream-table join over a backlog without
 * output for 0.4-0.6 s after each resume. At 100 ms an idle consumer sends
 * 10 Fetches a second to each broker instead of 2. */
static const char *const consumer_defaults[][2] = {
    {"queued.min.messages", "20000"},
    {"queued.max.messages.kbytes", "65536"},
    {"max.partition.fetch.bytes", "65536"},
    {"fetch.max.bytes", "2097152"},
    {"fetch.wait.max.ms", "100"},
    {"auto.offset.reset", "earliest"}, /* Kafka Streams' default */
    {"partition.assignment.strategy", "range"},
    {"session.timeout.ms", "45000"},
    {"enable.partition.eof", "false"},
};

static const char *const embedded_consumer_defaults[][2] = {
    {"queued.min.messages", "200000"},
    {"queued.max.messages.kbytes", "262144"},
    {"max.partition.fetch.bytes", "1048576"},
    /* The mock's coordinator holds every rebalance of a non-empty group for
     * the session timeout less a second: 5 s here, not 44 s, when a second
     * thread or instance joins late. */
    {"session.timeout.ms", "6000"},
    {"heartbeat.interval.ms", "1000"},
};

/* The producer's queue is the other part that moves: each queued record
 * costs ~300 bytes beside its payload, and whenever the broker acknowledges
 * more slowly than weir produces (a cold broker, a busy machine) the queue
 * grows until the bound. At 1,000,000 records (weir's first default) a
 * 6-partition passthrough sampled 164,000-178,000 queued at its 81-88 MiB
 * peaks; at 50,000 its peak RSS was 44-53 MiB with no loss of rate, where
 * 10,000 cost a quarter of it (records / acknowledgement round trip: 5 ms
 * of linger and the broker's time), 2026-12-07, README "The producer's
 * queue". 32 MiB of payload bounds large records as Kafka Streams'
 * buffer.memory does. A full queue waits for the broker (task/sink.c). */
static const char *const producer_defaults[][2] = {
    {"linger.ms", "5"},
    {"batch.num.messages", "10000"},
    {"queue.buffering.max.messages", "50000"},
    {"queue.buffering.max.kbytes", "32768"},
    {"acks", "all"},
    {"enable.idempotence", "true"},    /* keeps per-partition order across retries */
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

static int set_table(rd_kafka_conf_t *conf, const char *const (*table)[2], size_t n, char *errstr,
                     size_t errstr_size) {
  for (size_t i = 0; i < n; i++)
    if (weir_kafka_conf_set(conf, table[i][0], table[i][1], errstr, errstr_size))
      return -1;
  return 0;
}

/* Which clients a librdkafka property is for, from librdkafka's own table
 * (rd_kafka_conf_properties_show: "name | C, P or * | ..."), read once: a
 * prefix list of ours fell behind librdkafka's hundreds of keys, and a key
 * given to the wrong client is logged as ignored on every start. */
enum { KEY_ANY = 0, KEY_CONSUMER = 1, KEY_PRODUCER = 2 };
enum { MAX_KEYS = 512, KEY_LEN = 64 };

static struct {
  char name[MAX_KEYS][KEY_LEN];
  unsigned char scope[MAX_KEYS];
  size_t count;
} key_table;
static pthread_once_t key_table_once = PTHREAD_ONCE_INIT;

static void read_key_line(const char *line) {
  char name[KEY_LEN], scope;
  if (key_table.count >= MAX_KEYS || sscanf(line, "%63s | %c |", name, &scope) != 2 ||
      (scope != 'C' && scope != 'P'))
    return;
  snprintf(key_table.name[key_table.count], KEY_LEN, "%s", name);
  key_table.scope[key_table.count++] = scope == 'C' ? KEY_CONSUMER : KEY_PRODUCER;
}

static void load_key_table(void) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f)
    return; /* unclassified: every key goes to every client, as before */
  rd_kafka_conf_properties_show(f);
  fclose(f);
  for (char *line = text, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    read_key_line(line);
  }
  free(text);
}

static int key_scope(const char *key) {
  pthread_once(&key_table_once, load_key_table);
  for (size_t i = 0; i < key_table.count; i++)
    if (strcmp(key_table.name[i], key) == 0)
      return key_table.scope[i];
  return KEY_ANY; /* unknown to librdkafka: let it refuse the key with its reason */
}

static int role_ignores(weir_client_role_t role, const char *key) {
  int scope = key_scope(key);
  switch (role) {
  case WEIR_CLIENT_PRODUCER: return scope == KEY_CONSUMER;
  case WEIR_CLIENT_CONSUMER: return scope == KEY_PRODUCER;
  /* Outside the group: group.id, group.instance.id and the like are not its. */
  case WEIR_CLIENT_RESTORE: return scope == KEY_PRODUCER || strncmp(key, "group.", 6) == 0;
  case WEIR_CLIENT_ADMIN: return scope != KEY_ANY;
  }
  return 0;
}

static int set_user_props(rd_kafka_conf_t *conf, const weir_kafka_settings_t *ks,
                          weir_client_role_t role, char *errstr, size_t errstr_size) {
  char why[400];
  for (size_t i = 0; i < ks->prop_count; i++) {
    const weir_kafka_prop_t *p = &ks->props[i];
    if (role_ignores(role, p->key))
      continue;
    if (weir_kafka_conf_set(conf, p->key, p->value, why, sizeof why)) {
      if (p->line > 0)
        snprintf(errstr, errstr_size, "%s:%d: [kafka] %s", ks->path, p->line, why);
      else /* from the environment or the command line */
        snprintf(errstr, errstr_size, "%s: [kafka] %s",
                 p->line == WEIR_CFG_LINE_ENV ? "environment" : "--set", why);
      return -1;
    }
  }
  return 0;
}

/* librdkafka's own lines, through weir's logger when that is not plain
 * text on stderr: a JSON stream or an embedding program's callback must
 * not be broken by lines in another format. */
static void kafka_log(const rd_kafka_t *rk, int syslog_level, const char *fac, const char *buf) {
  int level = syslog_level <= 3   ? WEIR_LOG_ERROR
              : syslog_level == 4 ? WEIR_LOG_WARN
              : syslog_level <= 6 ? WEIR_LOG_INFO
                                  : WEIR_LOG_DEBUG;
  weir_logf(level, "librdkafka %s %s: %s", rk ? rd_kafka_name(rk) : "-", fac, buf);
}

rd_kafka_conf_t *weir_kafka_conf_new(const weir_kafka_settings_t *ks, const char *bootstrap,
                                     weir_client_role_t role, const char *client_id, char *errstr,
                                     size_t errstr_size) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (weir_log_routed())
    rd_kafka_conf_set_log_cb(conf, kafka_log);
  int bad = weir_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, errstr_size) ||
            weir_kafka_conf_set(conf, "client.id", client_id, errstr, errstr_size);
  if (!bad && (role == WEIR_CLIENT_CONSUMER || role == WEIR_CLIENT_RESTORE))
    bad = set_table(conf, consumer_defaults, sizeof consumer_defaults / sizeof consumer_defaults[0],
                    errstr, errstr_size);
  /* The in-process mock is not woken (fetch_wake.h): it keeps the queue
   * that holds a second of processing, as before the wake. */
  if (!bad && ks && ks->embedded && (role == WEIR_CLIENT_CONSUMER || role == WEIR_CLIENT_RESTORE))
    bad = set_table(conf, embedded_consumer_defaults,
                    sizeof embedded_consumer_defaults / sizeof embedded_consumer_defaults[0],
                    errstr, errstr_size);
  if (!bad && role == WEIR_CLIENT_PRODUCER)
    bad = set_table(conf, producer_defaults, sizeof producer_defaults / sizeof producer_defaults[0],
                    errstr, errstr_size);
  if (!bad)
    bad = set_user_props(conf, ks, role, errstr, errstr_size);
  if (!bad && role == WEIR_CLIENT_CONSUMER)
    bad = weir_kafka_conf_set(conf, "group.id", ks->group_id, errstr, errstr_size) ||
          set_table(conf, consumer_owned, sizeof consumer_owned / sizeof consumer_owned[0], errstr,
                    errstr_size);
  if (!bad && role == WEIR_CLIENT_RESTORE)
    bad = set_table(conf, restore_owned, sizeof restore_owned / sizeof restore_owned[0], errstr,
                    errstr_size);
  if (bad) {
    rd_kafka_conf_destroy(conf);
    return NULL;
  }
  return conf;
}
