/* spent — consumed messages a stream thread has processed, destroyed
 * together rather than one by one.
 *
 * librdkafka allocates each consumed message on its broker thread; the
 * stream thread frees it, and glibc takes the broker thread's arena lock
 * for each such free, the lock that thread takes for every message it
 * fetches. One free per record made the two threads meet on it at every
 * record: a word count ran at 882,000-895,000 records/s and 1.33-1.44 us a
 * record destroying each message after its record, 974,000-979,000 and
 * 1.24-1.34 us destroying them in batches (Kafka 4.4.0, README: Benchmarks).
 *
 * The owner flushes after each pass over its tasks, so no message outlives
 * the pass: none reaches a rebalance, a commit or a close. One stream
 * thread owns it; not thread-safe. */
#ifndef WEIR_TASK_SPENT_H
#define WEIR_TASK_SPENT_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#define WEIR_SPENT_MAX 256

typedef struct weir_spent {
  rd_kafka_message_t *msgs[WEIR_SPENT_MAX];
  size_t count;
} weir_spent_t;

/* Takes `msg` over: destroyed at the next flush, or now with the others
 * when the batch is full. `s` NULL: destroyed now. */
void weir_spent_add(weir_spent_t *s, rd_kafka_message_t *msg);
/* Destroys every message added since the last flush. */
void weir_spent_flush(weir_spent_t *s);

#endif
