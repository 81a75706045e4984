/* Commits and the bounded drain/close at shutdown. Every wait here has a
 * deadline: once the broker is gone, librdkafka's synchronous commit and
 * consumer close would block forever. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/ownership.h"
#include "task/timestamp.h"
#include "thread/thread_internal.h"
#include "util/log.h"

/* Records sent again (resend.h) are acknowledged too before it returns: a
 * flush's reports may park some. */
int weir_thread_drain(weir_stream_thread_t *t) {
  int64_t deadline = weir_now_ms() + t->shared.shutdown_timeout_ms;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  do {
    int64_t left = deadline - weir_now_ms();
    if (weir_resend_flush(t, deadline) ||
        (err = rd_kafka_flush(t->producer, left > 0 ? (int)left : 0))) {
      WEIR_WARN("thread %d: %d record(s) not acknowledged within %d ms: their inputs are not "
                "committed and will be processed again after a restart",
                t->index, rd_kafka_outq_len(t->producer) + (int)weir_resend_parked(t),
                t->shared.shutdown_timeout_ms);
      return -1;
    }
  } while (weir_resend_parked(t));
  return 0;
}

static int wanted(const rd_kafka_topic_partition_list_t *only, const char *topic, int32_t p) {
  return !only || rd_kafka_topic_partition_list_find(only, topic, p) != NULL;
}

/* The task's stream time goes with each offset (offset metadata), so the
 * task resumes there when it opens elsewhere (rebalance.c), as Kafka
 * Streams resumes a task at its committed partition time: what windows
 * keep and what is late do not start again after a move. The list owns it
 * (librdkafka frees it with the list). */
static void with_stream_time(rd_kafka_topic_partition_t *tp, int64_t stream_time) {
  char text[WEIR_STREAM_TIME_META];
  size_t n = stream_time >= 0 ? weir_stream_time_encode(stream_time, text) : 0;
  if (n && (tp->metadata = malloc(n))) {
    memcpy(tp->metadata, text, n);
    tp->metadata_size = n;
  }
}

/* Offsets ready to commit, with the trackers they came from (same order;
 * `from` holds one per slot: every tracker has one). `all`: every owned
 * position, even one the broker is believed to hold — a revoke or a stop
 * is the last chance to commit it, and an asynchronous commit still in
 * flight may yet fail. */
static rd_kafka_topic_partition_list_t *collect(weir_stream_thread_t *t,
                                                const rd_kafka_topic_partition_list_t *only,
                                                weir_offset_tracker_t **from, int all) {
  rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(16);
  for (size_t k = 0; k < t->task_cap; k++) {
    weir_task_t *task = t->tasks[k];
    for (size_t i = 0; task && task->active && i < task->tracker_count; i++) {
      weir_offset_tracker_t *tr = &task->trackers[i];
      int64_t pos = weir_offset_tracker_position(tr);
      if (pos < 0 || (!all && pos == tr->committed) || !wanted(only, t->topics[i], task->partition))
        continue;
      from[list->cnt] = tr;
      rd_kafka_topic_partition_t *tp =
          rd_kafka_topic_partition_list_add(list, t->topics[i], task->partition);
      tp->offset = pos;
      with_stream_time(tp, task->stream_time);
    }
  }
  return list;
}

/* The tracker of an owned topic/partition, or NULL (revoked since). */
static weir_offset_tracker_t *tracker_of(weir_stream_thread_t *t,
                                         const rd_kafka_topic_partition_t *tp) {
  int i = weir_thread_topic_index(t, tp->topic);
  weir_task_t *task =
      i < 0 ? NULL : weir_thread_task(t, t->env.topic_subtopology[i], tp->partition);
  return task && task->active && (size_t)i < task->tracker_count ? &task->trackers[i] : NULL;
}

/* The result of an asynchronous commit, served on the consumer's queue by
 * the thread: only now are the offsets known committed. Until then (and
 * after a failure) the next commit sends them again. */
static void on_async_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t *offsets, void *opaque) {
  weir_stream_thread_t *t = opaque;
  (void)rk;
  if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
    return;
  if (err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS) {
    WEIR_DEBUG("thread %d: commit deferred: a rebalance is in progress", t->index);
    return;
  }
  if (err) {
    WEIR_WARN("thread %d: committing %d partition(s) failed: %s; they are committed again at "
              "the next commit, or processed again after a restart",
              t->index, offsets ? offsets->cnt : 0, rd_kafka_err2str(err));
    return;
  }
  for (int i = 0; offsets && i < offsets->cnt; i++) {
    weir_offset_tracker_t *tr = tracker_of(t, &offsets->elems[i]);
    if (tr && !offsets->elems[i].err && offsets->elems[i].offset >= 0)
      tr->committed = offsets->elems[i].offset;
  }
}

