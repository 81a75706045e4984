/* partitions_ready — wait until every partition of some topics takes records.
 *
 * Kafka answers CreateTopics, and then lists the new partitions with their
 * leaders in its metadata, before the leader has created each partition's
 * log: until it has, a Produce to that partition is refused (retriably:
 * not the leader). librdkafka 2.0.2's idempotent producer then reports a
 * refused first batch delivered, without an offset, when the partition's
 * next batch succeeds (thread/resend.h): weir sends those records again, but
 * after the ones produced later, so a changelog could end with a key's older
 * value last. On Kafka 4.4.0 under load, one partition's log of a
 * 32-partition topic was created 600 ms after CreateTopics returned.
 *
 * A ListOffsets for a partition needs the same thing a Produce does (its log
 * on the leader), so a partition whose leader answers one takes records. Any
 * thread. */
#ifndef WEIR_KAFKA_PARTITIONS_READY_H
#define WEIR_KAFKA_PARTITIONS_READY_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

/* Ask the leader of every partition `md` lists with a leader for the
 * distinct `topics` (a topic `md` lacks is skipped) for its end offset,
 * again every 100 ms while any answer is an error, until all have answered
 * or `timeout_ms` passed. Returns how many have not answered (0: all take records), and
 * then `why` gives the last error and names one of those partitions.
 * *rounds (unless NULL): how many times it asked (1: all answered at once). */
int weir_partitions_wait_ready(rd_kafka_t *rk, const rd_kafka_metadata_t *md,
                               const char *const *topics, size_t topic_count, int timeout_ms,
                               int *rounds, char *why, size_t why_size);

#endif
