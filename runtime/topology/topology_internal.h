/* topology_internal — shared by the files that build a topology; not an API. */
#ifndef WEIR_TOPOLOGY_INTERNAL_H
#define WEIR_TOPOLOGY_INTERNAL_H

#include "topology/topology.h"

/* A node while the graph is being linked: where it was written and the
 * input names still to resolve. */
typedef struct topo_pending {
  weir_node_t *node;
  const weir_cfg_section_t *section;
  char **input_names;
  size_t input_count;
  int input_line; /* the line of `input =` */
  int broken;     /* an input did not resolve: its errors are already out */
} topo_pending_t;

typedef struct topo_build {
  const weir_cfg_t *cfg;
  weir_diag_t *d;
  weir_topology_t *t;
  weir_plugin_search_t search;
  topo_pending_t *pending; /* one per node, in file order (as t->nodes is until sorted) */
  size_t pending_cap;
  int errors;
} topo_build_t;

/* One diagnostic line at cfg's file (or "--set" for line 0), counted. */
void topo_error(topo_build_t *b, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same naming the INI file itself, for problems with no line. */
void topo_error_file(topo_build_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Splits "a, b , c" into trimmed strdup'ed items; an empty item is an
 * error at `line`. NULL-safe to free with topo_free_list. */
char **topo_split_list(topo_build_t *b, const char *text, int line, const char *what,
                       size_t *count);
void topo_free_list(char **items, size_t count);

/* Key tables of the built-in section kinds (also printed by --params). */
const weir_param_def_t *topo_section_keys(const char *kind, size_t *count);
/* Why `key = value` in a section of `kind` is declared but not built yet,
 * or NULL when it is built; topo_refuse_not_built reports each such entry
 * of the file with its line. */
const char *topo_not_built(const char *kind, const char *key, const char *value);
void topo_refuse_not_built(topo_build_t *b);

/* A new node for section `s` (its name must be unused), registered as
 * pending; NULL after reporting why not. */
topo_pending_t *topo_new_node(topo_build_t *b, const weir_cfg_section_t *s, weir_node_kind_t kind);
/* A bound value's text (and line), or NULL. */
const char *topo_param_text(const weir_params_t *p, const char *name, int *line);
/* One [operator:NAME] section: its keys, plugin, type and parameters. */
void topo_read_operator(topo_build_t *b, const weir_cfg_section_t *s);

/* The plugin `ref` (loaded once per topology); NULL after reporting at line. */
weir_plugin_t *topo_plugin_for(topo_build_t *b, const char *ref, int line);
/* A source's `timestamp =` (topology_timestamp.c): its mode, and for an
 * extractor its plugin, type and parameters (the section's keys that are not
 * the source's own). The keys the source's own binder must leave to the
 * extractor go to *reserved (NULL-terminated, free() it; NULL: none). */
void topo_read_timestamp(topo_build_t *b, const weir_cfg_section_t *s, weir_node_t *n,
                         const char ***reserved);

/* [weir] and [kafka]. */
void topo_read_settings(topo_build_t *b);
/* [source:*], [operator:*], [sink:*], [store:*], and unknown kinds. */
void topo_read_nodes(topo_build_t *b);
/* Inputs, children, store references, cycles, reachability, order. */
void topo_link(topo_build_t *b);

void topo_node_free(weir_node_t *n);

/* A host-made node named `name`, registered as pending with the section of
 * the operator at pending index `op` (the pending list may move meanwhile);
 * `what` (a literal) says what for. NULL after reporting why not. */
weir_node_t *topo_internal_node(topo_build_t *b, size_t op, const char *name, weir_node_kind_t kind,
                                const char *what);
/* For each std join with kind = foreign-key: its right half (an operator
 * reading the right input and the subscriptions) and the two internal
 * topics between the halves. Runs after the inputs resolve. */
void topo_add_fk_joins(topo_build_t *b);

/* `group.by` text: 'value' or 'json:PATH'. 0, or -1 after reporting. */
int topo_check_group_by(topo_build_t *b, const char *text, int line, const char *op);
/* For each operator with `group.by`: a re-keying sink writing
 * "<application.id>-<operator>-repartition" and a source reading it back,
 * which becomes the operator's only input. Runs after the inputs resolve. */
void topo_add_repartitions(topo_build_t *b);
/* After the sub-topologies are known: each store's sub-topology and
 * changelog topic, and the list of internal topics. */
void topo_assign_stores(topo_build_t *b);

#endif
