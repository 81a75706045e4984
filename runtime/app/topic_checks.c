#include "app/topic_checks.h"

#include "kafka/topics.h"

/* The source topics of one sub-topology are read by one task per partition
 * number, so they must have as many partitions each (co-partitioning). */
static void check_copartitioned(const rd_kafka_metadata_t *md, const weir_topology_t *t,
                                weir_diag_t *d) {
  for (int sub = 0; sub < t->subtopology_count; sub++) {
    const char *first = NULL;
    int first_count = -1;
    for (size_t i = 0; i < t->node_count; i++) {
      const weir_node_t *n = t->nodes[i];
      for (size_t k = 0; n->kind == WEIR_NODE_SOURCE && n->subtopology == sub && k < n->topic_count;
           k++) {
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
    if (!weir_topics_exists(md, topic))
      weir_diag_add(d, t->path, n->line,
                    "%s '%s': topic '%s' does not exist on %s: create it first "
                    "(kafka-topics.sh --create --topic %s) or fix the name",
                    kind, n->name, topic, bootstrap, topic);
  }
}

int weir_topic_checks(const rd_kafka_metadata_t *md, const weir_topology_t *t,
                      const char *bootstrap, weir_diag_t *d) {
  size_t before = d->count;
  for (size_t i = 0; i < t->node_count; i++)
    if (t->nodes[i]->kind != WEIR_NODE_OPERATOR && !t->nodes[i]->internal)
      check_node(md, t, t->nodes[i], bootstrap, d);
  check_copartitioned(md, t, d);
  const char *dl = t->settings.dead_letter_topic;
  int dl_line = t->settings.dead_letter_line;
  if (dl && !weir_topics_exists(md, dl))
    weir_diag_add(d, dl_line > 0 ? t->path : "--set", dl_line,
                  "dead.letter.topic '%s' does not exist on %s: create it first "
                  "(kafka-topics.sh --create --topic %s) or fix the name",
                  dl, bootstrap, dl);
  return d->count == before ? 0 : -1;
}
