/* fetch_wake — wake a consumer's fetchers as soon as its queue has room.
 *
 * librdkafka 2.0.2 stops fetching while a consumer's queue holds
 * queued.min.messages records (or queued.max.messages.kbytes), and once the
 * application has drained it, a broker thread fetches again only at its
 * next I/O or after 1 s (rd_kafka_max_block_ms; fetch.queue.backoff.ms
 * exists only from 2.2). A thread that processes faster than 200,000
 * records/s (the default threshold a second) but slower than the fetch then
 * waits in every cycle. A request to a broker is I/O that wakes its thread,
 * so when the queue, having reached the threshold, is down to half, this
 * asks the leader of the last partition read for its watermarks (a
 * ListOffsets, answer unused). The request is sent by a thread of its own
 * (one per consumer, started at the first wake): the call waits for the
 * broker's answer however long it takes, and the thread that polls the
 * consumer must not; a wake asked for while one is in flight replaces any
 * not yet sent. A/B on Kafka 4.4, 2 cores: a stream-table join
 * over a backlog 281-336 k -> 427-455 k records/s, a passthrough 477-787 k
 * -> 1.19-1.51 M, a store's restore 308 k -> 927-947 k (measured with a
 * ListConsumerGroups to every broker as the wake; that one fails on the
 * mock brokers, which have no ListGroups, and librdkafka 2.0.2 then leaks a
 * 176-byte queue per client). With several brokers only the one leading
 * that partition is woken; the others wait as before.
 *
 * Not on librdkafka >= 2.2 (its backoff is a setting), nor with
 * bootstrap.servers = embedded, whose consumers keep the large queue of
 * before (kafka_conf.c). Used by the one thread that polls the consumer:
 * stream threads, their restore consumers, the global-table thread. */
#ifndef WEIR_KAFKA_FETCH_WAKE_H
#define WEIR_KAFKA_FETCH_WAKE_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

typedef struct weir_fetch_wake weir_fetch_wake_t;

/* For `consumer` (its queued.min.messages and queued.max.messages.kbytes
 * are read now). NULL, and every call below does nothing with it, when no
 * wake is needed (librdkafka >= 2.2), when `embedded` (bootstrap.servers =
 * embedded), or out of memory. */
weir_fetch_wake_t *weir_fetch_wake_new(rd_kafka_t *consumer, int embedded);
/* Before the consumer is destroyed: waits for a wake in flight. */
void weir_fetch_wake_free(weir_fetch_wake_t *w);

/* After a pull of `n` messages, with the queue's length now. */
void weir_fetch_wake_after_pull(weir_fetch_wake_t *w, rd_kafka_message_t *const *msgs, size_t n,
                                size_t queue_len);

/* Wakes asked for so far, and of those the ones the broker has answered
 * (any thread). */
unsigned long long weir_fetch_wake_count(const weir_fetch_wake_t *w);
unsigned long long weir_fetch_wake_answered(const weir_fetch_wake_t *w);

/* The decision alone, for tests: whether a queue of `queue_len` records of
 * `avg_bytes` each is at the fetcher's threshold (min_messages records or
 * max_bytes), and whether one that was (*throttled) now has room to be woken
 * for (half of it), which clears *throttled. */
int weir_fetch_wake_decide(int *throttled, size_t queue_len, size_t avg_bytes, size_t min_messages,
                           size_t max_bytes);

#endif
