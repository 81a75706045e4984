/* Partitions coming and going: tasks opened on assign, drained, committed
 * and closed on revoke, closed without committing when lost; and the same
 * bounded drain-commit-close at shutdown. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/ownership.h"
#include "task/timestamp.h"
#include "thread/thread_internal.h"
#include "util/log.h"
#include "util/sdnotify.h"

static size_t task_slot(const weir_stream_thread_t *t, int subtopology, int32_t partition) {
  return (size_t)partition * (size_t)t->subtopologies + (size_t)subtopology;
}

weir_task_t *weir_thread_task(weir_stream_thread_t *t, int subtopology, int32_t partition) {
  if (partition < 0 || subtopology < 0)
    return NULL;
  size_t i = task_slot(t, subtopology, partition);
  return i < t->task_cap ? t->tasks[i] : NULL;
}

int weir_thread_topic_index(const weir_stream_thread_t *t, const char *topic) {
  for (size_t i = 0; i < t->topic_count; i++)
    if (strcmp(t->topics[i], topic) == 0)
      return (int)i;
  return -1;
}

static int grow_tasks(weir_stream_thread_t *t, size_t slot) {
  if (slot < t->task_cap)
    return 0;
  size_t cap = t->task_cap ? t->task_cap : 16;
  while (cap <= slot)
    cap *= 2;
  weir_task_t **tasks = realloc(t->tasks, cap * sizeof *tasks);
  if (!tasks)
    return -1;
  memset(tasks + t->task_cap, 0, (cap - t->task_cap) * sizeof *tasks);
  t->tasks = tasks;
  t->task_cap = cap;
  return 0;
}

static int add_slots(weir_stream_thread_t *t, size_t n, uint32_t *slots) {
  if (t->slot_count + n > t->slot_cap) {
    size_t cap = (t->slot_cap ? t->slot_cap : 16) * 2 + n;
    weir_offset_tracker_t **grown = realloc(t->slots, cap * sizeof *grown);
    if (!grown)
      return -1;
    t->slots = grown;
    t->slot_cap = cap;
  }
  for (size_t i = 0; i < n; i++)
    slots[i] = (uint32_t)(t->slot_count + i);
  return 0;
}

/* The task for a sub-topology's partition, created on first use and kept
 * afterwards so its tracker slots stay valid for late delivery reports. */
static weir_task_t *task_for(weir_stream_thread_t *t, int subtopology, int32_t partition) {
  uint32_t slots[64];
  size_t i = task_slot(t, subtopology, partition);
  if (grow_tasks(t, i))
    return NULL;
  if (t->tasks[i])
    return t->tasks[i];
  if (t->topic_count > 64 || add_slots(t, t->topic_count, slots))
    return NULL;
  weir_task_t *task = weir_task_new(&t->env, subtopology, partition, t->topic_count, slots);
  if (!task)
    return NULL;
  for (size_t k = 0; k < t->topic_count; k++)
    t->slots[t->slot_count++] = &task->trackers[k];
  t->tasks[i] = task;
  return task;
}

/* The task a partition of the assignment belongs to (NULL: not a source topic). */
static weir_task_t *task_of(weir_stream_thread_t *t, const rd_kafka_topic_partition_t *tp,
                            int create) {
  int idx = weir_thread_topic_index(t, tp->topic);
  if (idx < 0)
    return NULL;
  int sub = t->env.topic_subtopology[idx];
  return create ? task_for(t, sub, tp->partition) : weir_thread_task(t, sub, tp->partition);
}

/* Each new task's stream time from its committed offsets' metadata
 * (commit.c), read before the tasks open: one OffsetFetch per assignment,
 * as Kafka Streams does. `parts` gets the committed offsets. A broker that
 * cannot answer leaves the tasks starting with no stream time, as before
 * their first commit: logged, not fatal. */
