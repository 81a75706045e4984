/* timestamp — a source's event time (`timestamp =` of [source:NAME]), read
 * once per record when it is queued, as Kafka Streams' TimestampExtractor:
 *   record         the Kafka record's timestamp (the default: no extra work);
 *   json:PATH      a member of the JSON value: a number of ms since the
 *                  epoch, or an ISO-8601 string with its zone
 *                  (2026-12-03T10:00:00.123+01:00, ...Z);
 *   extractor:P.T  type T of plugin P, flagged WEIR_OP_TIMESTAMP_EXTRACTOR:
 *                  one instance per task and source (its init() runs with
 *                  the task's other instances, its parameters are the other
 *                  keys of the [source] section).
 * A record whose timestamp is missing, negative or unparsable follows
 * deserialization.policy (task_process.c). */
#ifndef WEIR_TASK_TIMESTAMP_H
#define WEIR_TASK_TIMESTAMP_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

struct weir_task;
struct weir_input;

/* The event time of `in` read from source topic `topic_index`: >= 0, or -1
 * with one line in why (when why_size > 0) saying what was wrong. Raises the
 * partition's time (what an extractor is told) on success. */
int64_t weir_task_extract_timestamp(struct weir_task *task, size_t topic_index,
                                    const struct weir_input *in, char *why, size_t why_size);

/* The same for a consumed message. */
int64_t weir_task_message_timestamp(struct weir_task *task, size_t topic_index,
                                    const rd_kafka_message_t *msg);

/* A task's stream time in a committed offset's metadata ("weir:st=<ms>"),
 * so the task resumes there wherever it opens next: the text in buf (at
 * least WEIR_STREAM_TIME_META bytes), its length returned. Decoded: the
 * time, or -1 for metadata that is not weir's or holds none. */
enum { WEIR_STREAM_TIME_META = 32 };
size_t weir_stream_time_encode(int64_t stream_time, char *buf);
int64_t weir_stream_time_decode(const void *metadata, size_t size);

/* An ISO-8601 date-time with its zone, as ms since the epoch: 0 and *ms, or
 * -1 when `text` (len bytes) is not one. */
int weir_parse_iso8601(const char *text, size_t len, int64_t *ms);

#endif
