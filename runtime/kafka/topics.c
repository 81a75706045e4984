#include "kafka/topics.h"

#include <string.h>

const rd_kafka_metadata_topic_t *weir_topics_find(const rd_kafka_metadata_t *md,
                                                  const char *topic) {
  for (int i = 0; i < md->topic_cnt; i++)
    if (strcmp(md->topics[i].topic, topic) == 0)
      return &md->topics[i];
  return NULL;
}

int weir_topics_exists(const rd_kafka_metadata_t *md, const char *topic) {
  const rd_kafka_metadata_topic_t *mt = weir_topics_find(md, topic);
  return mt && mt->err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
}

int weir_topics_partitions(const rd_kafka_metadata_t *md, const char *topic) {
  const rd_kafka_metadata_topic_t *mt = weir_topics_find(md, topic);
  return mt && !mt->err ? mt->partition_cnt : -1;
}
