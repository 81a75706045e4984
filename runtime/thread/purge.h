/* purge — delete what the group has committed from the repartition topics
 * this thread reads, as Kafka Streams does after its commits
 * (repartition.purge.interval.ms, 30 s), so they stay small although they
 * are created with retention.ms = -1 (app/internal_topics.c).
 *
 * Off the record path: at most one request is in flight, and its answer is
 * picked up without waiting at a later call. The offsets deleted up to are
 * those the broker answers for the group (OffsetFetch), never the local
 * positions: an asynchronous commit may still fail. On librdkafka's mock
 * (`weir broker`, the embedded broker), which has no DeleteRecords, it is a
 * no-op with one debug line. */
#ifndef WEIR_THREAD_PURGE_H
#define WEIR_THREAD_PURGE_H

#include <stdint.h>

typedef struct weir_stream_thread weir_stream_thread_t;
typedef struct weir_purge weir_purge_t;

/* The interval between two purges of one thread (Kafka Streams' default). */
#define WEIR_PURGE_INTERVAL_MS 30000

/* Called after each commit of the thread: serves the answer in flight, and
 * starts the next purge when the interval has passed. Never blocks. */
void weir_purge_after_commit(weir_stream_thread_t *t);

/* Forget the thread's purge state (before its producer is destroyed). */
void weir_purge_free(weir_purge_t *p);

#endif
