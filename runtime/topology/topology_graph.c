/* topology_graph — turns `input =` names into edges and checks the graph:
 * unknown or sink inputs, store references, sources that feed nothing,
 * cycles, nodes no source reaches; then orders the nodes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "topology/topology_internal.h"

static const char *kind_name(const weir_node_t *n) {
  return n->kind == WEIR_NODE_SOURCE     ? "source"
         : n->kind == WEIR_NODE_OPERATOR ? "operator"
                                         : "sink";
}

static weir_node_t *node_named(const topo_build_t *b, const char *name) {
  for (size_t i = 0; i < b->t->node_count; i++)
    if (strcmp(b->pending[i].node->name, name) == 0)
      return b->pending[i].node;
  return NULL;
}

static size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b), row[64];
  if (la >= 64 || lb >= 64)
    return SIZE_MAX;
  for (size_t j = 0; j <= lb; j++)
    row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best)
        best = up + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      diag = up;
      row[j] = best;
    }
  }
  return row[lb];
}

/* The closest source or operator name, when it is close enough to be a typo. */
static const char *suggestion(const topo_build_t *b, const char *name) {
  const char *best = NULL;
  size_t best_d = 3;
  for (size_t i = 0; i < b->t->node_count; i++) {
    const weir_node_t *n = b->pending[i].node;
    size_t dist = n->kind == WEIR_NODE_SINK ? SIZE_MAX : edit_distance(name, n->name);
    if (dist < best_d && dist < strlen(name)) {
      best = n->name;
      best_d = dist;
    }
  }
  return best;
}

static int listed_before(const topo_pending_t *pn, size_t i) {
  for (size_t j = 0; j < i; j++)
    if (strcmp(pn->input_names[j], pn->input_names[i]) == 0)
      return 1;
  return 0;
}

/* The node `input` names, or NULL after reporting why it cannot be one. */
static weir_node_t *input_node(topo_build_t *b, topo_pending_t *pn, size_t i) {
  const char *name = pn->input_names[i];
  const weir_node_t *n = pn->node;
  weir_node_t *in = node_named(b, name);
  if (listed_before(pn, i)) {
    topo_error(b, pn->input_line, "input of [%s:%s] lists '%s' twice; list it once", kind_name(n),
               n->name, name);
    return NULL;
  }
  if (!in) {
    const char *close = suggestion(b, name);
    topo_error(b, pn->input_line, "input '%s' of [%s:%s] names no source or operator; %s%s%s", name,
               kind_name(n), n->name, close ? "did you mean '" : "declare it or fix the name",
               close ? close : "", close ? "'?" : "");
    pn->broken = 1;
  } else if (in->kind == WEIR_NODE_SINK) {
    topo_error(b, pn->input_line,
               "input '%s' of [%s:%s] is a sink, and sinks feed nothing; read its topic with a "
               "[source] instead",
               name, kind_name(n), n->name);
    pn->broken = 1;
    in = NULL;
  }
  return in;
}

static void resolve_inputs(topo_build_t *b, topo_pending_t *pn) {
  weir_node_t *n = pn->node;
  if (!pn->input_count)
    return;
  n->inputs = calloc(pn->input_count, sizeof *n->inputs);
  if (!n->inputs) {
    topo_error(b, pn->input_line, "out of memory linking [%s:%s]", kind_name(n), n->name);
    return;
  }
  for (size_t i = 0; i < pn->input_count; i++) {
    weir_node_t *in = input_node(b, pn, i);
    if (in)
      n->inputs[n->input_count++] = in;
  }
}

static int store_declared(const weir_topology_t *t, const char *name) {
  for (size_t i = 0; i < t->store_count; i++)
    if (strcmp(t->stores[i].name, name) == 0)
      return 1;
  return 0;
}

static void check_stores(topo_build_t *b, const topo_pending_t *pn) {
  const weir_node_t *n = pn->node;
  const weir_cfg_entry_t *e = n->store_count ? weir_cfg_entry(pn->section, "store") : NULL;
  for (size_t i = 0; i < n->store_count; i++)
    if (!store_declared(b->t, n->stores[i]))
      topo_error(b, e ? e->line : pn->section->line,
                 "[operator:%s] uses store '%s', which is not declared; add a [store:%s] section",
                 n->name, n->stores[i], n->stores[i]);
}

