/* admin — topic creation through Kafka's Admin API, the path production uses
 * (the embedded broker has no Admin API: broker/embedded.h creates there). */
#ifndef WEIR_KAFKA_ADMIN_H
#define WEIR_KAFKA_ADMIN_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

typedef struct weir_topic_spec {
  const char *name;
  int partitions;
  int replication_factor;     /* -1: the broker's default */
  const char *const *configs; /* "key=value" strings, NULL-ended; may be NULL */
} weir_topic_spec_t;

/* Create every topic in `specs`; one that exists already is left as it is.
 * 0, or -1 with one line per failed topic in errstr. */
int weir_admin_create_topics(rd_kafka_t *rk, const weir_topic_spec_t *specs, size_t count,
                             int timeout_ms, char *errstr, size_t errstr_size);

#endif
