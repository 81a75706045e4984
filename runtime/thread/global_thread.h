/* global_thread — the global tables ([global:NAME]) of a process: each
 * filled from every partition of its topic by one consumer outside the
 * consumer group (assign(), never subscribe()), so every instance holds
 * the whole table and a lookup needs no co-partitioning.
 *
 * weir_global_start reads each table's topic, on the caller's thread, up
 * to the end offsets it captures first (from the checkpoints of the rows
 * already in RocksDB: a restart reads only what is new), and returns once
 * every table is there: the app starts its stream threads after it, so no
 * record is processed against a table that is still loading. It then
 * starts one thread (weir-global) that keeps every table current, a poll's
 * records and their checkpoints in one RocksDB batch, until stopped.
 *
 * The topic is the table's changelog: a value sets its key, a tombstone
 * deletes it, a record without a key is skipped. No changelog topic is made.
 */
#ifndef WEIR_THREAD_GLOBAL_THREAD_H
#define WEIR_THREAD_GLOBAL_THREAD_H

#include <stdatomic.h>
#include <stddef.h>

#include "state/state_db.h"
#include "topology/topology.h"

typedef struct weir_global weir_global_t;

/* What the global thread needs from the app: where to say that it failed
 * (the app stops), and the flag that stops it. */
typedef struct weir_global_env {
  const weir_topology_t *topo;
  const char *bootstrap;
  weir_state_db_t *db;
  atomic_int *stopping;
  void (*fail)(void *app, const char *message);
  void *app;
} weir_global_env_t;

/* Restore every global table of env->topo, then start the thread keeping
 * them current. 0 and *out (NULL when the topology has none), or -1 and
 * errstr (a topic that cannot be read, RocksDB, the app stopping). */
int weir_global_start(const weir_global_env_t *env, weir_global_t **out, char *errstr,
                      size_t errstr_size);
/* Stop the thread (it finishes its batch), close the consumer, free. */
void weir_global_stop(weir_global_t *g);

#endif
