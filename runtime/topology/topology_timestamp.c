/* topology_timestamp — a source's `timestamp =`: record, json:PATH or
 * extractor:PLUGIN.TYPE (task/timestamp.h says what each reads). */
#include <stdlib.h>
#include <string.h>

#include "topology/topology_internal.h"

/* The extractor types of `p`, for the error that names none of them. */
static void extractor_types(const weir_plugin_t *p, char *buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < p->op_count; i++) {
    if (!(p->ops[i].def.flags & WEIR_OP_TIMESTAMP_EXTRACTOR))
      continue;
    int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", p->ops[i].def.type);
    if (n < 0 || (size_t)n >= size - used)
      return;
    used += (size_t)n;
  }
}

static int is_param(const weir_op_info_t *op, const char *key) {
  for (size_t i = 0; i < op->param_count; i++)
    if (strcmp(op->params[i].name, key) == 0)
      return 1;
  return 0;
}

/* Every key of the section that is not the extractor's: its binder skips
 * them, so an unknown key is reported once, by the source's binder (which
 * lists the extractor's keys among the known ones). */
static const char **other_keys(const weir_cfg_section_t *s, const weir_op_info_t *op) {
  const char **names = calloc(s->entry_count + 1, sizeof *names);
  size_t n = 0;
  for (size_t i = 0; names && i < s->entry_count; i++)
    if (!is_param(op, s->entries[i].key))
      names[n++] = s->entries[i].key;
  return names;
}

/* The extractor's parameter names plus `input`: what the source's binder skips. */
static const char **extractor_keys(const weir_op_info_t *op) {
  const char **names = calloc(op->param_count + 2, sizeof *names);
  for (size_t i = 0; names && i < op->param_count; i++)
    names[i] = op->params[i].name;
  if (names)
    names[op->param_count] = "input";
  return names;
}

static void read_extractor(topo_build_t *b, const weir_cfg_section_t *s, weir_node_t *n,
                           const weir_cfg_entry_t *e, const char *spec, const char ***reserved) {
  char ref[512], types[600];
  const char *dot = strrchr(spec, '.');
  if (!dot || dot == spec || !dot[1] || (size_t)(dot - spec) >= sizeof ref) {
    topo_error(b, e->line,
               "[source:%s] timestamp = %s: write 'extractor:PLUGIN.TYPE' (e.g. "
               "extractor:myplugin.event-time)",
               s->name, e->value);
    return;
  }
  memcpy(ref, spec, (size_t)(dot - spec));
  ref[dot - spec] = '\0';
  weir_plugin_t *p = topo_plugin_for(b, ref, e->line);
  if (!p)
    return;
  const weir_op_info_t *op = weir_plugin_find_op(p, dot + 1);
  if (!op || !(op->def.flags & WEIR_OP_TIMESTAMP_EXTRACTOR) || !op->def.extract_timestamp) {
    extractor_types(p, types, sizeof types);
    topo_error(b, e->line,
               "[source:%s] timestamp = %s: plugin '%s' (%s) has no timestamp extractor type "
               "'%s' (a type flagged WEIR_OP_TIMESTAMP_EXTRACTOR); its extractors are: %s",
               s->name, e->value, p->ref, p->path, dot + 1, *types ? types : "(none)");
    return;
  }
  n->plugin = p;
  n->op = op;
  n->ts_mode = WEIR_TS_EXTRACTOR;
  const char **skip = other_keys(s, op);
  if (!skip || weir_params_bind(op->params, op->param_count, b->cfg, s, skip, &n->params, b->d))
    b->errors++;
  free(skip);
  *reserved = extractor_keys(op);
}

void topo_read_timestamp(topo_build_t *b, const weir_cfg_section_t *s, weir_node_t *n,
                         const char ***reserved) {
  const weir_cfg_entry_t *e = weir_cfg_entry(s, "timestamp");
  *reserved = NULL;
  n->ts_mode = WEIR_TS_RECORD;
  if (!e || strcmp(e->value, "record") == 0)
    return;
  if (strncmp(e->value, "json:", 5) == 0 && e->value[5]) {
    n->ts_mode = WEIR_TS_JSON;
    n->ts_path = strdup(e->value + 5);
    if (!n->ts_path)
      topo_error(b, e->line, "out of memory reading [source:%s]", s->name);
  } else if (strncmp(e->value, "extractor:", 10) == 0) {
    read_extractor(b, s, n, e, e->value + 10, reserved);
  } else {
    topo_error(b, e->line,
               "[source:%s] timestamp = %s: expected record, json:PATH (a member of the JSON "
               "value) or extractor:PLUGIN.TYPE",
               s->name, e->value);
  }
}
