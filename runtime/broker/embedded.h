/* embedded — librdkafka's mock cluster as weir's development broker.
 *
 * It speaks the Kafka protocol over TCP on loopback and keeps everything in
 * memory. Known limits (librdkafka 2.0.2): a partition keeps at most 5 MiB or
 * 100,000 message sets and silently drops the oldest; there is no Admin API,
 * so topics are created here; transactions are not faithful.
 */
#ifndef WEIR_BROKER_EMBEDDED_H
#define WEIR_BROKER_EMBEDDED_H

#include <stddef.h>

typedef struct weir_embedded weir_embedded_t;

/* Start a cluster of `brokers` brokers. NULL with errstr on failure. */
weir_embedded_t *weir_embedded_start(int brokers, char *errstr, size_t errstr_size);
/* "127.0.0.1:port,..." — valid until stop. */
const char *weir_embedded_bootstrap(const weir_embedded_t *e);
/* Create a topic (an existing one is left as it is). */
int weir_embedded_create_topic(weir_embedded_t *e, const char *topic, int partitions, char *errstr,
                               size_t errstr_size);
void weir_embedded_stop(weir_embedded_t *e);

#endif
