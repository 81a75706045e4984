/* swap — the hot swap of operator implementations while records flow.
 *
 * A reload builds a new version of the topology from the INI file, loading
 * its plugins from unique staged copies (dlopen caches by path, so the same
 * path twice would return the old code). The structure must be the same;
 * the operator nodes whose plugin file or parameters changed move to the new
 * version. The coordinator (reload.c) and the stream threads then go through
 * two phases, each thread between two records of its loop:
 *   PREPARE: each thread creates the new instance of every moving node in
 *            each of its tasks (the new init), beside the old one, and
 *            reports; any failure anywhere aborts the whole swap;
 *   COMMIT:  each thread closes the old instance (or save()s it and load()s
 *            the new one from that state) and the new one takes over;
 *   ABORT:   each thread closes the prepared instances: nothing changed.
 * A version is reference-counted by the instances bound to it (plus one per
 * node for which it is current); the last release unloads its plugins and
 * deletes their staged copies.
 */
#ifndef WEIR_RELOAD_SWAP_H
#define WEIR_RELOAD_SWAP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "topology/topology.h"

typedef struct weir_version {
  weir_topology_t *topo; /* owned (the app's first version has no weir_version_t) */
  unsigned number;
  atomic_int users;
} weir_version_t;

enum { WEIR_SWAP_IDLE = 0, WEIR_SWAP_PREPARE = 1, WEIR_SWAP_COMMIT = 2, WEIR_SWAP_ABORT = 3 };

typedef struct weir_swap {
  /* What runs each node now (by node index): read by tasks that open. */
  const weir_node_t **current_impl;
  weir_version_t **current_version;
  size_t node_count;

  /* The swap in progress. */
  atomic_uint request; /* bumped per phase change; threads compare */
  atomic_int phase;
  weir_version_t *next;  /* the version moving in */
  unsigned char *moving; /* by node index */
  atomic_int acks;       /* threads done with the current phase */
  atomic_int failed;
  pthread_mutex_t mu;
  char why[768];             /* the first failure */
  atomic_llong max_pause_us; /* the longest a thread (so its tasks) stood still in one phase */
  atomic_llong swapped;      /* instances moved by the last commit */
} weir_swap_t;

int weir_swap_init(weir_swap_t *s, const weir_topology_t *first);
void weir_swap_destroy(weir_swap_t *s);

/* Take / drop one user of a version (NULL = the first version: no count). */
void weir_version_acquire(weir_version_t *v);
void weir_version_release(weir_version_t *v);

/* Record the first failure of a phase (any thread). */
void weir_swap_fail(weir_swap_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
