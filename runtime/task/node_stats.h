/* node_stats — what the host counts for each node and each record policy:
 * records in and out, errors, and a sampled processing-time histogram per
 * node; deserialization errors, skipped and dead-lettered records per
 * thread.
 *
 * Kept per stream thread, not per task, so a count survives its task moving
 * to another thread or instance (a Prometheus counter must never go down).
 * Only the owning thread writes them, with plain increments: it also copies
 * them, once a second, to where the HTTP thread reads (http/ownership.h),
 * so the record path has no atomic and no lock.
 *
 * Time: one call in WEIR_STATS_TIME_EVERY is timed (two clock reads), so
 * the cost per record stays a counter increment. A node's time includes
 * its children's: forwarding calls them synchronously.
 */
#ifndef WEIR_TASK_NODE_STATS_H
#define WEIR_TASK_NODE_STATS_H

#include <stddef.h>
#include <stdint.h>

#define WEIR_STATS_TIME_EVERY 16 /* a power of two */
#define WEIR_STATS_BUCKETS 12    /* upper bounds 1 µs × 4^i, the last +Inf */

typedef struct weir_node_stats {
  uint64_t in, out, errors;
  uint64_t timed;                      /* calls timed */
  uint64_t time_ns;                    /* their summed time */
  uint64_t bucket[WEIR_STATS_BUCKETS]; /* not cumulative: each call in one */
} weir_node_stats_t;

/* Inputs the record policies dealt with (task_process.c). */
typedef struct weir_policy_stats {
  uint64_t deserialization_errors; /* bad key, value or timestamp */
  uint64_t processing_errors;      /* an operator failed on the record */
  uint64_t skipped;                /* by a skip policy */
  uint64_t dead_lettered;          /* sent to the dead-letter topic */
} weir_policy_stats_t;

/* The upper bound of bucket i in seconds (+Inf for the last). */
double weir_stats_bucket_bound(int i);
/* Count one timed call of `ns` nanoseconds. */
void weir_node_stats_time(weir_node_stats_t *s, uint64_t ns);
/* A monotonic clock in ns, for timing. */
uint64_t weir_stats_now_ns(void);
/* to += from, field by field. */
void weir_node_stats_add(weir_node_stats_t *to, const weir_node_stats_t *from);
void weir_policy_stats_add(weir_policy_stats_t *to, const weir_policy_stats_t *from);

#endif
