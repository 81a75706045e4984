/* The word-count observer. A count's output is not one record per input:
 * a store's cache sends one update per key per commit. So the harness reads
 * the output topic itself, keeps the latest count of every key, and the run
 * is done when those counts add up to the records of the input — every word
 * counted once, none twice.
 *
 * Throughput: the records over the time from the start of processing to the
 * output record that completed the sum. The start is the first record in one
 * of the application's repartition topics (`<application.id>-...-repartition`,
 * weir's naming and Kafka Streams'), the earliest sign of processing seen
 * from outside. Not the first output record, as for the passthrough: a
 * count's first output waits for a commit, and how much a contender has
 * processed by then differs widely — Kafka Streams had read ~40% of 1 M
 * records before its first count came out (1 s commit interval), so from
 * the first output it looked 1.6 times as fast as it was. Without a
 * repartition topic the first output record is the start.
 *
 * A windowed count with final results (`before_first` > 0) has no
 * repartition topic, and its first output waits for its first windows to
 * close, after `before_first` records of an input spread evenly over its
 * windows: it is timed from its first output record, over the records after
 * those. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bench.h"

/* No output for this long (after the first; FIRST_WAIT before it) is a
 * failed run: a topology that forwards nothing must not hold the bench for
 * the whole deadline. */
static const double STALL = 60.0, FIRST_WAIT = 120.0, DEADLINE = 600.0;

/* Open addressing over (key bytes -> count); 1,000,000 keys at most here. */
typedef struct slot {
  char *key; /* NULL: empty */
  size_t len;
  uint64_t hash;
  long long count;
} slot_t;

typedef struct counts {
  slot_t *slots;
  size_t cap, used;
  long long sum; /* of every key's latest count */
  long long odd; /* values that are not 8-byte counts */
} counts_t;

static slot_t *find(slot_t *slots, size_t cap, const void *key, size_t len, uint64_t h) {
  for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
    slot_t *s = &slots[i];
    if (!s->key || (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0))
      return s;
  }
}

static int grow(counts_t *c) {
  size_t cap = c->cap ? c->cap * 2 : 1 << 16;
  slot_t *slots = calloc(cap, sizeof *slots);
  if (!slots)
    return -1;
  for (size_t i = 0; i < c->cap; i++)
    if (c->slots[i].key)
      *find(slots, cap, c->slots[i].key, c->slots[i].len, c->slots[i].hash) = c->slots[i];
  free(c->slots);
  c->slots = slots;
  c->cap = cap;
  return 0;
}

static void counts_free(counts_t *c) {
  for (size_t i = 0; i < c->cap; i++)
    free(c->slots[i].key);
  free(c->slots);
}

/* Counts only grow, so the largest seen of a key is its latest, whichever
 * order its updates arrive in. */
static int update(counts_t *c, const rd_kafka_message_t *m) {
  if (!m->payload || m->len != 8) {
    c->odd++;
    return 0;
  }
  const unsigned char *v = m->payload;
  long long n = 0;
  for (int i = 0; i < 8; i++)
    n = (long long)((unsigned long long)n << 8 | v[i]);
  if (c->used * 2 >= c->cap && grow(c))
    return -1;
  uint64_t h = bench_fnv1a(m->key, m->key_len);
  slot_t *s = find(c->slots, c->cap, m->key, m->key_len, h);
  if (!s->key) {
    s->key = malloc(m->key_len ? m->key_len : 1);
    if (!s->key)
      return -1;
    memcpy(s->key, m->key, m->key_len);
    *s = (slot_t){s->key, m->key_len, h, 0};
    c->used++;
  }
  if (n > s->count) {
    c->sum += n - s->count;
    s->count = n;
  }
  return 0;
}

