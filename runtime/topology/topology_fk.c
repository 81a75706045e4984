/* topology_fk — what the host adds for a foreign-key join (`type = join`,
 * `kind = foreign-key`), as Kafka Streams builds KTable.join(other,
 * foreignKeyExtractor, ...): the left table and the right table are
 * partitioned by different keys, so one task cannot hold both. The section's
 * operator stays the left half; weir adds
 *
 *   <op>.subscription         sink    <app>-<op>-subscription-registration
 *   <op>.subscription-source  source  (keyed by the right key)
 *   <op>.right                operator, type join-fk-right of the same plugin:
 *                             reads the right input and the subscriptions
 *   <op>.response             sink    <app>-<op>-subscription-response
 *   <op>.response-source      source  (keyed by the left key), the left
 *                             half's second input
 *
 * The subscription topic gets the right input's partition count and the
 * response topic the left's, so each is co-partitioned with the table its
 * reader keeps. `store = LEFT, RIGHT, SUBSCRIPTIONS` is split: the left half
 * keeps the first, the right half the other two. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology/topology_internal.h"

#define FK_RIGHT_TYPE "join-fk-right"

static int is_fk_join(const weir_node_t *n) {
  if (n->kind != WEIR_NODE_OPERATOR || !n->op || strcmp(n->op->def.type, "join") != 0)
    return 0;
  const weir_param_value_t *kind = weir_params_find(&n->params, "kind");
  return kind && kind->text && strcmp(kind->text, "foreign-key") == 0;
}

/* A sink writing `topic` and a source reading it, both named after the
 * operator at pending index `op`; the source is returned (NULL: reported). */
static weir_node_t *add_hop(topo_build_t *b, size_t op, const char *what, const char *suffix,
                            const char *topic_suffix, weir_node_t *writer, weir_node_t **sink_out) {
  const char *opname = b->pending[op].node->name;
  char name[512], topic[768];
  snprintf(topic, sizeof topic, "%s-%s-%s", b->t->settings.application_id, opname, topic_suffix);
  snprintf(name, sizeof name, "%s.%s", opname, suffix);
  weir_node_t *sink = topo_internal_node(b, op, name, WEIR_NODE_SINK, what);
  snprintf(name, sizeof name, "%s.%s-source", opname, suffix);
  weir_node_t *source = sink ? topo_internal_node(b, op, name, WEIR_NODE_SOURCE, what) : NULL;
  weir_node_t **in = calloc(1, sizeof *in);
  char **topics = calloc(1, sizeof *topics);
  if (!source || !in || !topics || !(sink->topic = strdup(topic)) || !(topics[0] = strdup(topic))) {
    if (source)
      topo_error(b, b->pending[op].node->line, "out of memory adding the %s of [operator:%s]", what,
                 opname);
    free(in);
    topo_free_list(topics, 1);
    return NULL;
  }
  in[0] = writer;
  sink->inputs = in;
  sink->input_count = 1;
  sink->sized_by_reader = 1;
  source->topics = topics;
  source->topic_count = 1;
  *sink_out = sink;
  return source;
}

static int set_inputs(weir_node_t *n, weir_node_t *a, weir_node_t *c) {
  weir_node_t **in = calloc(2, sizeof *in);
  if (!in)
    return -1;
  in[0] = a, in[1] = c;
  free(n->inputs);
  n->inputs = in;
  n->input_count = 2;
  return 0;
}

static char **take_stores(char **from, size_t first, size_t count) {
  char **to = calloc(count, sizeof *to);
  for (size_t i = 0; to && i < count; i++)
    to[i] = from[first + i], from[first + i] = NULL;
  return to;
}

/* The right half: an operator of the plugin's join-fk-right type. */
static weir_node_t *add_right_half(topo_build_t *b, size_t op) {
  weir_node_t *j = b->pending[op].node;
  const weir_op_info_t *info = weir_plugin_find_op(j->plugin, FK_RIGHT_TYPE);
  if (!info) {
    topo_error(b, j->line,
               "[operator:%s] kind = foreign-key: plugin '%s' (%s) has no type '%s' for the "
               "join's right half; use a std plugin built with this weir",
               j->name, j->plugin->ref, j->plugin->path, FK_RIGHT_TYPE);
    return NULL;
  }
  char name[512];
  snprintf(name, sizeof name, "%s.right", j->name);
  weir_node_t *r = topo_internal_node(b, op, name, WEIR_NODE_OPERATOR, "foreign-key right half");
  if (!r)
    return NULL;
  r->plugin = j->plugin;
  r->op = info;
  return r;
}

static void expand(topo_build_t *b, size_t op) {
  weir_node_t *j = b->pending[op].node;
  if (j->input_count != 2 || j->store_count != 3) {
    topo_error(b, j->line,
               "[operator:%s] kind = foreign-key joins two tables: input = LEFT, RIGHT (it lists "
               "%zu) and store = LEFT, RIGHT, SUBSCRIPTIONS, three kv stores: the left table, "
               "the right table, and which left keys refer to each right key (it lists %zu)",
               j->name, j->input_count, j->store_count);
    return;
  }
  if (j->group_by) {
    topo_error(b, j->line,
               "[operator:%s] a join cannot have group.by: re-key each input upstream, e.g. "
               "with an operator of type = passthrough and group.by",
               j->name);
    return;
  }
  weir_node_t *left = j->inputs[0], *right_in = j->inputs[1], *sub_sink, *resp_sink;
  weir_node_t *right = add_right_half(b, op);
  weir_node_t *sub_src = right ? add_hop(b, op, "foreign-key subscriptions", "subscription",
                                         "subscription-registration", j, &sub_sink)
                               : NULL;
  weir_node_t *resp_src = sub_src ? add_hop(b, op, "foreign-key responses", "response",
                                            "subscription-response", right, &resp_sink)
                                  : NULL;
  char **right_stores = resp_src ? take_stores(j->stores, 1, 2) : NULL;
  if (right_stores) { /* the right half owns them from here, freed with it */
    right->stores = right_stores;
    right->store_count = 2;
    j->store_count = 1;
  }
  if (!right_stores || set_inputs(right, right_in, sub_src) || set_inputs(j, left, resp_src)) {
    if (resp_src)
      topo_error(b, j->line, "out of memory adding the right half of [operator:%s]", j->name);
    return;
  }
  sub_sink->by_name_only = 1; /* the left half forwards results with weir_forward() */
}

void topo_add_fk_joins(topo_build_t *b) {
  size_t count = b->t->node_count; /* the nodes added here are no joins */
  for (size_t i = 0; i < count; i++)
    if (!b->pending[i].broken && is_fk_join(b->pending[i].node))
      expand(b, i);
  for (size_t i = count; i < b->t->node_count; i++)
    b->pending[i].node->index = (int)i;
}
