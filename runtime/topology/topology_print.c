/* topology_print — `weir describe`: text, Graphviz dot, and the key reference. */
#include <stdlib.h>
#include <string.h>

#include "config/env.h"
#include "topology/topology_internal.h"
#include "util/log.h"
#include "util/secret.h"

static const char *or_none(const char *s, const char *none) {
  return s ? s : none;
}

static const char *kind_name(weir_node_kind_t k) {
  return k == WEIR_NODE_SOURCE ? "source" : k == WEIR_NODE_OPERATOR ? "operator" : "sink";
}

static const char *level_name(int level) {
  switch (level) {
  case WEIR_LOG_ERROR: return "error";
  case WEIR_LOG_WARN: return "warn";
  case WEIR_LOG_DEBUG: return "debug";
  default: return "info";
  }
}

static void print_settings(const weir_settings_t *s, FILE *out) {
  static const char *const deser[] = {"skip", "fail", "dead-letter"};
  static const char *const onerr[] = {"fail", "skip", "dead-letter"};
  fprintf(out, "settings:\n");
  fprintf(out, "  application.id          = %s\n", or_none(s->application_id, "?"));
  fprintf(out, "  bootstrap.servers       = %s\n", or_none(s->bootstrap_servers, "?"));
  fprintf(out, "  threads                 = %d\n", s->threads);
  fprintf(out, "  plugin.dir              = %s\n", or_none(s->plugin_dir, "(unset)"));
  fprintf(out, "  state.dir               = %s\n", or_none(s->state_dir, "(unset)"));
  fprintf(out, "  processing.guarantee    = %s\n",
          s->guarantee == WEIR_EXACTLY_ONCE ? "exactly_once" : "at_least_once");
  fprintf(out, "  commit.interval.ms      = %lld\n", (long long)s->commit_interval_ms);
  fprintf(out, "  state.memory.mb         = %d\n", s->state_memory_mb);
  fprintf(out, "  state.wal               = %s\n", s->state_wal ? "true" : "false");
  fprintf(out, "  cache.max.bytes         = %lld\n", (long long)s->cache_max_bytes);
  fprintf(out, "  http.listen             = %s\n", or_none(s->http_listen, "(off)"));
  fprintf(out, "  http.token              = %s\n", s->http_token ? "(set)" : "(unset)");
  fprintf(out, "  http.advertise          = %s\n", or_none(s->http_advertise, "(unset)"));
  fprintf(out, "  log.level               = %s\n", level_name(s->log_level));
  fprintf(out, "  log.format              = %s\n",
          s->log_format == WEIR_LOG_JSON ? "json" : "text");
  fprintf(out, "  embedded.partitions     = %d\n", s->embedded_partitions);
  fprintf(out, "  buffered.records.per.partition = %d\n", s->buffered_records_per_partition);
  fprintf(out, "  max.task.idle.ms        = %lld\n", (long long)s->max_task_idle_ms);
  fprintf(out, "  deserialization.policy  = %s\n", deser[s->deser_policy % 3]);
  fprintf(out, "  processing.error.policy = %s\n", onerr[s->error_policy % 3]);
  fprintf(out, "  dead.letter.topic       = %s\n", or_none(s->dead_letter_topic, "(unset)"));
}

static void print_names(const char *label, weir_node_t *const *nodes, size_t count, FILE *out) {
  if (!count)
    return;
  fprintf(out, "    %s", label);
  for (size_t i = 0; i < count; i++)
    fprintf(out, "%s%s", i ? ", " : " ", nodes[i]->name);
  fprintf(out, "\n");
}

/* Repeated (MULTI) values are joined with '\n'; keep each on one line. */
static void print_value(const char *text, FILE *out) {
  for (const char *c = text; *c; c++) {
    if (*c == '\n')
      fputs("\\n", out);
    else
      fputc(*c, out);
  }
}

static void print_params(const weir_params_t *p, FILE *out) {
  for (size_t i = 0; i < p->count; i++) {
    const weir_param_value_t *v = &p->values[i];
    fprintf(out, "      %s = ", v->def->name);
    print_value(v->text ? weir_secret_show(v->def->name, v->text) : "(unset)", out);
    fprintf(out, "%s\n",
            !v->text                       ? ""
            : v->line == WEIR_CFG_LINE_ENV ? "  (environment)"
            : v->line < 0                  ? "  (--set)"
            : !v->line                     ? "  (default)"
                                           : "");
  }
}

static void print_operator(const weir_node_t *n, FILE *out) {
  fprintf(out, "    plugin %s (%s), type %s\n", n->plugin->ref, n->plugin->path, n->op->def.type);
  if (n->params.count) {
    fprintf(out, "    params:\n");
    print_params(&n->params, out);
  }
  for (size_t i = 0; i < n->store_count; i++)
    fprintf(out, "%s%s", i ? ", " : "    stores: ", n->stores[i]);
  if (n->store_count)
    fprintf(out, "\n");
  if (n->group_by)
    fprintf(out, "    group.by: %s (re-keyed through the repartition before it)\n", n->group_by);
}

