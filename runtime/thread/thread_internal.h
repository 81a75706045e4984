/* Internals shared by the stream thread's files (loop, clients, rebalance,
 * commit). Not for use outside runtime/thread. */
#ifndef WEIR_THREAD_THREAD_INTERNAL_H
#define WEIR_THREAD_THREAD_INTERNAL_H

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>

#include "kafka/client_errors.h"
#include "reload/swap.h"
#include "task/spent.h"
#include "task/task.h"
#include "thread/purge.h"
#include "thread/resend.h"
#include "thread/stream_thread.h"
#include "util/clock.h"

struct weir_stream_thread {
  weir_thread_shared_t shared;
  int index;
  char client_id[128];
  rd_kafka_t *consumer;
  rd_kafka_t *producer;
  rd_kafka_queue_t *queue;            /* the consumer's queue, polled in batches */
  struct weir_fetch_wake *fetch_wake; /* kafka/fetch_wake.h; NULL when not needed */
  pthread_t tid;
  int started;

  const char **topics; /* source topics, NULL-ended; strings owned by the topology */
  size_t topic_count;
  rd_kafka_topic_t **topic_handles; /* cache: consumed handle -> topic index */

  weir_task_env_t env;
  weir_spent_t spent;  /* env.spent: flushed after each pass over the tasks */
  weir_task_t **tasks; /* by partition * subtopology_count + subtopology; kept */
  size_t task_cap;
  size_t next_task; /* where run_tasks resumes after a time slice ran out */
  int subtopologies;
  int buffer_bound;              /* buffered.records.per.partition */
  weir_offset_tracker_t **slots; /* slot number -> tracker (stable) */
  size_t slot_count, slot_cap;

  atomic_ullong processed; /* relaxed: a count read by other threads, ordering nothing */
  /* Deliveries that failed (counted by the delivery callback): once one
   * has, this thread commits nothing more and writes no store. */
  unsigned delivery_failed;
  int delivery_failure_logged;
  char delivery_error[256];  /* exactly_once: the first failure since the last commit */
  int txn_delivery_aborts;   /* ...transactions aborted for one, in a row (commit.c) */
  int commit_wanted;         /* a write cache is over budget: commit at the next turn */
  int txn_open;              /* exactly_once: a transaction is open (transaction.c) */
  int txn_aborting;          /* ...and being aborted: its purged records are expected */
  int txn_broken;            /* ...the producer failed fatally: replaced at the next turn */
  int txn_recoveries;        /* producers replaced since the last committed transaction */
  long long txn_commits;     /* commits of input offsets begun (txn_fault_after) */
  long long txn_fault_after; /* testing: WEIR_FAULT_TXN_FATAL_AFTER (transaction.c) */

  /* Records reported delivered without an offset (resend.h). */
  weir_resend_t *resend;       /* created at the first */
  long long fault_unconfirmed; /* testing: WEIR_FAULT_UNCONFIRMED_FIRST (thread_clients.c) */

  /* Restoring stores from their changelogs (restore.c). */
  rd_kafka_t *restorer; /* a consumer outside the group, created on first use */
  rd_kafka_queue_t *restore_queue;
  struct weir_fetch_wake *restore_wake;
  rd_kafka_topic_partition_list_t *restoring; /* what it is assigned */
  weir_state_batch_t *restore_batch;
  /* Stores waiting for their changelog's offsets (restore.c, begin_store). */
  int begin_pending;
  int64_t next_begin_retry;
  /* Input partitions of restoring tasks whose records are being dropped
   * since the offset given (restore.c, weir_restore_hold_back). */
  rd_kafka_topic_partition_list_t *held_back;

  weir_swap_member_t swap_member; /* this thread's part in hot swaps */
  struct weir_purge *purge;       /* repartition purges (purge.h); NULL until the first */

  int64_t last_publish_ms; /* publish.c: the last time stats went to shared.owners */
  int64_t idle_wake;       /* idle_pause.c: when a waiting task's wait may end by time alone */

  /* Non-fatal errors of each client: one warning per episode. */
  weir_client_errors_t producer_errors, consumer_errors, restorer_errors;
};

/* The task for a sub-topology's partition, or NULL. */
weir_task_t *weir_thread_task(weir_stream_thread_t *t, int subtopology, int32_t partition);
/* The index of a source topic by name, or -1. */
int weir_thread_topic_index(const weir_stream_thread_t *t, const char *topic);

/* Commit the positions of active tasks (only partitions in `only` when not
 * NULL). sync = wait for the broker, bounded by shutdown_timeout_ms. */
void weir_thread_commit(weir_stream_thread_t *t, const rd_kafka_topic_partition_list_t *only,
                        int sync);

/* Flush the producer and serve delivery reports, bounded. 0 when everything
 * in flight was acknowledged. */
int weir_thread_drain(weir_stream_thread_t *t);

/* The rebalance callback (rd_kafka_conf_set_rebalance_cb). */
/* The error callback of every client of the thread (opaque: the thread). */
void weir_thread_on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque);

