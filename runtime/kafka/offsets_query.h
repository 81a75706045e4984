/* offsets_query — a partition's first and end offsets, asked of its leader
 * within a deadline that holds.
 *
 * rd_kafka_query_watermark_offsets() (librdkafka 2.0.2) waits for the
 * broker's answer whatever its timeout says: a broker that stops answering
 * holds the caller until the request itself times out (socket.timeout.ms,
 * 60 s by default). On a stream thread that stalled every task of the thread
 * for a minute (a restore waiting for its changelog's offsets while the
 * broker froze). This asks with rd_kafka_offsets_for_times() instead, whose
 * wait ends at its timeout (librdkafka drops a late answer), for the two
 * logical times of the same ListOffsets request: EARLIEST (-2) and LATEST
 * (-1). Any thread; blocks for `timeout_ms` at most in all.
 */
#ifndef WEIR_KAFKA_OFFSETS_QUERY_H
#define WEIR_KAFKA_OFFSETS_QUERY_H

#include <librdkafka/rdkafka.h>

/* *low and *high (the end: the next offset to be written, or the last
 * stable one under read_committed) of `topic` [partition]. Returns the
 * request's or the partition's error; RD_KAFKA_RESP_ERR__TIMED_OUT when no
 * answer came within `timeout_ms`. */
rd_kafka_resp_err_t weir_offsets_query(rd_kafka_t *rk, const char *topic, int32_t partition,
                                       int timeout_ms, int64_t *low, int64_t *high);

#endif
