/* The word count's ceiling: the same records through the same topics as
 * weir's word count, with nothing of a stream processor in between — the
 * plain loop's clients and tuning (bench_loop.c), in one process.
 *
 *   hop 1: consume the input, split each value on spaces as std `split` does
 *     (skip empty pieces), produce each word to the repartition topic keyed
 *     by the word, the value the word (as weir's `group.by = value` sink
 *     writes it);
 *   hop 2: consume the repartition topic and count each key in a hash table
 *     in memory; every commit interval, produce the keys counted since the
 *     last one, an 8-byte big-endian count each, to the changelog topic and
 *     to the output topic — as weir's write cache sends one update per key
 *     per commit to both.
 *
 * By default both hops share one consumer (subscribed to both topics) and
 * one producer on one thread: weir's shape with `threads = 1`, as the plain
 * loop takes weir's shape. With the last argument `threads`, hop 1 runs on a
 * thread of its own with its own consumer and producer (four clients, two
 * threads). On the loaded 2-core bench machine neither shape was told apart
 * from the other (3,000,000 words, 2 runs each: 223,000-442,000 records/s on
 * one thread, 173,000-301,000 on two), nor either from weir.
 *
 * So each topic gets as many records as weir's (the changelog and the output
 * about as many: both flush on a wall-clock interval), and the output is the
 * same counts, which the harness checks add up to the input. What it leaves
 * out is what weir adds: a store (RocksDB), tasks and operators, offset
 * tracking and commits (like the plain loop, it commits nothing). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

enum { BATCH = 1024 };

static void produce(rd_kafka_t *p, rd_kafka_topic_t *t, const void *key, size_t key_len,
                    const void *value, size_t len, int64_t ts) {
  while (rd_kafka_producev(p, RD_KAFKA_V_RKT(t), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                           RD_KAFKA_V_KEY((void *)key, key_len),
                           RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_TIMESTAMP(ts),
                           RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
    rd_kafka_poll(p, 5);
}

typedef struct hop_args {
  const char *bootstrap, *input, *repartition, *group;
  int timeout_ms;
  long long consumed, produced;
} hop_args_t;

/* Hop 1 for one input record: its words to the repartition topic. */
static void split_record(rd_kafka_t *p, rd_kafka_topic_t *out, const rd_kafka_message_t *m,
                         hop_args_t *a) {
  const char *v = m->payload, *end = v + m->len;
  int64_t ts = rd_kafka_message_timestamp(m, NULL);
  a->consumed++;
  for (const char *w = v; w < end;) {
    const char *sp = memchr(w, ' ', (size_t)(end - w));
    const char *e = sp ? sp : end;
    if (e > w) {
      produce(p, out, w, (size_t)(e - w), w, (size_t)(e - w), ts);
      a->produced++;
    }
    w = e + 1;
  }
}

/* Hop 1 on a thread of its own: input -> words -> repartition topic. */
static void *split_hop(void *arg) {
  hop_args_t *a = arg;
  rd_kafka_message_t *msgs[BATCH];
  rd_kafka_t *c = bench_loop_consumer(a->bootstrap, a->group, a->input);
  rd_kafka_t *p = bench_loop_producer(a->bootstrap);
  rd_kafka_topic_t *out = rd_kafka_topic_new(p, a->repartition, NULL);
  rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(c);
  weir_fetch_wake_t *wake = bench_loop_wake(c);
  while (!stop) {
    ssize_t n = rd_kafka_consume_batch_queue(q, a->timeout_ms, msgs, BATCH);
    weir_fetch_wake_after_pull(wake, msgs, n > 0 ? (size_t)n : 0, rd_kafka_queue_length(q));
    for (ssize_t i = 0; i < n; i++) {
      if (!msgs[i]->err && msgs[i]->payload)
        split_record(p, out, msgs[i], a);
      rd_kafka_message_destroy(msgs[i]);
    }
    rd_kafka_poll(p, 0);
  }
  rd_kafka_flush(p, 10000);
  weir_fetch_wake_free(wake);
  rd_kafka_queue_destroy(q);
  rd_kafka_topic_destroy(out);
  rd_kafka_destroy(p);
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  return NULL;
}

/* Hop 2's counts: open addressing over (word -> count), with the words
 * counted since the last flush listed once each. */
typedef struct entry {
  char *key; /* NULL: empty */
  size_t len;
  uint64_t hash;
  long long count;
  int dirty;
} entry_t;

typedef struct table {
  entry_t *slots;
  size_t cap, used;
  size_t *dirty; /* slot indexes; at most `used` */
  size_t ndirty;
} table_t;

static size_t slot_of(const entry_t *slots, size_t cap, const void *key, size_t len, uint64_t h) {
  for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
    const entry_t *e = &slots[i];
    if (!e->key || (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0))
      return i;
  }
}

/* Twice the slots; the dirty list is rebuilt from the flags. */
static int grow(table_t *t) {
  size_t cap = t->cap ? t->cap * 2 : 1 << 14;
  entry_t *slots = calloc(cap, sizeof *slots);
  size_t *dirty = malloc(cap / 2 * sizeof *dirty);
  if (!slots || !dirty) {
    free(slots);
    free(dirty);
    return -1;
  }
  t->ndirty = 0;
  for (size_t i = 0; i < t->cap; i++)
    if (t->slots[i].key) {
      size_t k = slot_of(slots, cap, t->slots[i].key, t->slots[i].len, t->slots[i].hash);
      slots[k] = t->slots[i];
      if (slots[k].dirty)
        dirty[t->ndirty++] = k;
    }
  free(t->slots);
  free(t->dirty);
  t->slots = slots;
  t->dirty = dirty;
  t->cap = cap;
  return 0;
}