static int add_child(weir_node_t *parent, weir_node_t *child) {
  weir_node_t **grown =
      realloc(parent->children, (parent->child_count + 1) * sizeof *parent->children);
  if (!grown)
    return -1;
  grown[parent->child_count++] = child;
  parent->children = grown;
  return 0;
}

/* In file order, so each node's children are listed as the file lists them. */
static void add_children(topo_build_t *b) {
  for (size_t i = 0; i < b->t->node_count; i++) {
    weir_node_t *n = b->pending[i].node;
    for (size_t j = 0; j < n->input_count; j++)
      if (add_child(n->inputs[j], n))
        topo_error(b, n->line, "out of memory linking [%s:%s]", kind_name(n), n->name);
  }
}

static void check_sources_feed(topo_build_t *b) {
  for (size_t i = 0; i < b->t->node_count; i++) {
    const weir_node_t *n = b->pending[i].node;
    if (n->kind == WEIR_NODE_SOURCE && !n->child_count)
      topo_error(b, n->line,
                 "source '%s' feeds nothing; name it in an operator's or sink's input, or "
                 "remove it",
                 n->name);
  }
}

typedef struct walk {
  topo_build_t *b;
  unsigned char *color; /* by file index: 0 unvisited, 1 on the path, 2 done */
  weir_node_t **path;
} walk_t;

static void report_cycle(walk_t *w, size_t depth, const weir_node_t *back_to) {
  char text[900];
  size_t used = 0, k = depth;
  while (w->path[k] != back_to)
    k--;
  text[0] = '\0';
  for (; k <= depth && used < sizeof text; k++)
    used += (size_t)snprintf(text + used, sizeof text - used, "%s -> ", w->path[k]->name);
  if (used < sizeof text)
    snprintf(text + used, sizeof text - used, "%s", back_to->name);
  topo_error(w->b, w->b->pending[back_to->index].input_line,
             "cycle: %s; an operator cannot read its own output, directly or through others", text);
}

static void visit(walk_t *w, weir_node_t *n, size_t depth) {
  w->color[n->index] = 1;
  w->path[depth] = n;
  for (size_t i = 0; i < n->child_count; i++) {
    weir_node_t *c = n->children[i];
    if (w->color[c->index] == 1)
      report_cycle(w, depth, c);
    else if (w->color[c->index] == 0)
      visit(w, c, depth + 1);
  }
  w->color[n->index] = 2;
}

static void check_cycles(topo_build_t *b) {
  size_t count = b->t->node_count;
  walk_t w = {b, calloc(count + 1, 1), calloc(count + 1, sizeof(weir_node_t *))};
  if (w.color && w.path)
    for (size_t i = 0; i < count; i++)
      if (!w.color[i])
        visit(&w, b->pending[i].node, 0);
  free(w.color);
  free(w.path);
}

static void mark_reached(const weir_node_t *n, unsigned char *reached) {
  if (reached[n->index])
    return;
  reached[n->index] = 1;
  for (size_t i = 0; i < n->child_count; i++)
    mark_reached(n->children[i], reached);
}

/* Nodes downstream of an unresolved or missing input count as reached:
 * their problem is already reported once. */
static void check_reachable(topo_build_t *b) {
  size_t count = b->t->node_count;
  unsigned char *reached = calloc(count + 1, 1);
  if (!reached)
    return;
  for (size_t i = 0; i < count; i++)
    if (b->pending[i].node->kind == WEIR_NODE_SOURCE || b->pending[i].broken ||
        !b->pending[i].input_count)
      mark_reached(b->pending[i].node, reached);
  for (size_t i = 0; i < count; i++) {
    const weir_node_t *n = b->pending[i].node;
    if (!reached[i])
      topo_error(b, b->pending[i].input_line,
                 "[%s:%s] is not reachable from any source; connect its input to a source or "
                 "remove it",
                 kind_name(n), n->name);
  }
  free(reached);
}

