/* topology_nodes — [source:*], [sink:*] and [store:*] sections, and the
 * dispatch of every section by kind. */
#include <stdlib.h>
#include <string.h>

#include "topology/topology_internal.h"

static const char *kind_name(weir_node_kind_t k) {
  return k == WEIR_NODE_SOURCE ? "source" : k == WEIR_NODE_OPERATOR ? "operator" : "sink";
}

static const topo_pending_t *pending_named(const topo_build_t *b, const char *name) {
  for (size_t i = 0; i < b->t->node_count; i++)
    if (strcmp(b->pending[i].node->name, name) == 0)
      return &b->pending[i];
  return NULL;
}

static topo_pending_t *add_pending(topo_build_t *b, weir_node_t *n, const weir_cfg_section_t *s) {
  weir_topology_t *t = b->t;
  if (t->node_count == b->pending_cap) {
    size_t cap = b->pending_cap ? b->pending_cap * 2 : 16;
    topo_pending_t *p = realloc(b->pending, cap * sizeof *p);
    if (!p)
      return NULL;
    b->pending = p;
    b->pending_cap = cap;
  }
  topo_pending_t *p = &b->pending[t->node_count++];
  memset(p, 0, sizeof *p);
  p->node = n;
  p->section = s;
  return p;
}

/* Node names are one namespace across sources, operators and sinks: they
 * are what `input =` refers to. */
topo_pending_t *topo_new_node(topo_build_t *b, const weir_cfg_section_t *s, weir_node_kind_t kind) {
  const topo_pending_t *other = pending_named(b, s->name);
  if (other) {
    topo_error(b, s->line, "node name '%s' is already used by [%s:%s] at line %d; rename one",
               s->name, kind_name(other->node->kind), s->name, other->section->line);
    return NULL;
  }
  weir_node_t *n = calloc(1, sizeof *n);
  topo_pending_t *p = n ? add_pending(b, n, s) : NULL;
  if (p && (n->name = strdup(s->name))) {
    n->kind = kind;
    n->line = s->line;
    return p;
  }
  if (p)
    b->t->node_count--;
  free(n);
  topo_error(b, s->line, "out of memory reading [%s:%s]", kind_name(kind), s->name);
  return NULL;
}

const char *topo_param_text(const weir_params_t *p, const char *name, int *line) {
  const weir_param_value_t *v = weir_params_find(p, name);
  if (line)
    *line = v ? v->line : 0;
  return v ? v->text : NULL;
}

static weir_serde_t serde_of(const weir_params_t *p, const char *name) {
  weir_serde_t s = WEIR_SERDE_BYTES;
  const char *text = topo_param_text(p, name, NULL);
  if (text)
    weir_serde_parse(text, &s);
  return s;
}

static int bind_keys(topo_build_t *b, const weir_cfg_section_t *s, const char *const *reserved,
                     weir_params_t *p) {
  size_t n;
  const weir_param_def_t *keys = topo_section_keys(s->kind, &n);
  if (weir_params_bind(keys, n, b->cfg, s, reserved, p, b->d) == 0)
    return 0;
  b->errors++;
  return -1;
}

/* `topic =` names one topic, `topics =` several; exactly one of them. */
static void read_topics(topo_build_t *b, const weir_cfg_section_t *s, const weir_params_t *p,
                        weir_node_t *n) {
  int line1, line2;
  const char *one = topo_param_text(p, "topic", &line1);
  const char *many = topo_param_text(p, "topics", &line2);
  if (one && many) {
    topo_error(b, line1 > line2 ? line1 : line2, "[source:%s] sets both topic and topics; keep one",
               s->name);
  } else if (!one && !many) {
    if (!weir_cfg_entry(s, "topic") && !weir_cfg_entry(s, "topics"))
      topo_error(b, s->line, "[source:%s] needs 'topic = NAME' or 'topics = A, B'", s->name);
  } else {
    n->topics = topo_split_list(b, one ? one : many, one ? line1 : line2, "topic", &n->topic_count);
    if (one && n->topic_count > 1)
      topo_error(b, line1, "'topic' names one topic; write 'topics = %s' for several", one);
  }
}

