/* The broker side of the harness: clients, topics, the input, watermarks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "kafka/admin.h"

rd_kafka_t *bench_client(rd_kafka_type_t type, const char *bootstrap, const char *group) {
  char why[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, NULL, 0);
  if (group)
    rd_kafka_conf_set(conf, "group.id", group, NULL, 0);
  if (type == RD_KAFKA_PRODUCER) {
    rd_kafka_conf_set(conf, "linger.ms", "20", NULL, 0);
    rd_kafka_conf_set(conf, "batch.num.messages", "10000", NULL, 0);
    rd_kafka_conf_set(conf, "queue.buffering.max.messages", "1000000", NULL, 0);
    rd_kafka_conf_set(conf, "compression.type", "lz4", NULL, 0);
    rd_kafka_conf_set(conf, "partitioner", "murmur2_random", NULL, 0);
  }
  rd_kafka_t *rk = rd_kafka_new(type, conf, why, sizeof why);
  if (!rk)
    fprintf(stderr, "weir-bench: %s\n", why);
  return rk;
}

int bench_create_topic(const bench_opts_t *o, const char *topic) {
  char err[1024];
  if (o->embedded)
    return 0; /* `weir broker --topic` made them */
  rd_kafka_t *rk = bench_client(RD_KAFKA_PRODUCER, o->bootstrap, NULL);
  weir_topic_spec_t spec = {topic, o->partitions, 1, NULL};
  int rc = weir_admin_create_topics(rk, &spec, 1, 30000, err, sizeof err);
  if (rc)
    fprintf(stderr, "weir-bench: %s\n", err);
  /* CreateTopics returns before every broker's metadata knows the topic: a
   * process started at once may be told it does not exist. Wait until the
   * metadata shows all its partitions. */
  for (int i = 0; !rc && i < 100; i++) {
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    int ready = rd_kafka_metadata(rk, 0, t, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
                md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                md->topics[0].partition_cnt == o->partitions;
    if (md)
      rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    if (ready)
      break;
    usleep(100000);
  }
  rd_kafka_destroy(rk);
  return rc;
}

/* 1 M records: distinct keys, values that compress (the embedded broker
 * keeps only 5 MiB per partition, so everything is lz4 there and here). */
int bench_produce_input(const bench_opts_t *o, const char *topic) {
  rd_kafka_t *rk = bench_client(RD_KAFKA_PRODUCER, o->bootstrap, NULL);
  char key[32];
  char *value = malloc((size_t)o->value_size);
  for (int i = 0; i < o->value_size; i++)
    value[i] = "weir streams records over kafka "[i % 32];
  for (long i = 0; i < o->records; i++) {
    int klen = snprintf(key, sizeof key, "key-%08ld", i);
    memcpy(value, key, (size_t)klen < (size_t)o->value_size ? (size_t)klen : (size_t)o->value_size);
    while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_KEY(key, (size_t)klen),
                             RD_KAFKA_V_VALUE(value, (size_t)o->value_size),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
      rd_kafka_poll(rk, 10);
    rd_kafka_poll(rk, 0);
  }
  int rc = rd_kafka_flush(rk, 120000) ? -1 : 0;
  rd_kafka_destroy(rk);
  free(value);
  return rc;
}

/* Record i's word: i itself when every record is to be distinct, else a
 * fixed pseudo-random pick (xorshift64, the same sequence every run), so the
 * input is the same for every contender and every run. */
static long word_of(long i, long records, int words, uint64_t *state) {
  if (words >= records)
    return i;
  *state ^= *state << 13;
  *state ^= *state >> 7;
  *state ^= *state << 17;
  return (long)(*state % (uint64_t)words);
}

/* One word a record ("w0042" of 10,000 words: as many digits as the largest
 * needs), NULL keys: a count by word must repartition, as groupBy does. */
int bench_produce_words(const bench_opts_t *o, const char *topic, int words) {
  rd_kafka_t *rk = bench_client(RD_KAFKA_PRODUCER, o->bootstrap, NULL);
  char value[32];
  int digits =
      snprintf(value, sizeof value, "%d", (words >= o->records ? (int)o->records : words) - 1);
  uint64_t state = 0x9e3779b97f4a7c15u;
  for (long i = 0; i < o->records; i++) {
    int len =
        snprintf(value, sizeof value, "w%0*ld", digits, word_of(i, o->records, words, &state));
    while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_VALUE(value, (size_t)len),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
      rd_kafka_poll(rk, 10);
    rd_kafka_poll(rk, 0);
  }
  int rc = rd_kafka_flush(rk, 120000) ? -1 : 0;
  rd_kafka_destroy(rk);
  return rc;
}

/* Keyed records ("key-00042" of `keys`, picked as bench_produce_words picks
 * words) whose timestamps step evenly over BENCH_WINDOW_SPAN windows of
 * window_ms, ending two hours ago on a window boundary (the broker deletes by
 * timestamp past its retention and refuses timestamps far ahead of its
 * clock); then one record a partition an hour past the last window, which
 * closes every window of the input (its own never closes). */