static int count(table_t *t, const void *key, size_t len) {
  if (t->used * 2 >= t->cap && grow(t))
    return -1;
  uint64_t h = bench_fnv1a(key, len);
  size_t k = slot_of(t->slots, t->cap, key, len, h);
  entry_t *e = &t->slots[k];
  if (!e->key) {
    if (!(e->key = malloc(len ? len : 1)))
      return -1;
    memcpy(e->key, key, len);
    e->len = len, e->hash = h, e->count = 0, e->dirty = 0;
    t->used++;
  }
  e->count++;
  if (!e->dirty) {
    e->dirty = 1;
    t->dirty[t->ndirty++] = k;
  }
  return 0;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The words counted since the last flush: their counts to the changelog and
 * the output. */
static long long flush_counts(table_t *t, rd_kafka_t *p, rd_kafka_topic_t *changelog,
                              rd_kafka_topic_t *out, int64_t ts) {
  for (size_t i = 0; i < t->ndirty; i++) {
    entry_t *e = &t->slots[t->dirty[i]];
    unsigned char v[8];
    for (int b = 0; b < 8; b++)
      v[b] = (unsigned char)((unsigned long long)e->count >> (56 - 8 * b));
    produce(p, changelog, e->key, e->len, v, sizeof v, ts);
    produce(p, out, e->key, e->len, v, sizeof v, ts);
    e->dirty = 0;
  }
  long long n = (long long)t->ndirty;
  t->ndirty = 0;
  return n;
}

/* weir-bench twohop BOOTSTRAP INPUT REPARTITION CHANGELOG OUTPUT GROUP COMMIT_MS [threads] */
int bench_twohop_main(int argc, char **argv) {
  int threads = argc == 9 && strcmp(argv[8], "threads") == 0;
  if ((argc != 8 && !threads) || atoi(argv[7]) <= 0) {
    fprintf(stderr, "usage: weir-bench twohop BOOTSTRAP INPUT REPARTITION CHANGELOG OUTPUT GROUP "
                    "COMMIT_MS [threads]\n");
    return 2;
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  const char *bootstrap = argv[1], *group = argv[6];
  int commit_ms = atoi(argv[7]);
  hop_args_t h1 = {bootstrap, argv[2], argv[3], group, 100, 0, 0};
  pthread_t tid;
  if (threads && pthread_create(&tid, NULL, split_hop, &h1))
    return 1;
  /* One consumer of both topics, or (threads) hop 2's own of the repartition topic. */
  char group2[512], both[512];
  snprintf(group2, sizeof group2, "%s-hop2", group);
  snprintf(both, sizeof both, "%s,%s", argv[2], argv[3]);
  rd_kafka_message_t *msgs[BATCH];
  rd_kafka_t *c = threads ? bench_loop_consumer(bootstrap, group2, argv[3])
                          : bench_loop_consumer(bootstrap, group, both);
  rd_kafka_t *p = bench_loop_producer(bootstrap);
  rd_kafka_topic_t *repartition = rd_kafka_topic_new(p, argv[3], NULL);
  rd_kafka_topic_t *changelog = rd_kafka_topic_new(p, argv[4], NULL);
  rd_kafka_topic_t *out = rd_kafka_topic_new(p, argv[5], NULL);
  rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(c);
  weir_fetch_wake_t *wake = bench_loop_wake(c);
  table_t t = {0};
  long long consumed = 0, flushed = 0;
  int64_t last_ts = 0;
  int rc = grow(&t);
  double next = now_ms() + commit_ms;
  while (!stop && !rc) {
    double wait = next - now_ms(); /* up to 100 ms, as the loop, and not past the flush */
    int timeout_ms = wait < 1 ? 0 : wait > 100 ? 100 : (int)wait;
    ssize_t n = rd_kafka_consume_batch_queue(q, timeout_ms, msgs, BATCH);
    weir_fetch_wake_after_pull(wake, msgs, n > 0 ? (size_t)n : 0, rd_kafka_queue_length(q));
    for (ssize_t i = 0; i < n; i++) {
      const rd_kafka_message_t *m = msgs[i];
      int from_input = !threads && strcmp(rd_kafka_topic_name(m->rkt), argv[3]) != 0;
      if (!m->err && from_input && m->payload) {
        split_record(p, repartition, m, &h1);
      } else if (!m->err && !from_input && m->key) {
        consumed++;
        last_ts = rd_kafka_message_timestamp(m, NULL);
        if (count(&t, m->key, m->key_len))
          rc = 1;
      }
      rd_kafka_message_destroy(msgs[i]);
    }
    if (now_ms() >= next) {
      flushed += flush_counts(&t, p, changelog, out, last_ts);
      next = now_ms() + commit_ms;
    }
    rd_kafka_poll(p, 0);
  }
  stop = 1;
  if (threads)
    pthread_join(tid, NULL);
  rd_kafka_flush(p, 10000);
  fprintf(stderr,
          "twohop: hop 1 read %lld records and wrote %lld words to %s; hop 2 read %lld, counted "
          "%zu words, wrote %lld counts to each of %s and %s%s\n",
          h1.consumed, h1.produced, argv[3], consumed, t.used, flushed, argv[4], argv[5],
          rc ? "; out of memory" : "");
  for (size_t i = 0; i < t.cap; i++)
    free(t.slots[i].key);
  free(t.slots);
  free(t.dirty);
  fprintf(stderr, "twohop: hop 2 woke the fetchers %llu times\n", weir_fetch_wake_count(wake));
  weir_fetch_wake_free(wake);
  rd_kafka_queue_destroy(q);
  rd_kafka_topic_destroy(repartition);
  rd_kafka_topic_destroy(changelog);
  rd_kafka_topic_destroy(out);
  rd_kafka_destroy(p);
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  return rc;
}