static void print_node(const weir_node_t *n, FILE *out) {
  fprintf(out, "  %s %s  (sub-topology %d)\n", kind_name(n->kind), n->name, n->subtopology);
  if (n->kind == WEIR_NODE_SOURCE)
    for (size_t i = 0; i < n->topic_count; i++)
      fprintf(out, "%s%s%s", i ? ", " : "    topics: ", n->topics[i],
              i + 1 == n->topic_count ? "\n" : "");
  if (n->kind == WEIR_NODE_SINK)
    fprintf(out, "    topic: %s%s%s%s\n", or_none(n->topic, "?"), n->internal ? " (internal: " : "",
            n->internal ? or_none(n->internal_what, "?") : "",
            n->internal ? ", created at start)" : "");
  if (n->kind != WEIR_NODE_OPERATOR)
    fprintf(out, "    serdes: key %s, value %s\n", weir_serde_name(n->key_serde),
            weir_serde_name(n->value_serde));
  else
    print_operator(n, out);
  print_names("<-", n->inputs, n->input_count, out);
  print_names("->", n->children, n->child_count, out);
}

void weir_topology_print_text(const weir_topology_t *t, FILE *out) {
  fprintf(out, "topology %s (%s)\n", or_none(t->settings.application_id, "?"), t->path);
  print_settings(&t->settings, out);
  if (t->kafka_count)
    fprintf(out, "kafka:\n");
  for (size_t i = 0; i < t->kafka_count; i++)
    fprintf(out, "  %s = %s\n", t->kafka[i].key,
            weir_secret_show(t->kafka[i].key, t->kafka[i].value));
  fprintf(out, "nodes (in processing order):\n");
  for (size_t i = 0; i < t->node_count; i++)
    print_node(t->nodes[i], out);
  if (t->store_count)
    fprintf(out, "stores:\n");
  for (size_t i = 0; i < t->store_count; i++)
    if (t->stores[i].global_topic)
      fprintf(out, "  %s: global kv, every partition of topic %s\n", t->stores[i].name,
              t->stores[i].global_topic);
    else
      fprintf(out, "  %s: %s%s, sub-topology %d, changelog %s\n", t->stores[i].name,
              t->stores[i].type, t->stores[i].in_memory ? " in memory" : "",
              t->stores[i].subtopology,
              t->stores[i].changelog_topic ? t->stores[i].changelog_topic : "off");
}

/* ---------------------------------------------------------------- dot */

/* A dot ID: prefix and name inside quotes, with quotes and backslashes escaped. */
static void dot_id(const char *prefix, const char *name, FILE *out) {
  fprintf(out, "\"%s", prefix);
  for (const char *c = name; *c; c++) {
    if (*c == '"' || *c == '\\')
      fputc('\\', out);
    fputc(*c, out);
  }
  fputc('"', out);
}

static void dot_escaped(const char *s, FILE *out) {
  for (const char *c = s; *c; c++) {
    if (*c == '"' || *c == '\\')
      fputc('\\', out);
    fputc(*c, out);
  }
}

static void dot_edge(const char *p1, const char *n1, const char *p2, const char *n2,
                     const char *attrs, FILE *out) {
  fprintf(out, "  ");
  dot_id(p1, n1, out);
  fprintf(out, " -> ");
  dot_id(p2, n2, out);
  fprintf(out, "%s;\n", attrs);
}

static void dot_topic(const char *topic, FILE *out) {
  fprintf(out, "  ");
  dot_id("topic:", topic, out);
  fprintf(out, " [shape=cylinder, label=\"");
  dot_escaped(topic, out);
  fprintf(out, "\"];\n");
}

static int listed(const char **list, size_t count, const char *s) {
  for (size_t i = 0; list && i < count; i++)
    if (strcmp(list[i], s) == 0)
      return 1;
  return 0;
}

/* Each topic once, even when one node writes what another reads. */
static void dot_topics(const weir_topology_t *t, FILE *out) {
  size_t ns = 0, nk = 0;
  const char **src = weir_topology_source_topics(t, &ns);
  const char **snk = weir_topology_sink_topics(t, &nk);
  for (size_t i = 0; src && i < ns; i++)
    dot_topic(src[i], out);
  for (size_t i = 0; snk && i < nk; i++)
    if (!listed(src, ns, snk[i]))
      dot_topic(snk[i], out);
  free((void *)src);
  free((void *)snk);
}

