/* version — what runs each node of the topology, published atomically.
 *
 * A version is one loaded build of the topology (a reload's, with its
 * plugins in staged copies), reference-counted: by every operator instance
 * created from it, by every instance prepared from it during a swap, and by
 * every snapshot that names it. The last release unloads its plugins
 * (dlclose) and deletes their staged copies. The topology the app started
 * with is "version NULL": it lives as long as the app and is not counted.
 *
 * A snapshot (weir_published_t) is an immutable table node -> (impl,
 * version). The publisher holds the current one; a reader (a stream thread
 * opening a task) takes a reference to it, binds its instances from it and
 * releases it; a reload builds the next snapshot aside and swaps the
 * pointer. A reader therefore sees one whole snapshot, never a half-written
 * table, and no version it can still reach is unloaded.
 */
#ifndef WEIR_VERSION_VERSION_H
#define WEIR_VERSION_VERSION_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "topology/topology.h"

typedef struct weir_version {
  weir_topology_t *topo; /* owned */
  unsigned number;
  atomic_int users;
} weir_version_t;

/* A new version owning `topo`, with one user (the caller). NULL: out of memory. */
weir_version_t *weir_version_new(weir_topology_t *topo, unsigned number);
/* Take / drop one user (NULL = the app's first topology: not counted). */
void weir_version_acquire(weir_version_t *v);
void weir_version_release(weir_version_t *v);

typedef struct weir_published {
  atomic_int refs;
  size_t node_count;
  const weir_node_t **impl; /* by node index: the node that runs it */
  weir_version_t **version; /* by node index: whose it is (one user each) */
} weir_published_t;

typedef struct weir_publisher {
  pthread_mutex_t mu; /* guards `current` only: held for a pointer copy and a count */
  weir_published_t *current;
} weir_publisher_t;

/* The first snapshot: every node runs as `first` built it. 0 or -1. */
int weir_publisher_init(weir_publisher_t *p, const weir_topology_t *first);
/* Drop the current snapshot (the threads released theirs before). */
void weir_publisher_destroy(weir_publisher_t *p);

/* [any thread] A reference to the current snapshot; release it when done. */
weir_published_t *weir_publisher_acquire(weir_publisher_t *p);
void weir_published_release(weir_published_t *s);

/* [the one publisher] Publish the current snapshot with the nodes marked in
 * `moving` (by index) running `v`'s. 0 or -1 (out of memory: nothing
 * changed). */
int weir_publisher_publish(weir_publisher_t *p, const unsigned char *moving, weir_version_t *v);

#endif
