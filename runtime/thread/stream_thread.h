/* stream_thread — one member of the consumer group: its own consumer and
 * producer, and the tasks of the partitions assigned to it. Everything it
 * owns is touched only by its own thread (librdkafka's callbacks for its
 * clients are served from its own poll calls), so the record path takes no
 * lock.
 */
#ifndef WEIR_THREAD_STREAM_THREAD_H
#define WEIR_THREAD_STREAM_THREAD_H

#include <stdatomic.h>
#include <stddef.h>

#include "topology/topology.h"

typedef struct weir_stream_thread weir_stream_thread_t;

/* What a stream thread shares with the rest of the process. */
typedef struct weir_thread_shared {
  const weir_topology_t *topo;
  const char *bootstrap; /* resolved ("embedded" replaced by the address) */
  atomic_int *stopping;  /* set to stop every thread */
  /* [any thread] report a failure that must stop the app (exit code 1). */
  void (*fail)(void *app, const char *message);
  void *app;
  int shutdown_timeout_ms;                /* bound on flush and commit at revoke and stop */
  struct weir_state_db *state_db;         /* NULL: no stores */
  struct weir_cache_budget *cache_budget; /* cache.max.bytes */
  struct weir_swap *swap;                 /* hot swaps (reload/swap.h) */
  const char *instance_id;                /* stable per instance: exactly_once's transactional.id */
  struct weir_ownership *owners;          /* for the HTTP server (http/ownership.h) */
} weir_thread_shared_t;

/* Create the thread's clients and subscribe (nothing runs yet). */
weir_stream_thread_t *weir_stream_thread_new(const weir_thread_shared_t *shared, int index,
                                             char *errstr, size_t errstr_size);
int weir_stream_thread_start(weir_stream_thread_t *t);
/* Wait for the thread to finish its shutdown (after *stopping is set). */
void weir_stream_thread_join(weir_stream_thread_t *t);
void weir_stream_thread_free(weir_stream_thread_t *t);

/* Records processed so far (read from any thread; approximate while running). */
unsigned long long weir_stream_thread_processed(const weir_stream_thread_t *t);

#endif