static rd_kafka_resp_err_t commit_sync(weir_stream_thread_t *t,
                                       rd_kafka_topic_partition_list_t *list) {
  rd_kafka_queue_t *q = rd_kafka_queue_new(t->consumer);
  rd_kafka_resp_err_t err = rd_kafka_commit_queue(t->consumer, list, q, NULL, NULL);
  if (!err) {
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, t->shared.shutdown_timeout_ms);
    err = ev ? rd_kafka_event_error(ev) : RD_KAFKA_RESP_ERR__TIMED_OUT;
    if (ev)
      rd_kafka_event_destroy(ev);
  }
  rd_kafka_queue_destroy(q);
  return err;
}

static int task_wanted(const weir_stream_thread_t *t, const weir_task_t *task,
                       const rd_kafka_topic_partition_list_t *only) {
  if (!task || !task->active || task->restoring)
    return 0;
  for (size_t i = 0; i < task->tracker_count; i++)
    if (t->env.topic_subtopology[i] == task->subtopology &&
        wanted(only, t->topics[i], task->partition))
      return 1;
  return 0;
}

/* Steps 1 and 2 of a commit that holds back (task_state.h): what operators hold
 * back, then the stores' dirty entries, go out to Kafka. */
static int flush_tasks(weir_stream_thread_t *t, const rd_kafka_topic_partition_list_t *only) {
  for (size_t k = 0; k < t->task_cap; k++) {
    weir_task_t *task = t->tasks[k];
    if (!task_wanted(t, task, only))
      continue;
    if (weir_task_flush_operators(task) || weir_task_flush_stores(task)) {
      /* A stop while held-back outputs or changelog entries wait for room is
       * no failure (as for an input, task_process.c): nothing is committed. */
      if (task->produce_failed == WEIR_PRODUCE_STOPPED)
        WEIR_INFO("task %s: stopping while the producer queue is full: not all of its held-back "
                  "outputs and store changes are sent; nothing since the last commit is "
                  "committed and it is processed again after a restart",
                  task->id);
      else if (!weir_txn_absorbs(t, task)) /* the transaction's: aborted or replaced */
        t->shared.fail(t->shared.app, task->error);
      return -1;
    }
  }
  return 0;
}

/* Whether any task this commit covers holds records back: asked at each
 * commit, since a hot swap may give an operator a flush(). */
static int holds_back(weir_stream_thread_t *t, const rd_kafka_topic_partition_list_t *only) {
  for (size_t k = 0; k < t->task_cap; k++)
    if (task_wanted(t, t->tasks[k], only) && weir_task_holds_back(t->tasks[k]))
      return 1;
  return 0;
}

/* The drain covered every flush() output so far (a failed one is in
 * delivery_failed). */
static void forget_untracked(weir_stream_thread_t *t, const rd_kafka_topic_partition_list_t *only) {
  for (size_t k = 0; k < t->task_cap; k++)
    if (task_wanted(t, t->tasks[k], only))
      t->tasks[k]->untracked_sent = 0;
}

/* Step 4, after a commit that succeeded: RocksDB gets the writes and the
 * checkpoints. The e2e tests wait for the debug line. */
static void apply_tasks(weir_stream_thread_t *t, const rd_kafka_topic_partition_list_t *only) {
  int wrote = 0;
  for (size_t k = 0; k < t->task_cap; k++) {
    weir_task_t *task = t->tasks[k];
    if (!task_wanted(t, task, only) || !task->store_count)
      continue;
    int rc = weir_task_apply_stores(task);
    if (rc < 0)
      t->shared.fail(t->shared.app, task->error);
    wrote |= rc > 0;
  }
  if (wrote)
    WEIR_DEBUG("thread %d: stores checkpointed", t->index);
}

/* A failed delivery since the last commit: which inputs it came from is
 * not known for a changelog record or a flush() output, so nothing more is
 * committed (the app is stopping: the delivery callback failed it). */
