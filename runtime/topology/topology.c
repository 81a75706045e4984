/* topology — builds the validated graph from the INI and owns it. */
#include "topology/topology.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "topology/topology_internal.h"

void topo_error(topo_build_t *b, int line, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  weir_diag_add(b->d, weir_cfg_where(b->cfg, line), line, "%s", msg);
  b->errors++;
}

void topo_error_file(topo_build_t *b, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  weir_diag_add(b->d, b->cfg->path, 0, "%s", msg);
  b->errors++;
}

void topo_free_list(char **items, size_t count) {
  for (size_t i = 0; items && i < count; i++)
    free(items[i]);
  free(items);
}

static char *trimmed_copy(const char *start, size_t len) {
  while (len && isspace((unsigned char)*start)) {
    start++;
    len--;
  }
  while (len && isspace((unsigned char)start[len - 1]))
    len--;
  return strndup(start, len);
}

char **topo_split_list(topo_build_t *b, const char *text, int line, const char *what,
                       size_t *count) {
  size_t n = 1;
  for (const char *c = text; *c; c++)
    n += *c == ',';
  char **items = calloc(n, sizeof *items);
  int reported = 0;
  *count = 0;
  for (const char *c = text; items && *count < n;) {
    const char *comma = strchr(c, ',');
    size_t len = comma ? (size_t)(comma - c) : strlen(c);
    char *item = trimmed_copy(c, len);
    if (item && !*item) {
      if (!reported++)
        topo_error(b, line, "'%s' %s; write names separated by commas", what,
                   n == 1 ? "is empty" : "has an empty name between commas");
      free(item);
    } else if (item) {
      items[(*count)++] = item;
    }
    if (!comma)
      break;
    c = comma + 1;
  }
  return items;
}

void topo_node_free(weir_node_t *n) {
  if (!n)
    return;
  free(n->name);
  free(n->inputs);
  free(n->children);
  topo_free_list(n->topics, n->topic_count);
  weir_params_free(&n->params);
  topo_free_list(n->stores, n->store_count);
  free(n->topic);
  free(n->group_by);
  free(n->regroup_path);
  free(n->ts_path);
  free(n);
}

/* Until the graph is linked the nodes live in the build's pending list. */
static void free_pending(topo_build_t *b, int free_nodes) {
  for (size_t i = 0; i < b->t->node_count; i++) {
    topo_free_list(b->pending[i].input_names, b->pending[i].input_count);
    if (free_nodes)
      topo_node_free(b->pending[i].node);
  }
  free(b->pending);
  if (free_nodes)
    b->t->node_count = 0;
}

weir_topology_t *weir_topology_build(const weir_cfg_t *cfg, const char *exe_dir, weir_diag_t *d) {
  return weir_topology_build_staged(cfg, exe_dir, NULL, d);
}

weir_topology_t *weir_topology_build_staged(const weir_cfg_t *cfg, const char *exe_dir,
                                            const char *stage_dir, weir_diag_t *d) {
  weir_topology_t *t = calloc(1, sizeof *t);
  if (!t || !(t->path = strdup(cfg->path))) {
    free(t);
    weir_diag_add(d, cfg->path, 0, "out of memory building the topology");
    return NULL;
  }
  topo_build_t b = {.cfg = cfg, .d = d, .t = t};
  topo_refuse_not_built(&b);
  topo_read_settings(&b);
  b.search.plugin_dir = t->settings.plugin_dir;
  b.search.exe_dir = exe_dir;
  b.search.stage_dir = stage_dir;
  topo_read_nodes(&b);
  topo_link(&b);
  free_pending(&b, t->nodes == NULL);
  if (b.errors) {
    weir_topology_free(t);
    return NULL;
  }
  return t;
}

static void settings_free(weir_settings_t *s) {
  free(s->application_id);
  free(s->bootstrap_servers);
  free(s->plugin_dir);
  free(s->state_dir);
  free(s->http_listen);
  free(s->http_token);
  free(s->http_advertise);
  free(s->dead_letter_topic);
}

void weir_topology_free(weir_topology_t *t) {
  if (!t)
    return;
  for (size_t i = 0; t->nodes && i < t->node_count; i++)
    topo_node_free(t->nodes[i]);
  free(t->nodes);
  for (size_t i = 0; i < t->kafka_count; i++) {
    free(t->kafka[i].key);
    free(t->kafka[i].value);
  }
  free(t->kafka);
  for (size_t i = 0; i < t->store_count; i++) {
    free(t->stores[i].name);
    free(t->stores[i].type);
    free(t->stores[i].changelog_topic);
    free(t->stores[i].global_topic);
  }
  free(t->internal_topics);
  free(t->stores);
  for (size_t i = 0; i < t->plugin_count; i++)
    weir_plugin_close(t->plugins[i]);
  free(t->plugins);
  settings_free(&t->settings);
  free(t->path);
  free(t);
}

const weir_store_decl_t *weir_topology_store(const weir_topology_t *t, const char *name) {
  for (size_t i = 0; i < t->store_count; i++)
    if (strcmp(t->stores[i].name, name) == 0)
      return &t->stores[i];
  return NULL;
}

weir_node_t *weir_topology_find(const weir_topology_t *t, const char *name) {
  for (size_t i = 0; i < t->node_count; i++)
    if (strcmp(t->nodes[i]->name, name) == 0)
      return t->nodes[i];
  return NULL;
}

static int add_distinct(const char **list, size_t *count, const char *topic) {
  for (size_t i = 0; i < *count; i++)
    if (strcmp(list[i], topic) == 0)
      return 0;
  list[(*count)++] = topic;
  return 1;
}

/* Sized for the worst case (every topic distinct), then NULL-ended. */
static const char **topics_of(const weir_topology_t *t, weir_node_kind_t kind, size_t *count) {
  size_t max = 0;
  for (size_t i = 0; i < t->node_count; i++)
    max += t->nodes[i]->kind == kind ? t->nodes[i]->topic_count + 1 : 0;
  const char **list = calloc(max + 1, sizeof *list);
  *count = 0;
  for (size_t i = 0; list && i < t->node_count; i++) {
    const weir_node_t *n = t->nodes[i];
    if (n->kind != kind)
      continue;
    for (size_t j = 0; j < n->topic_count; j++)
      add_distinct(list, count, n->topics[j]);
    if (n->topic)
      add_distinct(list, count, n->topic);
  }
  return list;
}

const char **weir_topology_source_topics(const weir_topology_t *t, size_t *count) {
  return topics_of(t, WEIR_NODE_SOURCE, count);
}

const char **weir_topology_sink_topics(const weir_topology_t *t, size_t *count) {
  return topics_of(t, WEIR_NODE_SINK, count);
}
