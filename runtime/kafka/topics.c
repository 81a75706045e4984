#include "kafka/topics.h"

#include <string.h>

static int exists(const rd_kafka_metadata_t *md, const char *topic) {
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

/* The source topics of one sub-topology are read by one task per partition
 * number, so they must have as many partitions each (co-partitioning). */
static void check_copartitioned(const rd_kafka_metadata_t *md, const weir_topology_t *t,
                                weir_diag_t *d) {
  for (int sub = 0; sub < t->subtopology_count; sub++) {
    const char *first = NULL;
    int first_count = -1;
    for (size_t i = 0; i < t->node_count; i++) {
      const weir_node_t *n = t->nodes[i];
      for (size_t k = 0; n->kind == WEIR_NODE_SOURCE && n->subtopology == sub &&
                         k < n->topic_count; k++) {
        int count = weir_topics_partitions(md, n->topics[k]);
        if (count < 0)
          continue; /* reported as missing */
        if (!first) {
          first = n->topics[k], first_count = count;
        } else if (count != first_count) {
          weir_diag_add(d, t->path, n->line,
                        "sub-topology %d reads topic '%s' (%d partitions) and topic '%s' (%d "
                        "partitions): inputs joined in one sub-topology must be co-partitioned; "
                        "give them the same partition count",
                        sub, first, first_count, n->topics[k], count);
        }
      }
    }
  }
}

static void check_node(const rd_kafka_metadata_t *md, const weir_topology_t *t,
                       const weir_node_t *n, const char *bootstrap, weir_diag_t *d) {
  const char *kind = n->kind == WEIR_NODE_SOURCE ? "source" : "sink";
  for (size_t i = 0; i < (n->kind == WEIR_NODE_SOURCE ? n->topic_count : 1); i++) {
    const char *topic = n->kind == WEIR_NODE_SOURCE ? n->topics[i] : n->topic;
    if (!exists(md, topic))
      weir_diag_add(d, t->path, n->line,
                    "%s '%s': topic '%s' does not exist on %s: create it first "
                    "(kafka-topics.sh --create --topic %s) or fix the name",
                    kind, n->name, topic, bootstrap, topic);
  }
}

int weir_topics_verify(rd_kafka_t *rk, const weir_topology_t *t, const char *bootstrap,
                       int timeout_ms, weir_diag_t *d) {
  const rd_kafka_metadata_t *md = NULL;
  size_t before = d->count;
  /* all_topics = 1: asking for named topics could make the broker auto-create them. */
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
  if (err) {
    weir_diag_add(d, t->path, 0, "cannot reach the Kafka cluster at %s: %s: is it running, and is "
                  "bootstrap.servers right?", bootstrap, rd_kafka_err2str(err));
    return -1;
  }
  /* Internal topics were just created: the metadata may not show them yet. */
  for (size_t i = 0; i < t->node_count; i++)
    if (t->nodes[i]->kind != WEIR_NODE_OPERATOR && !t->nodes[i]->internal)
      check_node(md, t, t->nodes[i], bootstrap, d);
  check_copartitioned(md, t, d);
  if (t->settings.dead_letter_topic && !exists(md, t->settings.dead_letter_topic))
    weir_diag_add(d, t->path, 0, "dead.letter.topic '%s' does not exist on %s: create it first",
                  t->settings.dead_letter_topic, bootstrap);
  rd_kafka_metadata_destroy(md);
  return d->count == before ? 0 : -1;
}