static int delivery_failed(weir_stream_thread_t *t) {
  if (!t->delivery_failed)
    return 0;
  if (!t->delivery_failure_logged && weir_txn_enabled(t))
    WEIR_WARN("thread %d: %u record(s) failed delivery (the first: %s): the transaction is "
              "aborted and the thread's tasks go back to the last committed one",
              t->index, t->delivery_failed, t->delivery_error);
  else if (!t->delivery_failure_logged)
    WEIR_WARN("thread %d: %u record(s) failed delivery: nothing more is committed and the "
              "stores are not written; the inputs since the last commit will be processed "
              "again after a restart",
              t->index, t->delivery_failed);
  t->delivery_failure_logged = 1;
  return 1;
}

/* Transactions aborted in a row for failed deliveries, past which the
 * failure is taken for a lasting one (a topic gone, a denied ACL) and weir
 * stops: going on would process the same inputs again for ever. */
enum { MAX_DELIVERY_ABORTS = 5 };

/* Exactly-once: a record of the open transaction failed delivery (a broker
 * away past message.timeout.ms, say). The transaction is aborted and every
 * task goes back to the last committed one, to process its inputs again. */
static void abort_failed_delivery(weir_stream_thread_t *t) {
  char why[512];
  if (++t->txn_delivery_aborts > MAX_DELIVERY_ABORTS) {
    snprintf(why, sizeof why,
             "thread %d: %d transactions in a row had a record fail delivery (the last: %s); "
             "stopping: fix what refuses the records (the topic, its ACLs, the broker), then "
             "restart (nothing of them is visible, and their inputs are processed again)",
             t->index, MAX_DELIVERY_ABORTS, t->delivery_error);
    t->shared.fail(t->shared.app, why);
  }
  int stopping = atomic_load(t->shared.stopping);
  if (weir_txn_abort(t, "a record failed delivery",
                     stopping ? t->shared.shutdown_timeout_ms : WEIR_TXN_ABORT_WAIT_MS) == 0 &&
      !stopping && !atomic_load(t->shared.stopping))
    weir_thread_rewind(t);
}

/* Commit the collected positions: synchronously when `sync`, every owned
 * one when `all` (collect). */
static rd_kafka_resp_err_t commit_positions(weir_stream_thread_t *t,
                                            const rd_kafka_topic_partition_list_t *only, int sync,
                                            int all) {
  /* Every position in one commit: a stateful commit then applies RocksDB
   * for all of them. */
  weir_offset_tracker_t **from = malloc((t->slot_count + 1) * sizeof *from);
  if (!from)
    return RD_KAFKA_RESP_ERR__FAIL;
  rd_kafka_topic_partition_list_t *list = collect(t, only, from, all);
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (list->cnt > 0)
    err = sync ? commit_sync(t, list)
               : rd_kafka_commit_queue(t->consumer, list, t->queue, on_async_commit, t);
  if (err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS)
    WEIR_DEBUG("thread %d: commit deferred: a rebalance is in progress", t->index);
  else if (err)
    WEIR_WARN("thread %d: committing %d partition(s) failed: %s; they will be committed later "
              "or processed again after a restart",
              t->index, list->cnt, rd_kafka_err2str(err));
  else if (sync) /* an asynchronous one is marked by on_async_commit */
    for (int i = 0; i < list->cnt; i++)
      from[i]->committed = list->elems[i].offset;
  if (sync && !err && list->cnt)
    WEIR_DEBUG("thread %d: committed %d partition(s)", t->index, list->cnt);
  rd_kafka_topic_partition_list_destroy(list);
  free(from);
  return err;
}

/* weir_commits_total and weir_commit_seconds_total (http/metrics.c). */
static void count_commit(weir_stream_thread_t *t, int64_t start_us) {
  if (!t->shared.owners)
    return;
  atomic_fetch_add(&t->shared.owners->threads[t->index].commits, 1);
  atomic_fetch_add(&t->shared.owners->threads[t->index].commit_us,
                   (unsigned long long)(weir_now_us() - start_us));
}

/* Exactly-once: every task of the thread in one transaction (a partial one
 * cannot be committed), always holding back: everything produced is
 * acknowledged, then the offsets that moved go into the transaction, which
 * commits; only then is RocksDB written. A drain that times out leaves the
 * transaction open for the next turn. An idle thread's commit sends
 * nothing: no offset moved and nothing was produced, so librdkafka ends the
 * transaction locally (no EndTxn), as Kafka Streams skips such a commit;
 * the broker sees no transaction from an idle instance, and a kill -9 then
 * leaves none open for the next owner to wait out. */
