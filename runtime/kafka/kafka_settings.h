/* kafka_settings — what weir's Kafka clients take from a topology.
 *
 * kafka/ wraps librdkafka and knows nothing of the topology's graph: the
 * topology fills this (topology.h, weir_topology_t.kafka_settings) and the
 * client wrappers read only this. Every pointer belongs to the filler and
 * lives as long as it does.
 */
#ifndef WEIR_KAFKA_KAFKA_SETTINGS_H
#define WEIR_KAFKA_KAFKA_SETTINGS_H

#include <stddef.h>

/* One `key = value` of the [kafka] section, passed to librdkafka as is. */
typedef struct weir_kafka_prop {
  char *key;
  char *value;
  int line;
} weir_kafka_prop_t;

typedef struct weir_kafka_settings {
  const char *path;               /* the INI file: a refused [kafka] key is named path:line */
  const char *group_id;           /* the consumer group: application.id */
  const weir_kafka_prop_t *props; /* [kafka], in file order */
  size_t prop_count;
  /* bootstrap.servers = embedded: the in-process mock, whose consumers keep
   * the large queue and are not woken (kafka/fetch_wake.h). */
  int embedded;
} weir_kafka_settings_t;

#endif
