/* topics — what a cluster's metadata says about a topic. */
#ifndef WEIR_KAFKA_TOPICS_H
#define WEIR_KAFKA_TOPICS_H

#include <librdkafka/rdkafka.h>

/* The topic's entry in `md` (whatever its error), or NULL. */
const rd_kafka_metadata_topic_t *weir_topics_find(const rd_kafka_metadata_t *md, const char *topic);

/* A topic's partition count in `md`, or -1 when it is not there (or in error). */
int weir_topics_partitions(const rd_kafka_metadata_t *md, const char *topic);

/* 1 when `md` lists the topic (a partition error other than "unknown topic"
 * still means it exists), else 0. */
int weir_topics_exists(const rd_kafka_metadata_t *md, const char *topic);

#endif
