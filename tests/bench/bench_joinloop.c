/* The joins' ceiling: the same records through the same topics as weir's
 * joins, with nothing of a stream processor in between — the plain loop's
 * clients and tuning (bench_loop.c), one consumer of both inputs and one
 * producer on one thread, as weir with `threads = 1`.
 *
 *   stream-table: a record of the table (the right input) is kept in a hash
 *     table in memory and sent to the changelog topic, as weir's table store
 *     logs it; an order (the left input) looks its key up and produces the
 *     result, {"left":L,"right":R} (R null when the key has no row).
 *   stream-stream: each record is kept in memory under its key and sent to
 *     the changelog topic, as weir buffers each side in a window store; the
 *     other side's records of its key within the window each produce a
 *     result; a record is dropped, when its key comes again, once the other
 *     side's time on its partition (each side's records come in time order
 *     per partition, and the inputs are co-partitioned) is past it by more
 *     than the window and grace: nothing that can still come matches it.
 *
 * So each output and changelog topic gets as many records as weir writes
 * there, each changelog and result record on its input's partition. What it
 * leaves out is what a stream processor adds, as the two-hop loop does: a
 * local store (RocksDB), time order between the inputs, tasks and operators,
 * offset tracking and commits. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

enum { BATCH = 1024, RESULT_MAX = 1024, MAX_PARTITIONS = 1024 };

/* One record kept: side 0 left, 1 right. */
typedef struct held {
  struct held *next;
  int64_t ts;
  int side;
  size_t len;
  char value[];
} held_t;

typedef struct slot {
  char *key;
  size_t key_len;
  held_t *held; /* stream-table: at most one, the latest row */
} slot_t;

typedef struct table {
  slot_t *slots;
  size_t cap, count; /* cap a power of two, load <= 1/2 */
} table_t;

static int table_grow(table_t *t) {
  size_t cap = t->cap ? t->cap * 2 : 1024;
  slot_t *slots = calloc(cap, sizeof *slots);
  if (!slots)
    return -1;
  for (size_t i = 0; i < t->cap; i++)
    if (t->slots[i].key) {
      size_t s = bench_fnv1a(t->slots[i].key, t->slots[i].key_len) & (cap - 1);
      while (slots[s].key)
        s = (s + 1) & (cap - 1);
      slots[s] = t->slots[i];
    }
  free(t->slots);
  t->slots = slots;
  t->cap = cap;
  return 0;
}

/* The key's slot, added empty when absent; NULL out of memory. */
static slot_t *table_slot(table_t *t, const void *key, size_t len) {
  if ((t->count + 1) * 2 > t->cap && table_grow(t))
    return NULL;
  size_t s = bench_fnv1a(key, len) & (t->cap - 1);
  for (; t->slots[s].key; s = (s + 1) & (t->cap - 1))
    if (t->slots[s].key_len == len && memcmp(t->slots[s].key, key, len) == 0)
      return &t->slots[s];
  t->slots[s].key = malloc(len ? len : 1);
  if (!t->slots[s].key)
    return NULL;
  memcpy(t->slots[s].key, key, len);
  t->slots[s].key_len = len;
  t->count++;
  return &t->slots[s];
}

static void table_free(table_t *t) {
  for (size_t i = 0; i < t->cap; i++) {
    for (held_t *h = t->slots[i].held, *next; h; h = next) {
      next = h->next;
      free(h);
    }
    free(t->slots[i].key);
  }
  free(t->slots);
}

static held_t *held_new(const rd_kafka_message_t *m, int side, int64_t ts) {
  held_t *h = malloc(sizeof *h + m->len);
  if (!h)
    return NULL;
  h->next = NULL;
  h->ts = ts;
  h->side = side;
  h->len = m->len;
  if (m->len)
    memcpy(h->value, m->payload, m->len);
  return h;
}

typedef struct joinloop {
  rd_kafka_t *producer;
  rd_kafka_topic_t *changelog, *output;
  const char *left;
  int stream_stream;
  int64_t window_ms, keep_ms;
  int64_t side_time[MAX_PARTITIONS][2]; /* the latest timestamp of each side per partition */
  table_t table;
  long long results;
} joinloop_t;