static void commit_transaction(weir_stream_thread_t *t) {
  if (!t->txn_open)
    return;
  if (flush_tasks(t, NULL)) {
    if (t->delivery_failed) /* a record refused: the transaction must abort */
      abort_failed_delivery(t);
    else
      weir_txn_abort(t, "the stop came while the producer queue was full",
                     t->shared.shutdown_timeout_ms);
    return;
  }
  if (weir_thread_drain(t))
    return;
  forget_untracked(t, NULL);
  if (delivery_failed(t)) {
    abort_failed_delivery(t);
    return;
  }
  weir_offset_tracker_t **from = malloc((t->slot_count + 1) * sizeof *from);
  if (!from) {
    t->shared.fail(t->shared.app, "out of memory committing a transaction");
    return;
  }
  int64_t start_us = weir_now_us();
  rd_kafka_topic_partition_list_t *list = collect(t, NULL, from, 0);
  if (weir_txn_commit(t, list) == 0) {
    for (int i = 0; i < list->cnt; i++)
      from[i]->committed = list->elems[i].offset;
    if (list->cnt) {
      WEIR_DEBUG("thread %d: committed %d partition(s) in a transaction", t->index, list->cnt);
      count_commit(t, start_us);
    }
    apply_tasks(t, NULL);
  }
  rd_kafka_topic_partition_list_destroy(list);
  free(from);
  weir_purge_after_commit(t);
}

void weir_thread_commit(weir_stream_thread_t *t, const rd_kafka_topic_partition_list_t *only,
                        int sync) {
  t->commit_wanted = 0;
  if (weir_txn_enabled(t)) {
    commit_transaction(t);
    return;
  }
  /* A commit of tasks that hold records back waits for every output and
   * changelog record to be acknowledged, as Kafka Streams flushes its
   * producer, and is synchronous, so RocksDB is written only after the
   * broker took the offsets; the stateless one commits the acknowledged
   * prefix and waits for nothing. */
  int holding = holds_back(t, only);
  if (holding && (flush_tasks(t, only) || weir_thread_drain(t)))
    return;
  if (holding)
    forget_untracked(t, only);
  if (delivery_failed(t))
    return;
  int64_t start_us = weir_now_us();
  rd_kafka_resp_err_t err = commit_positions(t, only, sync || holding, sync);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR && holding)
    apply_tasks(t, only);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
    count_commit(t, start_us);
  weir_purge_after_commit(t); /* repartition topics: what the group committed */
}

/* Logged before leaving the group, so the hand-over can be traced: after
 * this line another member may own the tasks. */
static void close_all_tasks(weir_stream_thread_t *t) {
  char list[2048] = "";
  size_t used = 0;
  for (size_t k = 0; k < t->task_cap; k++)
    if (t->tasks[k] && t->tasks[k]->active) {
      weir_task_close(t->tasks[k]);
      used += (size_t)snprintf(list + used, used < sizeof list ? sizeof list - used : 0, "%s%s",
                               used ? ", " : "", t->tasks[k]->id);
    }
  if (used)
    WEIR_INFO("thread %d: stopping: closed tasks [%s]", t->index, list);
}

/* Leave the group, serving the close's callbacks until done or the deadline. */
static void leave_group(weir_stream_thread_t *t) {
  rd_kafka_message_t *msgs[64];
  int64_t deadline = weir_now_ms() + t->shared.shutdown_timeout_ms;
  rd_kafka_error_t *error = rd_kafka_consumer_close_queue(t->consumer, t->queue);
  if (error) {
    WEIR_WARN("thread %d: leaving the group: %s", t->index, rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    return;
  }
  while (!rd_kafka_consumer_closed(t->consumer) && weir_now_ms() < deadline) {
    ssize_t n = rd_kafka_consume_batch_queue(t->queue, 100, msgs, 64);
    for (ssize_t i = 0; i < n; i++)
      rd_kafka_message_destroy(msgs[i]);
  }
  if (!rd_kafka_consumer_closed(t->consumer))
    WEIR_WARN("thread %d: did not leave the group within %d ms; the broker will expire this "
              "member after session.timeout.ms",
              t->index, t->shared.shutdown_timeout_ms);
}

void weir_thread_shutdown(weir_stream_thread_t *t) {
  if (weir_thread_drain(t) == 0)
    weir_thread_commit(t, NULL, 1);
  if (weir_txn_enabled(t) && t->txn_open && rd_kafka_outq_len(t->producer) > 0)
    weir_txn_abort(t, "stopping with records not acknowledged", t->shared.shutdown_timeout_ms);
  weir_restore_stop(t);
  close_all_tasks(t);
  weir_thread_publish_states(t); /* before the group hands them on: queries stop here */
  leave_group(t);
}
