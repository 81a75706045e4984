/* inspect — libweir's calls that read a topology or a plugin without
 * running it: what `weir validate`, `describe`, `plugin info` and `reload`
 * are made of (weir/runtime.h, 1.1). */
#include <weir/runtime.h>

#include <stdio.h>

#include "embed/build.h"
#include "plugin/loader.h"
#include "reload/control.h"
#include "task/task.h"
#include "topology/topology.h"

#define PUBLIC __attribute__((visibility("default")))

static void print_count(FILE *out, size_t n, const char *what, const char *sep) {
  if (n)
    fprintf(out, "%s%zu %s%s", sep, n, what, n == 1 ? "" : "s");
}

/* What the user wrote, then what weir added to it: a group.by inserts a
 * sink and a source per repartition, a foreign-key join its right half and
 * two sinks and sources; none are the user's sections. */
static void print_valid(FILE *out, const char *file, const weir_topology_t *t) {
  size_t kinds[4] = {0}, repartitions = 0, globals = 0, fk_halves = 0;
  for (size_t i = 0; i < t->node_count; i++) {
    const weir_node_t *n = t->nodes[i];
    if (!n->internal)
      kinds[n->kind]++;
    else if (n->kind == WEIR_NODE_OPERATOR)
      fk_halves++; /* a foreign-key join's right half, with two topics */
    else if (n->kind == WEIR_NODE_SINK && !n->sized_by_reader)
      repartitions++;
  }
  for (size_t i = 0; i < t->store_count; i++)
    globals += t->stores[i].global_topic != NULL;
  fprintf(out, "%s: valid (", file);
  print_count(out, kinds[WEIR_NODE_SOURCE], "source", "");
  print_count(out, kinds[WEIR_NODE_OPERATOR], "operator", ", "); /* a valid one has a source */
  print_count(out, kinds[WEIR_NODE_SINK], "sink", ", ");
  print_count(out, t->store_count - globals, "store", ", ");
  print_count(out, globals, "global table", ", ");
  print_count(out, t->plugin_count, "plugin", "; ");
  if (!t->plugin_count)
    fprintf(out, "; no plugins");
  if (repartitions)
    fprintf(out, "; +%zu repartition%s inserted", repartitions, repartitions == 1 ? "" : "s");
  if (fk_halves)
    fprintf(out, "; +%zu foreign-key join%s split in two (+%zu topics)", fk_halves,
            fk_halves == 1 ? "" : "s", 2 * fk_halves);
  fprintf(out, ")\n");
}

PUBLIC int weir_runtime_validate_file(const char *path, const weir_runtime_options_t *opts,
                                      FILE *out, char *errstr, size_t errstr_size) {
  weir_topology_t *t = weir_embed_build_file(path, opts, errstr, errstr_size);
  if (!t)
    return -1;
  int rc = weir_task_dry_run(t, errstr, errstr_size);
  if (rc == 0 && out)
    print_valid(out, path, t);
  weir_topology_free(t);
  return rc ? -1 : 0;
}

PUBLIC int weir_runtime_describe_file(const char *path, const weir_runtime_options_t *opts,
                                      weir_runtime_describe_format_t format, FILE *out,
                                      char *errstr, size_t errstr_size) {
  if (!out || (unsigned)format > WEIR_RUNTIME_DESCRIBE_PARAMS) {
    snprintf(errstr, errstr_size, "weir_runtime_describe_file: %s",
             out ? "unknown format (TEXT, DOT or PARAMS)" : "no output stream given");
    return -1;
  }
  weir_topology_t *t = weir_embed_build_file(path, opts, errstr, errstr_size);
  if (!t)
    return -1;
  if (format == WEIR_RUNTIME_DESCRIBE_DOT)
    weir_topology_print_dot(t, out);
  else if (format == WEIR_RUNTIME_DESCRIBE_PARAMS)
    weir_topology_print_params(t, out);
  else
    weir_topology_print_text(t, out);
  weir_topology_free(t);
  return 0;
}

PUBLIC int weir_runtime_describe_plugin(const char *path, FILE *out, char *errstr,
                                        size_t errstr_size) {
  if (!path || !out) {
    snprintf(errstr, errstr_size, "weir_runtime_describe_plugin: no %s given",
             path ? "output stream" : "plugin path");
    return -1;
  }
  weir_plugin_t *p = weir_plugin_load_file(path, path, errstr, errstr_size);
  if (!p)
    return -1;
  weir_plugin_print_info(p, out);
  weir_plugin_close(p);
  return 0;
}

PUBLIC int weir_runtime_request_reload(const char *path, const weir_runtime_options_t *opts,
                                       char *report, size_t report_size) {
  char sock[256];
  weir_topology_t *t = weir_embed_build_file(path, opts, report, report_size);
  if (!t)
    return -1;
  int bad = weir_control_socket_path(t->settings.state_dir, t->settings.application_id, sock,
                                     sizeof sock);
  weir_topology_free(t);
  if (bad) {
    snprintf(report, report_size, "the control socket path under %s is too long", path);
    return -1;
  }
  return weir_control_request(sock, report, report_size) == 0 ? 0 : 1;
}