int bench_produce_windowed(const bench_opts_t *o, const char *topic, int keys, int window_ms) {
  return bench_produce_windowed_span(o, topic, keys, window_ms, BENCH_WINDOW_SPAN);
}

int bench_produce_windowed_span(const bench_opts_t *o, const char *topic, int keys, int window_ms,
                                int span_windows) {
  rd_kafka_t *rk = bench_client(RD_KAFKA_PRODUCER, o->bootstrap, NULL);
  char key[32], value[16] = "v";
  long long span = (long long)span_windows * window_ms;
  long long t0 = ((long long)time(NULL) * 1000 - 7200000LL - span) / window_ms * window_ms;
  uint64_t state = 0x9e3779b97f4a7c15u;
  for (long i = 0; i < o->records; i++) {
    int klen = snprintf(key, sizeof key, "key-%05ld", word_of(i, o->records, keys, &state));
    long long ts = t0 + (long long)((double)i * (double)span / (double)o->records);
    while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_KEY(key, (size_t)klen), RD_KAFKA_V_VALUE(value, 1),
                             RD_KAFKA_V_TIMESTAMP(ts),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
      rd_kafka_poll(rk, 10);
    rd_kafka_poll(rk, 0);
  }
  for (int p = 0; p < o->partitions; p++)
    while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(p),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY("flush", 5),
                             RD_KAFKA_V_VALUE(value, 1),
                             RD_KAFKA_V_TIMESTAMP(t0 + span + 3600000LL),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
      rd_kafka_poll(rk, 10);
  int rc = rd_kafka_flush(rk, 120000) ? -1 : 0;
  rd_kafka_destroy(rk);
  return rc;
}

long long bench_end_offsets(rd_kafka_t *rk, const char *topic, int partitions, long long *low_sum) {
  long long high = 0, low = 0;
  for (int p = 0; p < partitions; p++) {
    int64_t lo = 0, hi = 0;
    if (rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 5000) == 0) {
      high += hi;
      low += lo;
    }
  }
  if (low_sum)
    *low_sum = low;
  return high;
}

double bench_committed_share(rd_kafka_t *c, const char *topic, int partitions, long long end) {
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; p++)
    rd_kafka_topic_partition_list_add(l, topic, p);
  long long done = 0;
  if (rd_kafka_committed(c, l, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
    for (int i = 0; i < l->cnt; i++)
      done += l->elems[i].offset > 0 ? l->elems[i].offset : 0;
  rd_kafka_topic_partition_list_destroy(l);
  return end > 0 ? (double)done / (double)end : 0;
}

/* A bench topic of this process: "bench-" and this process's pid as one of
 * its dash-separated fields (every name the harness, weir and Kafka Streams
 * derive from its topics and groups carries it). */
static int own_topic(const char *name, const char *pid) {
  if (strncmp(name, "bench-", 6) != 0)
    return 0;
  size_t n = strlen(pid);
  for (const char *p = strstr(name, pid); p; p = strstr(p + 1, pid))
    if (p[-1] == '-' && (p[n] == '-' || p[n] == '\0'))
      return 1;
  return 0;
}

static int kept(const char *name, const char *const *keep, size_t nkeep) {
  for (size_t i = 0; i < nkeep; i++)
    if (strcmp(name, keep[i]) == 0)
      return 1;
  return 0;
}

void bench_drop_topics(const bench_opts_t *o, const char *const *keep, size_t nkeep) {
  if (o->embedded)
    return; /* `weir broker` lives for one group of cases only */
  rd_kafka_t *rk = bench_client(RD_KAFKA_PRODUCER, o->bootstrap, NULL);
  const rd_kafka_metadata_t *md = NULL;
  if (!rk || rd_kafka_metadata(rk, 1, NULL, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    fprintf(stderr, "weir-bench: cannot list the broker's topics: the last case's stay\n");
    if (rk)
      rd_kafka_destroy(rk);
    return; /* a fuller broker slows the next cases; it does not falsify them */
  }
  char pid[16];
  snprintf(pid, sizeof pid, "%d", (int)getpid());
  rd_kafka_DeleteTopic_t **del = calloc((size_t)md->topic_cnt + 1, sizeof *del);
  size_t n = 0;
  for (int i = 0; del && i < md->topic_cnt; i++)
    if (own_topic(md->topics[i].topic, pid) && !kept(md->topics[i].topic, keep, nkeep))
      del[n++] = rd_kafka_DeleteTopic_new(md->topics[i].topic);
  rd_kafka_metadata_destroy(md);
  if (n) {
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteTopics(rk, del, n, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 60000);
    if (!ev || rd_kafka_event_error(ev))
      fprintf(stderr, "weir-bench: deleting %zu topics: %s\n", n,
              ev ? rd_kafka_event_error_string(ev) : "no answer in 60 s");
    else
      fprintf(stderr, "weir-bench: deleted the %zu topics of the cases done\n", n);
    if (ev)
      rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteTopic_destroy_array(del, n);
  }
  free(del);
  rd_kafka_destroy(rk);
}
