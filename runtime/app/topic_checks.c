#include "app/topic_checks.h"

#include <string.h>

#include "kafka/topics.h"

static int planned_partitions(const rd_kafka_metadata_t *md, const weir_topology_t *t,
                              const char *topic, int depth, int *writer);

/* The most partitions among sub-topology `sub`'s source topics. */
static int most_partitions(const rd_kafka_metadata_t *md, const weir_topology_t *t, int sub,
                           int depth) {
  int best = -1, writer;
  for (size_t i = 0; i < t->node_count; i++) {
    const weir_node_t *n = t->nodes[i];
    for (size_t k = 0; n->kind == WEIR_NODE_SOURCE && n->subtopology == sub && k < n->topic_count;
         k++) {
      int count = planned_partitions(md, t, n->topics[k], depth + 1, &writer);
      best = count > best ? count : best;
    }
  }
  return best;
}

/* A source topic's partitions: a repartition topic, which does not exist
 * yet, will have as many as the most of the sub-topology writing it
 * (*writer; app/internal_topics.c decides so), -1 when unknown. */
static int planned_partitions(const rd_kafka_metadata_t *md, const weir_topology_t *t,
                              const char *topic, int depth, int *writer) {
  *writer = -1;
  for (size_t j = 0; j < t->internal_topic_count && depth <= t->subtopology_count; j++)
    if (!t->internal_topics[j].changelog && strcmp(t->internal_topics[j].name, topic) == 0) {
      *writer = t->internal_topics[j].partitions_of;
      return most_partitions(md, t, *writer, depth);
    }
  return weir_topics_partitions(md, topic);
}

/* The source topics of one sub-topology are read by one task per partition
 * number, so they must have as many partitions each (co-partitioning), a
 * repartition topic's as planned: a join of a re-keyed input and a topic
 * with another count would otherwise start and join the wrong keys. */
static void check_copartitioned(const rd_kafka_metadata_t *md, const weir_topology_t *t,
                                weir_diag_t *d) {
  for (int sub = 0; sub < t->subtopology_count; sub++) {
    const char *first = NULL;
    int first_count = -1, first_writer = -1;
    for (size_t i = 0; i < t->node_count; i++) {
      const weir_node_t *n = t->nodes[i];
      for (size_t k = 0; n->kind == WEIR_NODE_SOURCE && n->subtopology == sub && k < n->topic_count;
           k++) {
        int writer;
        int count = planned_partitions(md, t, n->topics[k], 0, &writer);
        if (count < 0)
          continue; /* reported as missing */
        if (!first) {
          first = n->topics[k], first_count = count, first_writer = writer;
        } else if (count != first_count) {
          int w = writer >= 0 ? writer : first_writer;
          weir_diag_add(d, t->path, n->line,
                        "sub-topology %d reads topic '%s' (%d partitions) and topic '%s' (%d "
                        "partitions): inputs joined in one sub-topology must be co-partitioned; "
                        "give them the same partition count%s",
                        sub, first, first_count, n->topics[k], count,
                        w >= 0 ? " (a repartition topic gets as many as the most of the inputs "
                                 "of the sub-topology writing it)"
                               : "");
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
  for (size_t i = 0; i < t->store_count; i++) {
    const char *topic = t->stores[i].global_topic;
    if (topic && !weir_topics_exists(md, topic))
      weir_diag_add(d, t->path, t->stores[i].line,
                    "global '%s': topic '%s' does not exist on %s: create it first "
                    "(kafka-topics.sh --create --topic %s) or fix the name",
                    t->stores[i].name, topic, bootstrap, topic);
  }
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