static int inputs_placed(const weir_node_t *n, const unsigned char *placed) {
  for (size_t i = 0; i < n->input_count; i++)
    if (!placed[n->inputs[i]->index])
      return 0;
  return 1;
}

/* Stable: among the nodes that are ready, the earliest in the file goes first. */
static void sort_nodes(topo_build_t *b) {
  size_t count = b->t->node_count, done = 0;
  weir_node_t **order = calloc(count + 1, sizeof *order);
  unsigned char *placed = calloc(count + 1, 1);
  while (order && placed && done < count) {
    size_t i = 0;
    while (i < count && (placed[i] || !inputs_placed(b->pending[i].node, placed)))
      i++;
    if (i == count)
      break; /* a cycle: reported already */
    placed[i] = 1;
    order[done++] = b->pending[i].node;
  }
  if (!order || !placed || done < count) {
    topo_error_file(b, "could not order the nodes (out of memory)");
    free(order);
  } else {
    for (size_t i = 0; i < count; i++)
      order[i]->index = (int)i;
    b->t->nodes = order;
  }
  free(placed);
}

static size_t find_root(size_t *parent, size_t i) {
  while (parent[i] != i)
    i = parent[i] = parent[parent[i]];
  return i;
}

/* A topic read by two sources must belong to one sub-topology: a record of
 * one partition then goes to one task (Kafka Streams refuses it too). */
static void check_topic_owners(topo_build_t *b) {
  weir_topology_t *t = b->t;
  for (size_t i = 0; i < t->node_count; i++)
    for (size_t j = i + 1; j < t->node_count; j++) {
      const weir_node_t *x = t->nodes[i], *y = t->nodes[j];
      if (x->kind != WEIR_NODE_SOURCE || y->kind != WEIR_NODE_SOURCE ||
          x->subtopology == y->subtopology)
        continue;
      for (size_t a = 0; a < x->topic_count; a++)
        for (size_t c = 0; c < y->topic_count; c++)
          if (strcmp(x->topics[a], y->topics[c]) == 0)
            topo_error(b, y->line,
                       "topic '%s' is read by source '%s' (line %d) and source '%s' in "
                       "unconnected parts of the topology; read it with one source",
                       y->topics[c], x->name, x->line, y->name);
    }
}

/* Connected components of the graph (edges in either direction). */
static void assign_subtopologies(topo_build_t *b) {
  weir_topology_t *t = b->t;
  size_t *parent = calloc(t->node_count + 1, sizeof *parent);
  int *number = calloc(t->node_count + 1, sizeof *number);
  if (!parent || !number) {
    topo_error_file(b, "out of memory");
    free(parent);
    free(number);
    return;
  }
  for (size_t i = 0; i < t->node_count; i++)
    parent[i] = i, number[i] = -1;
  for (size_t i = 0; i < t->node_count; i++)
    for (size_t k = 0; k < t->nodes[i]->input_count; k++)
      parent[find_root(parent, i)] = find_root(parent, (size_t)t->nodes[i]->inputs[k]->index);
  t->subtopology_count = 0;
  for (size_t i = 0; i < t->node_count; i++) {
    size_t root = find_root(parent, i);
    if (number[root] < 0)
      number[root] = t->subtopology_count++;
    t->nodes[i]->subtopology = number[root];
  }
  free(parent);
  free(number);
  check_topic_owners(b);
}

void topo_link(topo_build_t *b) {
  for (size_t i = 0; i < b->t->node_count; i++)
    b->pending[i].node->index = (int)i;
  for (size_t i = 0; i < b->t->node_count; i++) {
    resolve_inputs(b, &b->pending[i]);
    check_stores(b, &b->pending[i]);
  }
  if (!b->errors)
    topo_add_fk_joins(b);
  if (!b->errors)
    topo_add_repartitions(b);
  add_children(b);
  check_sources_feed(b);
  check_cycles(b);
  check_reachable(b);
  if (!b->errors)
    sort_nodes(b);
  if (!b->errors)
    assign_subtopologies(b);
  if (!b->errors)
    topo_assign_stores(b);
}
