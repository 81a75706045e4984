/* ownership — what this instance's stream threads own, published for the
 * HTTP thread.
 *
 * One slot per (sub-topology, partition): whether a task of this process
 * owns it and runs it, restores it, or does not have it; its stream time,
 * consumer lag and restore progress. Stream threads write their own slots
 * (at a rebalance, when a restore ends, and once a second from their loop),
 * the HTTP thread reads any slot. Every field is an atomic written with a
 * plain store, so a stream thread never waits for a reader.
 *
 * A query reads a slot's generation and state, reads the store, and reads
 * the generation again: any change of owner or state in between (a
 * rebalance, a restore beginning) bumps the generation, and the answer is
 * 503 rather than a value from a store this instance may no longer own.
 *
 * Operators' own counters (weir_metric_add) live in task memory that only
 * the owning thread may touch; each thread copies them once a second into
 * its own table here, under that table's mutex, which the HTTP thread holds
 * only for a copy.
 */
#ifndef WEIR_HTTP_OWNERSHIP_H
#define WEIR_HTTP_OWNERSHIP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "task/node_stats.h"

typedef enum weir_own_state {
  WEIR_OWN_NONE = 0,      /* not in this process (elsewhere, or unassigned) */
  WEIR_OWN_RESTORING = 1, /* assigned here, its stores still restoring */
  WEIR_OWN_RUNNING = 2
} weir_own_state_t;

typedef struct weir_own_slot {
  atomic_uint gen;          /* bumped after every change of state */
  atomic_int state;         /* weir_own_state_t */
  atomic_int thread;        /* the owning stream thread, when owned */
  atomic_llong stream_time; /* ms; -1 before the first record */
  atomic_llong lag;         /* records behind the high watermark; -1 unknown */
  atomic_llong buffered;    /* records queued, not processed yet */
  atomic_llong position;    /* its partitions' next offsets summed: a rate is its change */
  atomic_llong restore_done, restore_total; /* changelog records, while restoring */
  atomic_llong enforced; /* waits for an empty input that expired (task/task_idle.h) */
} weir_own_slot_t;

/* One operator counter, summed over a thread's tasks. */
typedef struct weir_own_metric {
  int node;   /* the node's index in the topology */
  char *name; /* owned by the table */
  int64_t value;
} weir_own_metric_t;

typedef struct weir_own_thread {
  atomic_ullong rebalances, commits, commit_us; /* commit_us: summed commit time */
  atomic_ullong fetch_wakes;                    /* kafka/fetch_wake.h */
  atomic_ullong resent;                         /* records sent again (thread/resend.h) */
  atomic_int assigned;                          /* 1 once the group gave it an assignment */
  pthread_mutex_t mu;                           /* guards what follows */
  weir_own_metric_t *metrics;
  size_t metric_count;
  weir_node_stats_t *node_stats; /* by node index: the thread's copy */
  size_t node_count;
  weir_policy_stats_t policy_stats;
} weir_own_thread_t;

typedef struct weir_ownership {
  int subtopologies;
  int32_t *partitions;     /* by sub-topology: partition count (0 = unknown) */
  weir_own_slot_t **slots; /* by sub-topology, by partition */
  int thread_count;
  weir_own_thread_t *threads;
} weir_ownership_t;

/* partitions[sub] gives each sub-topology's partition count. NULL: out of memory. */
weir_ownership_t *weir_ownership_new(int subtopologies, const int32_t *partitions, int threads);
void weir_ownership_free(weir_ownership_t *o);

/* The slot of a task, or NULL (a partition beyond what the table knows). */
weir_own_slot_t *weir_ownership_slot(const weir_ownership_t *o, int subtopology, int32_t partition);
/* [the owning stream thread] Set a slot's state (and bump its generation
 * when it changes). */
void weir_ownership_set(weir_ownership_t *o, int subtopology, int32_t partition,
                        weir_own_state_t state, int thread);

/* [the stream thread] Replace thread `thread`'s operator counters with
 * `metrics` (taken over; freed with the next replacement). */
void weir_ownership_set_metrics(weir_ownership_t *o, int thread, weir_own_metric_t *metrics,
                                size_t count);
/* [any thread] A copy of every thread's operator counters, summed by node
 * and name. Free with weir_ownership_metrics_free. -1 on out of memory. */
int weir_ownership_metrics(weir_ownership_t *o, weir_own_metric_t **out, size_t *count);
void weir_ownership_metrics_free(weir_own_metric_t *m, size_t count);

/* [the stream thread] Copy thread `thread`'s node and policy counters
 * (task/node_stats.h). -1 on out of memory (the previous copy stays). */
int weir_ownership_set_stats(weir_ownership_t *o, int thread, const weir_node_stats_t *nodes,
                             size_t node_count, const weir_policy_stats_t *policy);
/* [any thread] Every thread's counters summed: *nodes (node_count entries,
 * free() it) and *policy. -1 on out of memory. */
int weir_ownership_stats(weir_ownership_t *o, size_t node_count, weir_node_stats_t **nodes,
                         weir_policy_stats_t *policy);

#endif
