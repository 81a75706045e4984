/* topology_operator — an [operator:NAME] section: its own keys, then the
 * plugin it names, the operator type, and that operator's parameters. */
#include <stdlib.h>
#include <string.h>

#include "topology/topology_internal.h"

/* Keys the host reads itself; everything else belongs to the operator. */
static const char *const reserved_keys[] = {"plugin", "type", "input", "store", "group.by", NULL};

/* The one entry for `key`; repeating it or omitting a required one is an
 * error. */
static const weir_cfg_entry_t *single_entry(topo_build_t *b, const weir_cfg_section_t *s,
                                            const char *key, int required) {
  const weir_cfg_entry_t *first = NULL;
  for (size_t i = 0; i < s->entry_count; i++) {
    const weir_cfg_entry_t *e = &s->entries[i];
    if (strcmp(e->key, key) != 0)
      continue;
    if (first) {
      char label[160], msg[600];
      snprintf(label, sizeof label, "[operator:%s]", s->name);
      weir_cfg_repeat_msg(e, first->line, label, msg, sizeof msg);
      topo_error(b, e->line, "%s", msg);
    } else
      first = e;
  }
  if (!first && required)
    topo_error(b, s->line, "[operator:%s] needs '%s'; add '%s = ...'", s->name, key, key);
  return first;
}

static weir_plugin_t *find_loaded(const weir_topology_t *t, const char *ref) {
  for (size_t i = 0; i < t->plugin_count; i++)
    if (strcmp(t->plugins[i]->ref, ref) == 0)
      return t->plugins[i];
  return NULL;
}

weir_plugin_t *topo_plugin_for(topo_build_t *b, const char *ref, int line) {
  weir_topology_t *t = b->t;
  weir_plugin_t *p = find_loaded(t, ref);
  if (p)
    return p;
  weir_plugin_t **grown = realloc(t->plugins, (t->plugin_count + 1) * sizeof *grown);
  if (!grown) {
    topo_error(b, line, "out of memory loading plugin '%s'", ref);
    return NULL;
  }
  t->plugins = grown;
  char err[1024] = "";
  p = weir_plugin_open(ref, &b->search, err, sizeof err);
  if (!p) {
    topo_error(b, line, "cannot load plugin '%s': %s", ref, err);
    return NULL;
  }
  t->plugins[t->plugin_count++] = p;
  return p;
}

static void op_types(const weir_plugin_t *p, char *buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < p->op_count; i++) {
    int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", p->ops[i].def.type);
    if (n < 0 || (size_t)n >= size - used)
      return;
    used += (size_t)n;
  }
}

static const weir_op_info_t *op_for(topo_build_t *b, const weir_plugin_t *p,
                                    const weir_cfg_entry_t *type) {
  const weir_op_info_t *op = weir_plugin_find_op(p, type->value);
  if (!op) {
    char types[600];
    op_types(p, types, sizeof types);
    topo_error(b, type->line, "plugin '%s' (%s) has no operator type '%s'; its types are: %s",
               p->ref, p->path, type->value, *types ? types : "(none)");
  } else if (op->def.flags & WEIR_OP_TIMESTAMP_EXTRACTOR) {
    topo_error(b, type->line,
               "plugin '%s' type '%s' is a timestamp extractor, not an operator: name it in a "
               "source as 'timestamp = extractor:%s.%s'",
               p->ref, type->value, p->ref, type->value);
    return NULL;
  }
  return op;
}

static void read_plugin(topo_build_t *b, const weir_cfg_section_t *s, weir_node_t *n) {
  const weir_cfg_entry_t *plugin = single_entry(b, s, "plugin", 1);
  const weir_cfg_entry_t *type = single_entry(b, s, "type", 1);
  n->plugin = plugin ? topo_plugin_for(b, plugin->value, plugin->line) : NULL;
  n->op = n->plugin && type ? op_for(b, n->plugin, type) : NULL;
  /* Without the operator's table its keys cannot be told from typos. */
  if (n->op && weir_params_bind(n->op->params, n->op->param_count, b->cfg, s, reserved_keys,
                                &n->params, b->d))
    b->errors++;
}

void topo_read_operator(topo_build_t *b, const weir_cfg_section_t *s) {
  topo_pending_t *pn = topo_new_node(b, s, WEIR_NODE_OPERATOR);
  if (!pn)
    return;
  weir_node_t *n = pn->node;
  const weir_cfg_entry_t *input = single_entry(b, s, "input", 1);
  if (input) {
    pn->input_line = input->line;
    pn->input_names = topo_split_list(b, input->value, input->line, "input", &pn->input_count);
  }
  const weir_cfg_entry_t *store = single_entry(b, s, "store", 0);
  if (store)
    n->stores = topo_split_list(b, store->value, store->line, "store", &n->store_count);
  const weir_cfg_entry_t *group_by = single_entry(b, s, "group.by", 0);
  if (group_by && topo_check_group_by(b, group_by->value, group_by->line, s->name) == 0)
    n->group_by = strdup(group_by->value);
  read_plugin(b, s, n);
}
