/* resend — records librdkafka reported delivered without an offset, sent
 * again.
 *
 * With the idempotent producer, librdkafka 2.0.2 reports a whole batch
 * delivered, with no offset, when the request that carried it failed and a
 * later batch of the same partition then succeeded: it takes the later
 * success for proof that the broker has the earlier batch
 * (rd_kafka_dr_implicit_ack). That holds only while the broker checks the
 * producer's sequence numbers. A broker that holds no state for the
 * producer on that partition yet (its first batches there) takes any
 * sequence, so a first batch refused with a retriable error (not the
 * partition's leader yet, say) and a second one accepted leave the first
 * out of the log, reported delivered. Seen on Kafka 4.4.0: four records of
 * a weir sink's first batch to one partition, offset -1001 in their reports,
 * absent from the topic, the next batch at offset 0.
 *
 * weir always produces with acks = all, where every real acknowledgement
 * carries an offset, so a report without one is not proof of delivery. Under
 * at_least_once the record goes out again, with its delivery opaque, so its
 * input (or its store's checkpoint, or a commit's drain) waits for the new
 * report. It may then appear twice, and after later records of its
 * partition. Under exactly_once it counts as a failed delivery instead: the
 * transaction aborts and the inputs are processed again.
 *
 * Everything here runs on the stream thread (in its delivery callback, and
 * in its loop and drains). */
#ifndef WEIR_THREAD_RESEND_H
#define WEIR_THREAD_RESEND_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

typedef struct weir_stream_thread weir_stream_thread_t;
typedef struct weir_resend weir_resend_t;

/* Whether a delivery report says delivered but gives no offset. */
int weir_resend_unconfirmed(const rd_kafka_message_t *msg);

/* Send the reported record again (at_least_once), from the delivery
 * callback. A full producer queue parks a copy, sent by
 * weir_resend_flush. 0, or -1 when it cannot be sent nor kept: the caller
 * then counts a failed delivery. */
int weir_resend_record(weir_stream_thread_t *t, const rd_kafka_message_t *msg);

/* Send parked records, waiting for room in the producer's queue until
 * `deadline_ms` (weir_now_ms; a deadline already past tries each once).
 * 0 once none is parked. */
int weir_resend_flush(weir_stream_thread_t *t, int64_t deadline_ms);

/* Records parked, waiting for room. */
size_t weir_resend_parked(const weir_stream_thread_t *t);

void weir_resend_free(weir_resend_t *r);

#endif
