#include "kafka/topics.h"

#include <string.h>

int weir_topics_exists(const rd_kafka_metadata_t *md, const char *topic) {
  for (int i = 0; i < md->topic_cnt; i++)
    if (strcmp(md->topics[i].topic, topic) == 0 &&
        md->topics[i].err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
      return 1;
  return 0;
}

int weir_topics_partitions(const rd_kafka_metadata_t *md, const char *topic) {
  for (int i = 0; i < md->topic_cnt; i++)
    if (strcmp(md->topics[i].topic, topic) == 0 && !md->topics[i].err)
      return md->topics[i].partition_cnt;
  return -1;
}