static void read_source(topo_build_t *b, const weir_cfg_section_t *s) {
  static const char *const plain[] = {"input", NULL};
  const char **reserved = NULL;
  topo_pending_t *pn = topo_new_node(b, s, WEIR_NODE_SOURCE);
  if (!pn)
    return;
  const weir_cfg_entry_t *in = weir_cfg_entry(s, "input");
  if (in)
    topo_error(b, in->line,
               "[source:%s] reads Kafka topics and takes no input; remove 'input' (or make it "
               "an [operator:%s])",
               s->name, s->name);
  weir_params_t p = {0};
  topo_read_timestamp(b, s, pn->node, &reserved);
  bind_keys(b, s, reserved ? reserved : plain, &p);
  free(reserved);
  read_topics(b, s, &p, pn->node);
  pn->node->key_serde = serde_of(&p, "key.serde");
  pn->node->value_serde = serde_of(&p, "value.serde");
  weir_params_free(&p);
}

static void read_sink(topo_build_t *b, const weir_cfg_section_t *s) {
  topo_pending_t *pn = topo_new_node(b, s, WEIR_NODE_SINK);
  if (!pn)
    return;
  weir_node_t *n = pn->node;
  weir_params_t p = {0};
  bind_keys(b, s, NULL, &p);
  const char *input = topo_param_text(&p, "input", &pn->input_line);
  if (input)
    pn->input_names = topo_split_list(b, input, pn->input_line, "input", &pn->input_count);
  int line;
  const char *topic = topo_param_text(&p, "topic", &line);
  size_t count = 0;
  char **topics = topic ? topo_split_list(b, topic, line, "topic", &count) : NULL;
  if (count > 1)
    topo_error(b, line, "[sink:%s] writes one topic, not %zu; add a sink per topic", s->name,
               count);
  if (count == 1)
    n->topic = strdup(topics[0]);
  topo_free_list(topics, count);
  n->key_serde = serde_of(&p, "key.serde");
  n->value_serde = serde_of(&p, "value.serde");
  weir_params_free(&p);
}

static int store_kind_of(const char *type) {
  return strcmp(type, "window") == 0    ? WEIR_STORE_WINDOW
         : strcmp(type, "session") == 0 ? WEIR_STORE_SESSION
                                        : WEIR_STORE_KV;
}

static int64_t param_int(const weir_params_t *p, const char *name) {
  const weir_param_value_t *v = weir_params_find(p, name);
  return v && v->text ? v->i : 0;
}

/* The window keys belong to their kinds: a kv store given one, or a window
 * store without its size, is a mistake to name now, not at record one. */
static void check_store_keys(topo_build_t *b, const weir_cfg_section_t *s, const weir_params_t *p) {
  int size_line = 0, ret_line = 0;
  const char *type = topo_param_text(p, "type", NULL);
  const char *size = topo_param_text(p, "window.size.ms", &size_line);
  topo_param_text(p, "retention.ms", &ret_line);
  int kind = store_kind_of(type ? type : "kv");
  if (kind == WEIR_STORE_WINDOW && !size)
    topo_error(b, s->line, "[store:%s] type = window needs window.size.ms (the window size, ms)",
               s->name);
  if (kind != WEIR_STORE_WINDOW && size)
    topo_error(b, size_line, "[store:%s] window.size.ms is only for type = window; remove it",
               s->name);
  if (kind == WEIR_STORE_KV && ret_line)
    topo_error(b, ret_line,
               "[store:%s] retention.ms is only for type = window or session; "
               "remove it",
               s->name);
}

static int add_store(topo_build_t *b, const weir_cfg_section_t *s, const weir_params_t *p) {
  weir_topology_t *t = b->t;
  weir_store_decl_t *grown = realloc(t->stores, (t->store_count + 1) * sizeof *grown);
  if (!grown)
    return -1;
  t->stores = grown;
  const char *type = topo_param_text(p, "type", NULL);
  const weir_param_value_t *cl = weir_params_find(p, "changelog");
  weir_store_decl_t *st = &t->stores[t->store_count];
  st->name = strdup(s->name);
  st->line = s->line;
  st->type = strdup(type ? type : "kv");
  st->changelog = cl && cl->text ? (int)cl->i : 1;
  const char *backend = topo_param_text(p, "backend", NULL);
  st->in_memory = backend && strcmp(backend, "memory") == 0;
  st->kind = store_kind_of(st->type);
  st->window_size_ms = st->kind == WEIR_STORE_WINDOW ? param_int(p, "window.size.ms") : 0;
  st->retention_ms = st->kind == WEIR_STORE_KV ? 0 : param_int(p, "retention.ms");
  st->subtopology = -1;
  st->changelog_topic = NULL;
  st->key_serde = serde_of(p, "key.serde");
  st->value_serde = serde_of(p, "value.serde");
  st->global_topic = NULL;
  if (!st->name || !st->type) {
    free(st->name);
    free(st->type);
    return -1;
  }
  t->store_count++;
  return 0;
}