void weir_thread_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t *parts, void *opaque);

/* Start restoring the task's stores that are behind their changelog; the
 * task does not process until they are done (its records wait: see
 * weir_restore_hold_back). */
int weir_restore_begin(weir_stream_thread_t *t, weir_task_t *task);
/* A record of restoring `task` from source topic `idx`: 0 to queue it as
 * usual; 1 when it must be dropped (its queue is at its bound, or dropping
 * began on that partition): the partition is sought back to the first
 * dropped offset when the restore ends. */
int weir_restore_hold_back(weir_stream_thread_t *t, weir_task_t *task, size_t idx,
                           const rd_kafka_message_t *m);
/* Apply what the restore consumer has; finish the stores that reached the
 * end. Does not block. */
void weir_restore_poll(weir_stream_thread_t *t);
/* Forget the task's restores (revoked or lost). */
void weir_restore_cancel(weir_stream_thread_t *t, weir_task_t *task);
/* Close the restore consumer. */
void weir_restore_stop(weir_stream_thread_t *t);

/* Exactly-once (transaction.c). Whether processing.guarantee = exactly_once. */
int weir_txn_enabled(const weir_stream_thread_t *t);
/* Init the thread's transactional producer and open the first transaction. */
int weir_txn_start(weir_stream_thread_t *t, char *errstr, size_t errstr_size);
/* Send the offsets, commit the transaction, open the next. 0, or -1 after
 * aborting it and failing the app. */
int weir_txn_commit(weir_stream_thread_t *t, const rd_kafka_topic_partition_list_t *offsets);
/* Every task back to the last committed transaction (rebalance.c); a
 * broken producer is replaced meanwhile, while no task holds its handles. */
int weir_thread_rewind(weir_stream_thread_t *t);
/* Whether the transactional producer failed fatally (it is then replaced
 * at the thread's next turn by weir_thread_rewind); its errors until then
 * are no failure of the app. */
int weir_txn_broken(weir_stream_thread_t *t);
/* Whether a task's failure is the transaction's, not the app's (exactly_once):
 * the producer broke, or it refused a record because the transaction must
 * abort (ERR__STATE: the next commit aborts it and the tasks go back). */
int weir_txn_absorbs(weir_stream_thread_t *t, weir_task_t *task);
/* Exactly-once: a record of the open transaction failed (`what`: where and
 * why, kept if it is the first since the last commit); the next commit
 * aborts the transaction (commit.c). */
void weir_txn_delivery_failed(weir_stream_thread_t *t, const char *what);
/* Replace the broken producer and start its transactions (called by
 * weir_thread_rewind with every task closed). -1: the app is failed or
 * stopping. */
int weir_txn_recover(weir_stream_thread_t *t);
/* A new producer for the thread, the old one purged and destroyed, and the
 * handles made on it (dead-letter topic, repartition purges) made again
 * (thread_clients.c). */
int weir_thread_renew_producer(weir_stream_thread_t *t, char *errstr, size_t errstr_size);
/* Abort the open transaction (a lost assignment, a failed commit, a stop
 * that could not drain). */
int weir_txn_abort(weir_stream_thread_t *t, const char *why, int wait_ms);
/* How long an abort the thread goes on after may wait for a broker that is
 * away; a stop waits its shutdown timeout only (the broker aborts what is
 * left after transaction.timeout.ms, and a restart's producer fences it). */
enum { WEIR_TXN_ABORT_WAIT_MS = 120000 };
/* Publish for the HTTP server (publish.c; nothing when shared.owners is
 * NULL): every task's state now; the revoked partitions as gone (before
 * their tasks drain and close); and, at most once a second, everything. */
void weir_thread_publish_states(weir_stream_thread_t *t);
void weir_thread_publish_revoked(weir_stream_thread_t *t,
                                 const rd_kafka_topic_partition_list_t *parts);
void weir_thread_publish(weir_stream_thread_t *t);

/* A task waiting for an empty input (idle_pause.c, task/task_idle.h). The
 * cached high watermark (weir_task_env_t.high_watermark); the consumer's
 * end-of-partition event of source topic `idx`; run_tasks' accounting of
 * a task of several inputs (a waiting one's full partitions are paused,
 * neither full nor work; others' resumed below the bound); and its paused
 * partitions resumed before it closes. */
int64_t weir_idle_high_watermark(void *opaque, size_t topic_index, int32_t partition);
void weir_idle_partition_end(weir_stream_thread_t *t, const rd_kafka_message_t *msg, int idx);
void weir_idle_account(weir_stream_thread_t *t, weir_task_t *task, size_t *buffered, int *full);
/* The bound of a task's queues: buffered.records.per.partition, grown for a
 * task of several inputs each time it must pause one (idle_pause.c). */
size_t weir_idle_bound(const weir_stream_thread_t *t, const weir_task_t *task);
void weir_idle_release(weir_stream_thread_t *t, weir_task_t *task);

/* Stop: drain, commit, close tasks, leave the group — each step bounded. */
void weir_thread_shutdown(weir_stream_thread_t *t);

#endif