static void produce(joinloop_t *j, rd_kafka_topic_t *t, int32_t partition,
                    const rd_kafka_message_t *m, const void *value, size_t len, int64_t ts) {
  while (rd_kafka_producev(j->producer, RD_KAFKA_V_RKT(t), RD_KAFKA_V_PARTITION(partition),
                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                           RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_VALUE((void *)value, len),
                           RD_KAFKA_V_TIMESTAMP(ts),
                           RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
    rd_kafka_poll(j->producer, 5);
}

/* {"left":"L","right":"R"}, R null when absent (the bench's values need no
 * escaping). */
static void produce_result(joinloop_t *j, const rd_kafka_message_t *m, const char *l, size_t l_len,
                           const char *r, size_t r_len, int has_r, int64_t ts) {
  char out[RESULT_MAX];
  int n = has_r ? snprintf(out, sizeof out, "{\"left\":\"%.*s\",\"right\":\"%.*s\"}", (int)l_len, l,
                           (int)r_len, r)
                : snprintf(out, sizeof out, "{\"left\":\"%.*s\",\"right\":null}", (int)l_len, l);
  size_t len = n < 0 ? 0 : (size_t)n < sizeof out ? (size_t)n : sizeof out - 1;
  produce(j, j->output, m->partition, m, out, len, ts);
  j->results++;
}

static void stream_table(joinloop_t *j, const rd_kafka_message_t *m, int side, int64_t ts) {
  slot_t *s = table_slot(&j->table, m->key, m->key_len);
  if (!s)
    return;
  if (side == 1) { /* a row: the latest replaces the last */
    held_t *h = held_new(m, side, ts);
    if (!h)
      return;
    free(s->held);
    s->held = h;
    produce(j, j->changelog, m->partition, m, m->payload, m->len, ts);
    return;
  }
  const held_t *row = s->held;
  produce_result(j, m, m->payload, m->len, row ? row->value : NULL, row ? row->len : 0, row != NULL,
                 ts);
}

static void stream_stream(joinloop_t *j, const rd_kafka_message_t *m, int side, int64_t ts) {
  if (m->partition < 0 || m->partition >= MAX_PARTITIONS)
    return;
  int64_t *times = j->side_time[m->partition];
  if (ts > times[side])
    times[side] = ts;
  slot_t *s = table_slot(&j->table, m->key, m->key_len);
  if (!s)
    return;
  held_t **link = &s->held;
  while (*link) { /* drop what no record can match any more, then join */
    held_t *h = *link;
    if (h->ts < times[1 - h->side] - j->keep_ms) {
      *link = h->next;
      free(h);
      continue;
    }
    if (h->side != side && h->ts >= ts - j->window_ms && h->ts <= ts + j->window_ms) {
      int64_t at = h->ts > ts ? h->ts : ts;
      if (side == 0)
        produce_result(j, m, m->payload, m->len, h->value, h->len, 1, at);
      else
        produce_result(j, m, h->value, h->len, m->payload, m->len, 1, at);
    }
    link = &h->next;
  }
  held_t *h = held_new(m, side, ts);
  if (!h)
    return;
  *link = h;
  produce(j, j->changelog, m->partition, m, m->payload, m->len, ts);
}

static void handle(joinloop_t *j, const rd_kafka_message_t *m) {
  if (m->err || !m->key)
    return;
  int side = strcmp(rd_kafka_topic_name(m->rkt), j->left) == 0 ? 0 : 1;
  int64_t ts = rd_kafka_message_timestamp(m, NULL);
  if (j->stream_stream)
    stream_stream(j, m, side, ts);
  else
    stream_table(j, m, side, ts);
}

/* weir-bench joinloop BOOTSTRAP stream-table|stream-stream LEFT RIGHT CHANGELOG OUTPUT GROUP
 * WINDOW_MS GRACE_MS */
int bench_joinloop_main(int argc, char **argv) {
  if (argc != 10 ||
      (strcmp(argv[2], "stream-table") != 0 && strcmp(argv[2], "stream-stream") != 0)) {
    fprintf(stderr, "usage: weir-bench joinloop BOOTSTRAP stream-table|stream-stream LEFT RIGHT "
                    "CHANGELOG OUTPUT GROUP WINDOW_MS GRACE_MS\n");
    return 2;
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  char inputs[600];
  snprintf(inputs, sizeof inputs, "%s,%s", argv[3], argv[4]);
  joinloop_t j = {.left = argv[3], .stream_stream = strcmp(argv[2], "stream-stream") == 0};
  j.window_ms = atoll(argv[8]);
  j.keep_ms = 2 * j.window_ms + atoll(argv[9]);
  for (int p = 0; p < MAX_PARTITIONS; p++)
    j.side_time[p][0] = j.side_time[p][1] = INT64_MIN / 2;
  rd_kafka_t *c = bench_loop_consumer(argv[1], argv[7], inputs);
  j.producer = bench_loop_producer(argv[1]);
  j.changelog = rd_kafka_topic_new(j.producer, argv[5], NULL);
  j.output = rd_kafka_topic_new(j.producer, argv[6], NULL);
  rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(c);
  weir_fetch_wake_t *wake = bench_loop_wake(c);
  rd_kafka_message_t *msgs[BATCH];
  while (!stop) {
    ssize_t n = rd_kafka_consume_batch_queue(q, 100, msgs, BATCH);
    weir_fetch_wake_after_pull(wake, msgs, n > 0 ? (size_t)n : 0, rd_kafka_queue_length(q));
    for (ssize_t i = 0; i < n; i++) {
      handle(&j, msgs[i]);
      rd_kafka_message_destroy(msgs[i]);
    }
    rd_kafka_poll(j.producer, 0);
  }
  rd_kafka_flush(j.producer, 10000);
  fprintf(stderr, "joinloop: %lld results, %zu keys held\n", j.results, j.table.count);
  weir_fetch_wake_free(wake);
  rd_kafka_queue_destroy(q);
  rd_kafka_topic_destroy(j.changelog);
  rd_kafka_topic_destroy(j.output);
  rd_kafka_destroy(j.producer);
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  table_free(&j.table);
  return 0;
}
