#include "http/topo_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *kind_name(weir_node_kind_t k) {
  return k == WEIR_NODE_SOURCE ? "source" : k == WEIR_NODE_OPERATOR ? "operator" : "sink";
}

static void string_or_null(weir_out_t *o, const char *s) {
  if (s)
    weir_out_json_string(o, s, strlen(s));
  else
    weir_out_str(o, "null");
}

static void string_list(weir_out_t *o, char *const *v, size_t n) {
  weir_out_str(o, "[");
  for (size_t i = 0; i < n; i++) {
    weir_out_str(o, i ? "," : "");
    weir_out_json_string(o, v[i], strlen(v[i]));
  }
  weir_out_str(o, "]");
}

static void node_json(weir_out_t *o, const weir_node_t *n) {
  weir_out_str(o, "{\"name\":");
  weir_out_json_string(o, n->name, strlen(n->name));
  weir_out_printf(o, ",\"kind\":\"%s\",\"subtopology\":%d,\"internal\":%s,\"inputs\":[",
                  kind_name(n->kind), n->subtopology, n->internal ? "true" : "false");
  for (size_t i = 0; i < n->input_count; i++) {
    weir_out_str(o, i ? "," : "");
    weir_out_json_string(o, n->inputs[i]->name, strlen(n->inputs[i]->name));
  }
  weir_out_str(o, "],\"topics\":");
  if (n->kind == WEIR_NODE_SINK)
    string_list(o, n->topic ? (char *const *)&n->topic : NULL, n->topic ? 1 : 0);
  else
    string_list(o, n->topics, n->kind == WEIR_NODE_SOURCE ? n->topic_count : 0);
  weir_out_str(o, ",\"stores\":");
  string_list(o, n->stores, n->kind == WEIR_NODE_OPERATOR ? n->store_count : 0);
  weir_out_str(o, ",\"type\":");
  string_or_null(o, n->kind == WEIR_NODE_OPERATOR && n->op ? n->op->def.type : NULL);
  weir_out_str(o, "}");
}

static void topology_json(const weir_topology_t *t, weir_out_t *o) {
  weir_out_str(o, "{\"application_id\":");
  string_or_null(o, t->settings.application_id);
  weir_out_printf(o, ",\"subtopologies\":%d,\"nodes\":[", t->subtopology_count);
  for (size_t i = 0; i < t->node_count; i++) {
    weir_out_str(o, i ? "," : "");
    node_json(o, t->nodes[i]);
  }
  weir_out_str(o, "],\"stores\":[");
  for (size_t i = 0; i < t->store_count; i++) {
    const weir_store_decl_t *d = &t->stores[i];
    weir_out_str(o, i ? ",{\"name\":" : "{\"name\":");
    weir_out_json_string(o, d->name, strlen(d->name));
    weir_out_printf(o,
                    ",\"type\":\"%s\",\"backend\":\"%s\",\"subtopology\":%d,"
                    "\"key_serde\":\"%s\",\"value_serde\":\"%s\",\"changelog\":",
                    d->type, d->in_memory ? "memory" : "rocksdb", d->subtopology,
                    weir_serde_name(d->key_serde), weir_serde_name(d->value_serde));
    string_or_null(o, d->changelog_topic);
    weir_out_str(o, "}");
  }
  weir_out_str(o, "]}\n");
}

void weir_topo_view_handle(const weir_http_env_t *env, const weir_http_req_t *req,
                           weir_http_resp_t *r) {
  const char *format = weir_http_arg(req, "format");
  if (!format || strcmp(format, "json") == 0) {
    topology_json(env->topo, &r->body);
    return;
  }
  if (strcmp(format, "dot") != 0) {
    weir_http_error(r, 400, "format=%.32s: give json or dot", format);
    return;
  }
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) {
    weir_http_error(r, 500, "out of memory");
    return;
  }
  weir_topology_print_dot(env->topo, f);
  fclose(f);
  r->content_type = "text/vnd.graphviz; charset=utf-8";
  weir_out_bytes(&r->body, text, len);
  free(text);
}
