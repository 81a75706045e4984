/* wire_headers — whether a consumed record certainly has no headers, told
 * from the record's own bytes, so the per-record path need not ask
 * librdkafka: rd_kafka_message_headers() parses the header block of every
 * record that has one, and a v2 record always has one, if only its count of
 * 0; that parse allocates and frees a buffer each time (~0.2 µs a record,
 * a tenth of weir's CPU in the word count). */
#ifndef WEIR_KAFKA_WIRE_HEADERS_H
#define WEIR_KAFKA_WIRE_HEADERS_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

/* 1: `value` (`len` bytes, non-NULL) lies in a record of the v2 format (Kafka
 * 0.11+) whose header count, the varint right after the value, is 0. 0: not
 * known (a v0/v1 record, or bytes that could be either): ask librdkafka.
 * `value` must be a consumed record's value as librdkafka hands it over, in
 * the fetched (or decompressed) batch: the bytes read are those of the
 * record (at most 5 before the value, and the one after it). */
int weir_wire_no_headers(const void *value, size_t len);

/* 1: `msg`, a consumed message, has no headers (weir_wire_no_headers on its
 * value); 0: call rd_kafka_message_headers(). */
int weir_message_no_headers(const rd_kafka_message_t *msg);

#endif
