/* topology_repartition — what the host adds to a topology: a repartition
 * (sink + source through "<application.id>-<operator>-repartition") before
 * each operator with `group.by`, and the stores' changelog topics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology/topology_internal.h"

int topo_check_group_by(topo_build_t *b, const char *text, int line, const char *op) {
  if (strcmp(text, "value") == 0)
    return 0;
  if (strncmp(text, "json:", 5) == 0 && text[5] && text[5] != '.' &&
      text[strlen(text) - 1] != '.' && !strstr(text, ".."))
    return 0;
  topo_error(b, line,
             "[operator:%s] group.by = '%s' is not understood; use 'value' (the whole value) or "
             "'json:PATH' (a member of the JSON value, e.g. json:customer.id)",
             op, text);
  return -1;
}

weir_node_t *topo_internal_node(topo_build_t *b, size_t op, const char *name, weir_node_kind_t kind,
                                const char *what) {
  for (size_t i = 0; i < b->t->node_count; i++)
    if (strcmp(b->pending[i].node->name, name) == 0) {
      topo_error(b, b->pending[i].section->line,
                 "node name '%s' is reserved for the %s of [operator:%s]; rename it", name, what,
                 b->pending[op].node->name);
      return NULL;
    }
  weir_cfg_section_t named = *b->pending[op].section;
  named.name = (char *)name;
  topo_pending_t *p = topo_new_node(b, &named, kind);
  if (!p)
    return NULL;
  p->section = b->pending[op].section; /* `named` lives on this stack */
  p->node->internal = 1;
  p->node->internal_what = what;
  p->node->key_serde = WEIR_SERDE_BYTES;
  p->node->value_serde = WEIR_SERDE_BYTES;
  return p->node;
}

static int set_regroup(weir_node_t *sink, const char *group_by) {
  if (strcmp(group_by, "value") == 0) {
    sink->regroup = WEIR_REGROUP_VALUE;
    return 0;
  }
  sink->regroup = WEIR_REGROUP_JSON;
  sink->regroup_path = strdup(group_by + 5);
  return sink->regroup_path ? 0 : -1;
}

/* The operator at pending index `i` reads from `source`, which reads what
 * `sink` writes, which reads the operator's former inputs. */
static void split_at(topo_build_t *b, size_t i) {
  char name[512], topic[768];
  weir_node_t *op = b->pending[i].node;
  snprintf(name, sizeof name, "%s.repartition", op->name);
  snprintf(topic, sizeof topic, "%s-%s-repartition", b->t->settings.application_id, op->name);
  weir_node_t *sink = topo_internal_node(b, i, name, WEIR_NODE_SINK, "repartition");
  snprintf(name, sizeof name, "%s.repartition-source", op->name);
  weir_node_t *source =
      sink ? topo_internal_node(b, i, name, WEIR_NODE_SOURCE, "repartition") : NULL;
  weir_node_t **only = calloc(1, sizeof *only);
  char **topics = calloc(1, sizeof *topics);
  if (!source || !only || !topics || !(sink->topic = strdup(topic)) ||
      !(topics[0] = strdup(topic)) || set_regroup(sink, op->group_by)) {
    if (sink && source)
      topo_error(b, op->line, "out of memory adding the repartition of [operator:%s]", op->name);
    free(only);
    topo_free_list(topics, 1);
    return;
  }
  source->topics = topics;
  source->topic_count = 1;
  sink->inputs = op->inputs;
  sink->input_count = op->input_count;
  only[0] = source;
  op->inputs = only;
  op->input_count = 1;
}

void topo_add_repartitions(topo_build_t *b) {
  size_t count = b->t->node_count; /* the nodes added here need no repartition */
  for (size_t i = 0; i < count; i++) {
    const weir_node_t *n = b->pending[i].node;
    if (n->kind == WEIR_NODE_OPERATOR && n->group_by && !b->pending[i].broken)
      split_at(b, i);
  }
  for (size_t i = count; i < b->t->node_count; i++)
    b->pending[i].node->index = (int)i;
}

static int add_internal(weir_topology_t *t, const char *name, int changelog, int partitions_of) {
  weir_internal_topic_t *grown =
      realloc(t->internal_topics, (t->internal_topic_count + 1) * sizeof *grown);
  if (!grown)
    return -1;
  t->internal_topics = grown;
  grown[t->internal_topic_count++] = (weir_internal_topic_t){name, changelog, partitions_of};
  return 0;
}

/* The sub-topology of the internal source reading what `sink` writes. */
static int reader_subtopology(const weir_topology_t *t, const weir_node_t *sink) {
  for (size_t i = 0; i < t->node_count; i++) {
    const weir_node_t *n = t->nodes[i];
    if (n->kind == WEIR_NODE_SOURCE && n->internal && n->topic_count == 1 &&
        strcmp(n->topics[0], sink->topic) == 0)
      return n->subtopology;
  }
  return sink->subtopology;
}

/* A store holds one task's keys, so every operator using it must be in one
 * sub-topology: elsewhere its partitions would mean other keys. */
static void place_store(topo_build_t *b, weir_store_decl_t *st) {
  const weir_topology_t *t = b->t;
  const weir_node_t *first = NULL;
  for (size_t i = 0; i < t->node_count; i++) {
    const weir_node_t *n = t->nodes[i];
    for (size_t k = 0; k < n->store_count; k++) {
      if (strcmp(n->stores[k], st->name) != 0)
        continue;
      if (!first)
        first = n;
      else if (n->subtopology != first->subtopology)
        topo_error(b, n->line,
                   "store '%s' is used by [operator:%s] and [operator:%s], which read "
                   "differently partitioned inputs (sub-topologies %d and %d); give each its own "
                   "store",
                   st->name, first->name, n->name, first->subtopology, n->subtopology);
    }
  }
  st->subtopology = first ? first->subtopology : -1;
}

void topo_assign_stores(topo_build_t *b) {
  weir_topology_t *t = b->t;
  for (size_t i = 0; i < t->node_count; i++) {
    const weir_node_t *n = t->nodes[i];
    /* A repartition sink's upstream sub-topology sets the partition count;
     * a foreign-key join's sinks take their reader's (its table's). */
    int sized_by = n->sized_by_reader ? reader_subtopology(t, n) : n->subtopology;
    if (n->kind == WEIR_NODE_SINK && n->internal && add_internal(t, n->topic, 0, sized_by))
      topo_error_file(b, "out of memory");
  }
  for (size_t i = 0; i < t->store_count; i++) {
    weir_store_decl_t *st = &t->stores[i];
    char topic[768];
    if (st->global_topic)
      continue; /* every task of every sub-topology may read it; its topic is its changelog */
    place_store(b, st);
    if (!st->changelog || st->subtopology < 0)
      continue;
    snprintf(topic, sizeof topic, "%s-%s-changelog", t->settings.application_id, st->name);
    if (!(st->changelog_topic = strdup(topic)) ||
        add_internal(t, st->changelog_topic, 1, st->subtopology))
      topo_error_file(b, "out of memory");
  }
}