static void dot_node(const weir_node_t *n, FILE *out) {
  fprintf(out, "  ");
  dot_id("node:", n->name, out);
  if (n->kind == WEIR_NODE_OPERATOR) {
    fprintf(out, " [shape=box, label=\"");
    dot_escaped(n->name, out);
    fprintf(out, "\\n");
    dot_escaped(n->plugin->ref, out);
    fprintf(out, ":");
    dot_escaped(n->op->def.type, out);
    fprintf(out, "\"];\n");
    return;
  }
  fprintf(out, " [shape=%s, label=\"", n->kind == WEIR_NODE_SOURCE ? "ellipse" : "invhouse");
  dot_escaped(n->name, out);
  fprintf(out, "\"];\n");
}

static void dot_edges(const weir_node_t *n, FILE *out) {
  for (size_t i = 0; i < n->topic_count; i++)
    dot_edge("topic:", n->topics[i], "node:", n->name, "", out);
  for (size_t i = 0; i < n->child_count; i++)
    dot_edge("node:", n->name, "node:", n->children[i]->name, "", out);
  if (n->kind == WEIR_NODE_SINK && n->topic)
    dot_edge("node:", n->name, "topic:", n->topic, "", out);
  for (size_t i = 0; i < n->store_count; i++)
    dot_edge("node:", n->name, "store:", n->stores[i], " [style=dashed, arrowhead=none]", out);
}

void weir_topology_print_dot(const weir_topology_t *t, FILE *out) {
  fprintf(out, "digraph ");
  dot_id("", t->settings.application_id ? t->settings.application_id : "weir", out);
  fprintf(out, " {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
  dot_topics(t, out);
  for (size_t i = 0; i < t->node_count; i++)
    dot_node(t->nodes[i], out);
  for (size_t i = 0; i < t->store_count; i++) {
    fprintf(out, "  ");
    dot_id("store:", t->stores[i].name, out);
    fprintf(out, " [shape=box3d, label=\"");
    dot_escaped(t->stores[i].name, out);
    fprintf(out, "\\n%s store\"];\n", t->stores[i].type);
  }
  for (size_t i = 0; i < t->node_count; i++)
    dot_edges(t->nodes[i], out);
  fprintf(out, "}\n");
}

/* ---------------------------------------------------------------- params */

static void print_kind(const char *kind, const char *header, FILE *out) {
  size_t n;
  const weir_param_def_t *keys = topo_section_keys(kind, &n);
  fprintf(out, "%s\n", header);
  weir_params_print(keys, n, "  ", out);
  fprintf(out, "\n");
}

static void print_plugin_ops(const weir_plugin_t *p, FILE *out) {
  fprintf(out, "plugin %s (%s, version %s): %s\n", p->ref, p->path, or_none(p->desc.version, "-"),
          or_none(p->desc.doc, ""));
  for (size_t i = 0; i < p->op_count; i++) {
    const weir_op_info_t *op = &p->ops[i];
    fprintf(out, "\n  [operator:NAME] plugin = %s, type = %s: %s\n", p->ref, op->def.type,
            or_none(op->def.doc, ""));
    weir_params_print(op->params, op->param_count, "    ", out);
  }
  fprintf(out, "\n");
}

static void print_environment(FILE *out) {
  char a[64], b[64];
  weir_cfg_env_name("weir", "application.id", a, sizeof a);
  weir_cfg_env_name("kafka", "sasl.password", b, sizeof b);
  fprintf(out,
          "environment  (for containers and services)\n"
          "  every [weir] and [kafka] key, as %s=... or %s=...:\n"
          "  WEIR_, the section, __, the key upper-cased with each '.' as '_';\n"
          "  the file is read first, then the environment, then --set.\n"
          "  Secret values (passwords, client secrets, tokens, private keys) are printed as "
          "%s.\n\n",
          a, b, WEIR_SECRET_MASK);
}

void weir_topology_print_params(const weir_topology_t *t, FILE *out) {
  print_kind("weir", "[weir]  (required, once)", out);
  fprintf(
      out,
      "[kafka]  (optional)\n  any librdkafka property, passed through unchanged "
      "(e.g. compression.type = lz4),\n  except what breaks at-least-once: acks other than all, "
      "enable.idempotence = false,\n  auto.offset.reset other than earliest\n\n");
  print_environment(out);
  print_kind("source", "[source:NAME]  (reads Kafka topics)", out);
  print_kind("operator", "[operator:NAME]  (plus the operator's own parameters, below)", out);
  print_kind("sink", "[sink:NAME]  (writes a Kafka topic)", out);
  print_kind("store", "[store:NAME]  (a state store operators name in store =)", out);
  print_kind("global",
             "[global:NAME]  (a read-only table of a whole topic, in every instance; any "
             "operator reads it by name)",
             out);
  for (size_t i = 0; t && i < t->plugin_count; i++)
    print_plugin_ops(t->plugins[i], out);
}
