/* swap — the protocol of a hot swap between the reloader (the coordinator,
 * reload.c) and the stream threads (the members).
 *
 * A reload builds a new version of the topology (version/version.h); the
 * operator nodes whose plugin file or parameters changed move to it. The
 * coordinator then runs phases, each served by every member between two
 * records of its loop, for its own tasks:
 *   PREPARE: create the new instance of every moving node beside the old
 *            one (the new init); any failure anywhere aborts the swap;
 *   then the new snapshot is published (tasks opened from now on start on
 *   the new version), and
 *   COMMIT:  the old instance closes (or save()s its state for the new
 *            one's load()); the new one takes over;
 *   ABORT:   the prepared instances close: nothing changed.
 *
 * Every phase carries a generation, swap number * 4 + phase: a member
 * compares it for equality with the one it served last, and its reply is
 * that generation, so a late reply to an earlier phase is never taken for
 * the current one. Members join and leave (a thread starting or stopping):
 * the coordinator waits for the members present, so one that leaves
 * mid-swap is not waited for, and one that joins serves the phase in
 * progress. A phase's version and moving table stay valid until every
 * member present has replied to the last phase.
 */
#ifndef WEIR_RELOAD_SWAP_H
#define WEIR_RELOAD_SWAP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "topology/topology.h"
#include "version/version.h"

enum { WEIR_SWAP_IDLE = 0, WEIR_SWAP_PREPARE = 1, WEIR_SWAP_COMMIT = 2, WEIR_SWAP_ABORT = 3 };

/* A stream thread taking part: joined from its first loop to its last. */
typedef struct weir_swap_member {
  int index;          /* the thread's number, for the log */
  atomic_uint served; /* the generation it finished last */
  unsigned serving;   /* begin .. done: the generation being served */
  int64_t started_us;
  struct weir_swap_member *next; /* the swap's list, under its mutex */
} weir_swap_member_t;

/* What a member serves: valid from weir_swap_begin to weir_swap_done. */
typedef struct weir_swap_phase {
  int phase;
  weir_version_t *next;        /* the version moving in */
  const unsigned char *moving; /* by node index */
} weir_swap_phase_t;

typedef struct weir_swap {
  weir_publisher_t versions; /* what runs each node now: tasks that open bind from it */

  /* The swap in progress, written by the coordinator before it publishes
   * a generation (release) and read by members after (acquire). */
  atomic_uint generation;
  unsigned swaps; /* the coordinator's count: the next swap's number */
  weir_version_t *next;
  unsigned char *moving;

  pthread_mutex_t mu; /* members, why */
  weir_swap_member_t *members;
  atomic_int failed;
  char why[768];             /* the first failure */
  atomic_llong max_pause_us; /* the longest a thread (so its tasks) stood still in one phase */
  atomic_llong swapped;      /* instances moved by the last commit */
} weir_swap_t;

int weir_swap_init(weir_swap_t *s, const weir_topology_t *first);
void weir_swap_destroy(weir_swap_t *s);

/* [stream thread] Join before the first weir_swap_begin; leave after the
 * last. A member that leaves may still close prepared instances: they hold
 * their own reference to their version. */
void weir_swap_join(weir_swap_t *s, weir_swap_member_t *m, int index);
void weir_swap_leave(weir_swap_t *s, weir_swap_member_t *m);

/* [stream thread] The phase this member has yet to serve, or IDLE (the
 * common case: one atomic load). When not IDLE, *ph is filled: serve it,
 * then call weir_swap_done with the instances moved. */
int weir_swap_begin(weir_swap_t *s, weir_swap_member_t *m, weir_swap_phase_t *ph);
void weir_swap_done(weir_swap_t *s, weir_swap_member_t *m, long long moved);

/* [any thread] Record the first failure of a phase; whether there is one. */
void weir_swap_fail(weir_swap_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int weir_swap_failed(weir_swap_t *s);

/* [coordinator] Start swap `v` of the nodes in s->moving: a new number. */
unsigned weir_swap_start(weir_swap_t *s, weir_version_t *v);
/* [coordinator] Publish `phase` of swap `id` and wait until every member
 * present has served it. give_up_ms > 0: -1 after that long (PREPARE);
 * 0: wait as long as it takes, warning every warn_ms with the threads not
 * answering (COMMIT and ABORT: a member may be using the version). After
 * the last phase (`last`), the swap is idle again. */
int weir_swap_run_phase(weir_swap_t *s, unsigned id, int phase, int last, int give_up_ms,
                        int warn_ms);

#endif
