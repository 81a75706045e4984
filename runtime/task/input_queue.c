#include "task/input_queue.h"

#include <stdlib.h>
#include <string.h>

static int grow(weir_input_queue_t *q) {
  size_t cap = q->cap ? q->cap * 2 : 64;
  weir_queued_t *ring = malloc(cap * sizeof *ring);
  if (!ring)
    return -1;
  for (size_t i = 0; i < q->count; i++)
    ring[i] = q->ring[(q->head + i) & (q->cap - 1)];
  free(q->ring);
  q->ring = ring;
  q->cap = cap;
  q->head = 0;
  return 0;
}

int weir_input_queue_push_ts(weir_input_queue_t *q, rd_kafka_message_t *m, int64_t timestamp) {
  if (q->count == q->cap && grow(q))
    return -1;
  q->ring[(q->head + q->count) & (q->cap - 1)] = (weir_queued_t){m, timestamp};
  q->count++;
  return 0;
}

int weir_input_queue_push(weir_input_queue_t *q, rd_kafka_message_t *m) {
  return weir_input_queue_push_ts(q, m, rd_kafka_message_timestamp(m, NULL));
}

rd_kafka_message_t *weir_input_queue_pop(weir_input_queue_t *q) {
  int64_t timestamp;
  return weir_input_queue_pop_ts(q, &timestamp);
}

rd_kafka_message_t *weir_input_queue_pop_ts(weir_input_queue_t *q, int64_t *timestamp) {
  if (!q->count)
    return NULL;
  rd_kafka_message_t *m = q->ring[q->head].msg;
  *timestamp = q->ring[q->head].timestamp;
  q->head = (q->head + 1) & (q->cap - 1);
  q->count--;
  return m;
}

void weir_input_queue_clear(weir_input_queue_t *q) {
  rd_kafka_message_t *m;
  while ((m = weir_input_queue_pop(q)))
    rd_kafka_message_destroy(m);
}

void weir_input_queue_free(weir_input_queue_t *q) {
  weir_input_queue_clear(q);
  free(q->ring);
  memset(q, 0, sizeof *q);
}

int weir_input_queue_pick(const weir_input_queue_t *queues, size_t n) {
  int best = -1;
  int64_t best_ts = 0;
  for (size_t i = 0; i < n; i++) {
    if (!queues[i].count)
      continue;
    int64_t ts = queues[i].ring[queues[i].head].timestamp;
    if (best < 0 || ts < best_ts) {
      best = (int)i;
      best_ts = ts;
    }
  }
  return best;
}