static rd_kafka_resp_err_t read_stream_times(weir_stream_thread_t *t,
                                             rd_kafka_topic_partition_list_t *parts) {
  rd_kafka_resp_err_t err = rd_kafka_committed(t->consumer, parts, t->shared.shutdown_timeout_ms);
  if (err) {
    WEIR_WARN("thread %d: cannot read the committed offsets of %d partition(s): %s; their tasks "
              "start with no stream time (windows and late records count from their first "
              "record)",
              t->index, parts->cnt, rd_kafka_err2str(err));
    return err;
  }
  for (int i = 0; i < parts->cnt; i++) {
    const rd_kafka_topic_partition_t *tp = &parts->elems[i];
    weir_task_t *task = task_of(t, tp, 1);
    int idx = weir_thread_topic_index(t, tp->topic);
    if (task && idx >= 0 && !task->active && !tp->err) {
      task->resume_time[idx] = weir_stream_time_decode(tp->metadata, tp->metadata_size);
      WEIR_DEBUG("thread %d: task %s resumes %s [%d] at stream time %lld (committed offset "
                 "%lld)",
                 t->index, task->id, tp->topic, (int)tp->partition,
                 (long long)task->resume_time[idx], (long long)tp->offset);
    }
  }
  return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static int open_tasks(weir_stream_thread_t *t, const rd_kafka_topic_partition_list_t *parts,
                      char *list, size_t list_size) {
  char why[1024];
  size_t used = 0;
  for (int i = 0; i < parts->cnt; i++) {
    weir_task_t *task = task_of(t, &parts->elems[i], 1);
    if (!task) {
      t->shared.fail(t->shared.app, "out of memory creating a task");
      return -1;
    }
    weir_task_idle_add_input(task, (size_t)weir_thread_topic_index(t, parts->elems[i].topic));
    if (task->active)
      continue; /* co-partitioned topics share one task */
    if (weir_task_open(task, why, sizeof why)) {
      t->shared.fail(t->shared.app, why);
      return -1;
    }
    used += (size_t)snprintf(list + used, used < list_size ? list_size - used : 0, "%s%s",
                             used ? ", " : "", task->id);
  }
  return 0;
}

static void close_tasks(weir_stream_thread_t *t, const rd_kafka_topic_partition_list_t *parts,
                        char *list, size_t list_size) {
  size_t used = 0;
  for (int i = 0; i < parts->cnt; i++) {
    weir_task_t *task = task_of(t, &parts->elems[i], 0);
    if (!task || !task->active)
      continue;
    weir_restore_cancel(t, task);
    weir_idle_release(t, task); /* nothing left paused for the partition's next owner */
    weir_task_close(task);
    used += (size_t)snprintf(list + used, used < list_size ? list_size - used : 0, "%s%s",
                             used ? ", " : "", task->id);
  }
}

static void begin_restores(weir_stream_thread_t *t, const rd_kafka_topic_partition_list_t *parts) {
  for (int i = 0; i < parts->cnt; i++) {
    weir_task_t *task = task_of(t, &parts->elems[i], 0);
    if (!task || !task->active || !task->store_count || task->restore_checked)
      continue;
    task->restore_checked = 1;
    if (weir_restore_begin(t, task))
      return;
  }
}

static int cooperative(rd_kafka_t *rk) {
  const char *proto = rd_kafka_rebalance_protocol(rk);
  return proto && strcmp(proto, "COOPERATIVE") == 0;
}

static void on_assign(weir_stream_thread_t *t, rd_kafka_t *rk,
                      rd_kafka_topic_partition_list_t *parts) {
  char list[2048] = "";
  int64_t start = weir_now_ms();
  rd_kafka_topic_partition_list_t *committed = rd_kafka_topic_partition_list_copy(parts);
  read_stream_times(t, committed);
  rd_kafka_topic_partition_list_destroy(committed);
  open_tasks(t, parts, list, sizeof list);
  if (cooperative(rk))
    rd_kafka_incremental_assign(rk, parts);
  else
    rd_kafka_assign(rk, parts);
  begin_restores(t, parts); /* after the assign: it pauses what restores */
  weir_sd_assigned(t->index);
  weir_thread_publish_states(t);
  if (t->shared.owners) {
    atomic_fetch_add(&t->shared.owners->threads[t->index].rebalances, 1);
    atomic_store(&t->shared.owners->threads[t->index].assigned, 1);
  }
  WEIR_INFO("thread %d: rebalance: gained tasks [%s] (%d partitions) in %lld ms", t->index, list,
            parts->cnt, (long long)(weir_now_ms() - start));
}

/* Every task of the thread back to where the last committed transaction
 * left it (exactly_once, after an abort or a broken producer): closed
 * without committing (their caches and held-back outputs dropped, as for a
 * lost assignment), a broken producer replaced while no task holds its
 * handles, the tasks opened again, their stores restored from the checkpoint
 * and the changelog's committed records, and the consumer sought to the
 * group's committed offsets. */
int weir_thread_rewind(weir_stream_thread_t *t) {
  char list[2048] = "", again[2048] = "", why[512];
  rd_kafka_topic_partition_list_t *parts = NULL;
  if (rd_kafka_assignment(t->consumer, &parts) || !parts)
    return -1;
  close_tasks(t, parts, list, sizeof list);
  if (t->txn_broken && weir_txn_recover(t)) {
    rd_kafka_topic_partition_list_destroy(parts);
    return -1;
  }
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_error_t *error = NULL;
  if (parts->cnt > 0) {
    err = read_stream_times(t, parts);
    if (!err && open_tasks(t, parts, again, sizeof again))
      err = RD_KAFKA_RESP_ERR__FAIL;
    for (int i = 0; !err && i < parts->cnt; i++)
      if (parts->elems[i].offset < 0) /* none committed: auto.offset.reset = earliest */
        parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
    if (!err) /* asynchronous: see restore.c's seek_back */
      error = rd_kafka_seek_partitions(t->consumer, parts, 0);
    for (int i = 0; !err && !error && i < parts->cnt; i++)
      if (parts->elems[i].err && parts->elems[i].err != RD_KAFKA_RESP_ERR__IN_PROGRESS)
        err = parts->elems[i].err;
  }
  if (err || error) {
    snprintf(why, sizeof why,
             "thread %d: cannot go back to the last committed offsets after an aborted "
             "transaction: %s; stopping (a restart processes the inputs again)",
             t->index, err ? rd_kafka_err2str(err) : rd_kafka_error_string(error));
    if (error)
      rd_kafka_error_destroy(error);
    rd_kafka_topic_partition_list_destroy(parts);
    t->shared.fail(t->shared.app, why);
    return -1;
  }
  begin_restores(t, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  WEIR_INFO("thread %d: tasks [%s] back to the last committed transaction: processed again",
            t->index, again);
  return 0;
}

/* Exactly-once: the transaction committed above unless the assignment was
 * lost or the commit could not finish; then it is aborted, and the tasks
 * the thread keeps (a cooperative revoke of some) go back to the last
 * committed transaction, as after any abort: their consumer is past inputs
 * whose outputs were just aborted. */
static void revoke_transaction(weir_stream_thread_t *t, rd_kafka_t *rk, int lost) {
  if (!t->txn_open || (!lost && rd_kafka_outq_len(t->producer) == 0))
    return;
  weir_txn_abort(t, lost ? "the assignment was lost" : "the revoke could not commit",
                 atomic_load(t->shared.stopping) ? t->shared.shutdown_timeout_ms
                                                 : WEIR_TXN_ABORT_WAIT_MS);
  rd_kafka_topic_partition_list_t *kept = NULL;
  if (!lost && !rd_kafka_assignment(rk, &kept) && kept && kept->cnt &&
      !atomic_load(t->shared.stopping))
    weir_thread_rewind(t); /* the revoked ones are closed again by the caller */
  if (kept)
    rd_kafka_topic_partition_list_destroy(kept);
}

static void on_revoke(weir_stream_thread_t *t, rd_kafka_t *rk,
                      rd_kafka_topic_partition_list_t *parts) {
  char list[2048] = "";
  int64_t start = weir_now_ms();
  int lost = rd_kafka_assignment_lost(rk);
  weir_thread_publish_revoked(t, parts); /* queries stop before the stores close */
  if (!lost && weir_thread_drain(t) == 0)
    weir_thread_commit(t, parts, 1);
  if (weir_txn_enabled(t))
    revoke_transaction(t, rk, lost);
  close_tasks(t, parts, list, sizeof list);
  /* Logged before the partitions go back to the group: from the unassign on,
   * librdkafka may rejoin while this callback still runs, and a new owner's
   * "gained" line came 2 ms before this one (a task seemed to run in two
   * places, test_multi_instance). */
  if (list[0] || lost) { /* at shutdown the tasks were closed already */
    if (t->shared.owners)
      atomic_fetch_add(&t->shared.owners->threads[t->index].rebalances, 1);
    WEIR_INFO("thread %d: rebalance: %s tasks [%s] in %lld ms%s", t->index,
              lost ? "lost" : "revoked", list, (long long)(weir_now_ms() - start),
              lost ? " (not committed: the group moved on without us)" : "");
  }
  if (cooperative(rk))
    rd_kafka_incremental_unassign(rk, parts);
  else
    rd_kafka_assign(rk, NULL);
}

void weir_thread_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t *parts, void *opaque) {
  weir_stream_thread_t *t = opaque;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    on_assign(t, rk, parts);
  } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    on_revoke(t, rk, parts);
  } else {
    WEIR_WARN("thread %d: rebalance error: %s", t->index, rd_kafka_err2str(err));
    rd_kafka_assign(rk, NULL);
  }
}
