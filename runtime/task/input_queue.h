/* input_queue — the records of one input partition that a task has been
 * handed but not yet processed, in offset order. A stream thread takes no
 * more records from the consumer while a queue is at its bound
 * (buffered.records.per.partition), so memory stays bounded whatever the
 * operators' speed. Owned by one thread. */
#ifndef WEIR_TASK_INPUT_QUEUE_H
#define WEIR_TASK_INPUT_QUEUE_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

typedef struct weir_queued {
  rd_kafka_message_t *msg;
  int64_t timestamp; /* read once at push: the pick compares it often */
} weir_queued_t;

typedef struct weir_input_queue {
  weir_queued_t *ring;
  size_t cap; /* ring capacity, a power of two; grows past the bound if needed */
  size_t head;
  size_t count;
} weir_input_queue_t;

int weir_input_queue_push(weir_input_queue_t *q, rd_kafka_message_t *m);
/* The same with the timestamp given (tests use it with stand-in messages). */
int weir_input_queue_push_ts(weir_input_queue_t *q, rd_kafka_message_t *m, int64_t timestamp);
/* Remove and return the oldest message (NULL when empty); the caller destroys it. */
rd_kafka_message_t *weir_input_queue_pop(weir_input_queue_t *q);
/* The same, with the timestamp read at push time. */
rd_kafka_message_t *weir_input_queue_pop_ts(weir_input_queue_t *q, int64_t *timestamp);
/* Destroy every queued message (revoke: they were never begun). */
void weir_input_queue_clear(weir_input_queue_t *q);
void weir_input_queue_free(weir_input_queue_t *q);

/* Of `n` queues, the one whose oldest record has the smallest timestamp (the
 * lowest index on a tie), or -1 when all are empty: a task fed by several
 * partitions processes them in event-time order, as Kafka Streams does. */
int weir_input_queue_pick(const weir_input_queue_t *queues, size_t n);

#endif