/* Every partition from the beginning; no group, nothing committed. */
static rd_kafka_t *reader(const bench_opts_t *o, const char *topic) {
  char why[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", o->bootstrap, NULL, 0);
  rd_kafka_conf_set(conf, "group.id", "weir-bench-observer", NULL, 0);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", NULL, 0);
  rd_kafka_conf_set(conf, "enable.partition.eof", "false", NULL, 0);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
  if (!rk) {
    fprintf(stderr, "weir-bench: %s\n", why);
    return NULL;
  }
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(o->partitions);
  for (int p = 0; p < o->partitions; p++)
    rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  return rk;
}

/* A client for metadata and offsets only: no assignment, no fetch. */
static rd_kafka_t *watcher(const bench_opts_t *o) {
  char why[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", o->bootstrap, NULL, 0);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
  if (!rk)
    fprintf(stderr, "weir-bench: %s\n", why);
  return rk;
}

/* Takes in what has arrived (waiting up to wait_ms); `seen` becomes the time
 * it arrived if it held a record. */
static int read_batch(rd_kafka_queue_t *q, int wait_ms, counts_t *c, double *seen) {
  enum { BATCH = 4096 };
  rd_kafka_message_t *msgs[BATCH];
  ssize_t n = rd_kafka_consume_batch_queue(q, wait_ms, msgs, BATCH);
  int rc = 0, records = 0;
  for (ssize_t i = 0; i < n; i++) {
    if (!msgs[i]->err) {
      records++;
      rc |= update(c, msgs[i]);
    }
    rd_kafka_message_destroy(msgs[i]);
  }
  if (records)
    *seen = bench_now();
  return rc;
}

/* The application's repartition topics (none until it has made them). */
typedef struct repartitions {
  int n;
  char names[8][256];
} repartitions_t;

static void find_repartitions(rd_kafka_t *rk, const char *group, repartitions_t *rp) {
  const rd_kafka_metadata_t *md = NULL;
  size_t glen = strlen(group), slen = strlen("-repartition");
  rp->n = 0;
  if (rd_kafka_metadata(rk, 1, NULL, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return;
  for (int i = 0; i < md->topic_cnt && rp->n < 8; i++) {
    const char *t = md->topics[i].topic;
    size_t len = strlen(t);
    if (len > glen + slen && strncmp(t, group, glen) == 0 && t[glen] == '-' &&
        strcmp(t + len - slen, "-repartition") == 0)
      snprintf(rp->names[rp->n++], sizeof rp->names[0], "%s", t);
  }
  rd_kafka_metadata_destroy(md);
}

/* Some repartition topic holds a record: processing has begun. One
 * ListOffsets request for every partition of them, from a handle of its own
 * (`watch`): on the reader's connection it waited behind the reader's long
 * poll, 0.5 s (fetch.wait.max.ms) a check, which had a 1,000,000-record
 * count begin anywhere in a 0.5 s bracket. The topics are looked up until
 * found: the application makes them at start. */
static int repartitioned(rd_kafka_t *rk, const bench_opts_t *o, const char *group,
                         repartitions_t *rp) {
  if (!rp->n)
    find_repartitions(rk, group, rp);
  if (!rp->n)
    return 0;
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(rp->n * o->partitions);
  for (int i = 0; i < rp->n; i++)
    for (int p = 0; p < o->partitions; p++)
      rd_kafka_topic_partition_list_add(l, rp->names[i], p)->offset = RD_KAFKA_OFFSET_END;
  int filled = 0;
  if (rd_kafka_offsets_for_times(rk, l, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
    for (int i = 0; i < l->cnt; i++)
      filled |= !l->elems[i].err && l->elems[i].offset > 0;
  rd_kafka_topic_partition_list_destroy(l);
  return filled;
}

/* Why the run failed, or NULL while it goes on. */
static const char *check(pid_t child, double spawned_at, double first, double last) {
  double now = bench_now();
  if (waitpid(child, NULL, WNOHANG) == child)
    return "the process exited";
  if (!first && now - spawned_at > FIRST_WAIT)
    return "no output";
  if (first && now - last > STALL)
    return "the output stopped growing";
  if (now - spawned_at > DEADLINE)
    return "out of time";
  return NULL;
}

void bench_observe_counts(const bench_opts_t *o, pid_t child, const char *topic, const char *group,
                          long expect, long before_first, double spawned_at, bench_result_t *r) {
  rd_kafka_t *rk = reader(o, topic), *watch = before_first ? NULL : watcher(o);
  rd_kafka_queue_t *q = rk ? rd_kafka_queue_get_consumer(rk) : NULL;
  counts_t c = {0};
  repartitions_t rp = {0};
  /* Processing began after the last check that found the repartition
   * topics empty was sent (`empty`, conservative: the rate can only come
   * out low) and before the first that found a record was answered. */
  double first = 0, last = 0, start = 0, empty = spawned_at, seen_at = 0;
  const char *why = rk && (watch || before_first) ? NULL : "no consumer";
  r->ok = 0;
  while (!why && c.sum < expect) {
    int watching = !before_first && !start && !first;
    if (watching) {
      double asked = bench_now();
      if (repartitioned(watch, o, group, &rp))
        start = empty, seen_at = bench_now();
      else
        empty = asked;
    }
    if (read_batch(q, watching ? 5 : 100, &c, &last))
      why = "out of memory";
    else if (last && !first)
      first = last;
    if (!why && c.sum < expect)
      why = check(child, spawned_at, first, last);
  }
  if (q)
    rd_kafka_queue_destroy(q);
  if (watch)
    rd_kafka_destroy(watch);
  if (rk) {
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
  if (!why || strcmp(why, "the process exited") != 0)
    bench_stop(child, r);
  if (!why && c.sum > expect)
    why = "counted more words than the input holds";
  if (why)
    fprintf(stderr,
            "weir-bench: %s: %s; the latest counts of %zu keys add up to %lld of %ld "
            "(%lld values were not 8-byte counts)\n",
            topic, why, c.used, c.sum, expect, c.odd);
  counts_free(&c);
  if (why)
    return;
  if (before_first)
    fprintf(stderr,
            "weir-bench: %s: timed from the first output record, over the %ld records "
            "after the %ld before it\n",
            topic, expect - before_first, before_first);
  else if (!start)
    fprintf(stderr,
            "weir-bench: %s: saw no repartition topic of %s fill before the first count; "
            "timed from the first output record\n",
            topic, group);
  else
    fprintf(stderr,
            "weir-bench: %s: processing began %.3f-%.3f s after spawn; first count %.2f s "
            "after; from the first count %.0f records/s\n",
            topic, start - spawned_at, seen_at - spawned_at, first - start,
            last > first ? (double)expect / (last - first) : 0);
  start = start ? start : first;
  r->ok = 1;
  r->startup_sec = start - spawned_at;
  r->records_per_sec = last > start ? (double)(expect - before_first) / (last - start) : 0;
}