/* Stores and global tables share one namespace (an operator reads either
 * with weir_store_get(ctx, NAME)): a second section of either kind with a
 * name already used is refused, naming both. 1 when `s` is refused. */
static int name_taken(topo_build_t *b, const weir_cfg_section_t *s) {
  const weir_topology_t *t = b->t;
  for (size_t i = 0; i < t->store_count; i++) {
    const weir_store_decl_t *other = &t->stores[i];
    if (strcmp(other->name, s->name) != 0)
      continue;
    const char *kind = other->global_topic ? "global" : "store";
    if (strcmp(kind, s->kind) == 0)
      topo_error(b, s->line, "[%s:%s] is declared twice (first at line %d); remove one", s->kind,
                 s->name, other->line);
    else
      topo_error(b, s->line,
                 "[%s:%s] clashes with [%s:%s] at line %d: stores and global tables share one "
                 "namespace; rename one",
                 s->kind, s->name, kind, s->name, other->line);
    return 1;
  }
  return 0;
}

static void read_store(topo_build_t *b, const weir_cfg_section_t *s) {
  if (name_taken(b, s))
    return;
  weir_params_t p = {0};
  bind_keys(b, s, NULL, &p);
  check_store_keys(b, s, &p);
  if (add_store(b, s, &p))
    topo_error(b, s->line, "out of memory reading [store:%s]", s->name);
  weir_params_free(&p);
}

/* [global:NAME]: a kv store, without changelog (its topic is one), that
 * no sub-topology owns. */
static void read_global(topo_build_t *b, const weir_cfg_section_t *s) {
  if (name_taken(b, s))
    return;
  weir_params_t p = {0};
  int line = 0;
  bind_keys(b, s, NULL, &p);
  const char *topic = topo_param_text(&p, "topic", &line);
  size_t count = 0;
  char **topics = topic ? topo_split_list(b, topic, line, "topic", &count) : NULL;
  if (count > 1)
    topo_error(b, line, "[global:%s] reads one topic, not %zu; add a [global:] per topic", s->name,
               count);
  if (count == 1) {
    weir_topology_t *t = b->t;
    if (add_store(b, s, &p) || !(t->stores[t->store_count - 1].global_topic = strdup(topics[0])))
      topo_error(b, s->line, "out of memory reading [global:%s]", s->name);
    else
      t->stores[t->store_count - 1].changelog = 0;
  }
  topo_free_list(topics, count);
  weir_params_free(&p);
}

static void read_section(topo_build_t *b, const weir_cfg_section_t *s) {
  static const struct {
    const char *kind;
    void (*read)(topo_build_t *, const weir_cfg_section_t *);
  } readers[] = {{"source", read_source},
                 {"operator", topo_read_operator},
                 {"sink", read_sink},
                 {"store", read_store},
                 {"global", read_global}};
  for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
    if (strcmp(s->kind, readers[i].kind) != 0)
      continue;
    if (!s->name || !*s->name)
      topo_error(b, s->line, "[%s] needs a name; write [%s:NAME]", s->kind, s->kind);
    else
      readers[i].read(b, s);
    return;
  }
  topo_error(
      b, s->line,
      "unknown section kind '%s' (expected weir, kafka, source, operator, sink, store, global)",
      s->kind);
}

void topo_read_nodes(topo_build_t *b) {
  for (size_t i = 0; i < b->cfg->section_count; i++) {
    const weir_cfg_section_t *s = &b->cfg->sections[i];
    /* An empty kind is a header the config reader already reported. */
    if (!*s->kind || strcmp(s->kind, "weir") == 0 || strcmp(s->kind, "kafka") == 0)
      continue;
    read_section(b, s);
  }
}
