#include "thread/stream_thread.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka/fetch_wake.h"
#include "kafka/kafka_conf.h"
#include "reload/swap.h"
#include "task/inst_swap.h"
#include "task/task.h"
#include "thread/thread_internal.h"
#include "util/log.h"
#include "util/sdnotify.h"

#define BATCH_SIZE 1024
#define POLL_TIMEOUT_MS 50
/* Records one thread holds in its tasks' queues before it stops consuming,
 * whatever the per-partition bound: 256 partitions x 1000 records held the
 * fetch buffers of a quarter million messages and ran at 0.68 of the
 * baseline; with this cap, 1.04. */
#define THREAD_BUFFER_RECORDS (4 * BATCH_SIZE)

/* Source topic index of a consumed message; the handle pointer is cached. */
static int topic_index(weir_stream_thread_t *t, rd_kafka_topic_t *rkt) {
  for (size_t i = 0; i < t->topic_count; i++)
    if (t->topic_handles[i] == rkt)
      return (int)i;
  const char *name = rd_kafka_topic_name(rkt);
  for (size_t i = 0; i < t->topic_count; i++)
    if (strcmp(t->topics[i], name) == 0) {
      t->topic_handles[i] = rkt;
      return (int)i;
    }
  return -1;
}

static int internal_topic(const weir_topology_t *topo, const char *topic) {
  for (size_t i = 0; i < topo->internal_topic_count; i++)
    if (strcmp(topo->internal_topics[i].name, topic) == 0)
      return 1;
  return 0;
}

static void handle_consumer_error(weir_stream_thread_t *t, const rd_kafka_message_t *msg) {
  const char *topic = msg->rkt ? rd_kafka_topic_name(msg->rkt) : "-";
  if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) { /* on for max.task.idle.ms only */
    weir_idle_partition_end(t, msg, msg->rkt ? topic_index(t, msg->rkt) : -1);
    return;
  }
  if (msg->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
      msg->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
    if (internal_topic(t->shared.topo, topic)) {
      WEIR_DEBUG("thread %d: %s: not in the metadata yet (created at start)", t->index, topic);
      return;
    }
    char why[512];
    snprintf(why, sizeof why,
             "source topic '%s' does not exist on %s: create it, or fix the topic name in %s",
             topic, t->shared.bootstrap, t->shared.topo->path);
    t->shared.fail(t->shared.app, why);
    return;
  }
  WEIR_WARN("thread %d: consumer error on %s [%d]: %s", t->index, topic, (int)msg->partition,
            rd_kafka_message_errstr(msg));
}

/* Hand a consumed record to its task's queue; the task takes it over. */
static void route_message(weir_stream_thread_t *t, rd_kafka_message_t *msg) {
  if (msg->err) {
    handle_consumer_error(t, msg);
    rd_kafka_message_destroy(msg);
    return;
  }
  int idx = topic_index(t, msg->rkt);
  weir_task_t *task =
      idx < 0 ? NULL : weir_thread_task(t, t->env.topic_subtopology[idx], msg->partition);
  if (!task || !task->active ||
      (task->restoring && weir_restore_hold_back(t, task, (size_t)idx, msg)) ||
      weir_task_enqueue(task, (size_t)idx, msg))
    rd_kafka_message_destroy(msg); /* revoked meanwhile: the new owner reads it again */
}

/* Up to BUDGET records of one task, in chunks of CHUNK while the slice
 * lasts: a slow operator (ms per record) then holds the loop, and the
 * commit, the timers and the poll behind it, for CHUNK records at most, not
 * BUDGET. -1 when the task failed (the app is stopping). */
static int run_task(weir_stream_thread_t *t, weir_task_t *task, int64_t start, int slice_ms) {
  enum { BUDGET = 512, CHUNK = 16 };
  int total = 0;
  while (total < BUDGET && task->buffered && weir_now_ms() - start < slice_ms) {
    int done = weir_task_run(task, CHUNK);
    if (done < 0) {
      if (!weir_txn_absorbs(t, task)) /* the transaction's: aborted or replaced */
        t->shared.fail(t->shared.app, task->error);
      return -1;
    }
    atomic_fetch_add_explicit(&t->processed, (unsigned long long)done, memory_order_relaxed);
    total += done;
    if (done < CHUNK)
      break;
  }
  return total;
}

/* Let the tasks process part of their queues — at most BUDGET records each
 * and SLICE_MS in all, starting after the task that ran last — so a slow
 * task starves neither the others nor the poll (delivery reports, rebalance
 * callbacks). Sets *full when some partition's queue is at its bound or the
 * thread holds THREAD_BUFFER_RECORDS. */
static size_t run_tasks(weir_stream_thread_t *t, int *full) {
  enum { SLICE_MS = 20 };
  size_t buffered = 0, cap = (size_t)t->buffer_bound; /* or a task's grown bound (idle_pause.c) */
  int64_t start = weir_now_ms();
  int sliced = 0;
  *full = 0;
  t->idle_wake = INT64_MAX;
  for (size_t n = 0; n < t->task_cap && !atomic_load(t->shared.stopping); n++) {
    size_t k = (t->next_task + n) % t->task_cap;
    weir_task_t *task = t->tasks[k];
    if (!task || !task->active || !task->buffered || task->restoring)
      continue; /* a restoring task's records wait (weir_restore_hold_back) */
    if (weir_now_ms() - start < SLICE_MS) {
      if (run_task(t, task, start, SLICE_MS) < 0)
        return 0;
    } else if (!sliced) {
      t->next_task = k; /* the slice ran out: this task goes first next time */
      sliced = 1;
    }
    if (task->idle.inputs > 1) { /* it may wait for an empty input (idle_pause.c) */
      weir_idle_account(t, task, &buffered, full);
      size_t bound = weir_idle_bound(t, task);
      cap = bound > cap ? bound : cap;
      continue;
    }
    buffered += task->buffered;
    for (size_t i = 0; i < task->tracker_count; i++)
      *full |= task->queues[i].count >= (size_t)t->buffer_bound;
  }
  *full |= buffered >= (size_t)THREAD_BUFFER_RECORDS && buffered >= cap;
  return buffered;
}

/* The wall-clock punctuators, from the loop so they fire while no record
 * arrives: late by at most a poll's wait (POLL_TIMEOUT_MS) or a slice of
 * processing. A task with none costs one comparison. */
static void run_wall_timers(weir_stream_thread_t *t) {
  for (size_t k = 0; k < t->task_cap && !atomic_load(t->shared.stopping); k++) {
    weir_task_t *task = t->tasks[k];
    if (task && task->active && !task->restoring && weir_task_wall_timers(task)) {
      if (!weir_txn_absorbs(t, task))
        t->shared.fail(t->shared.app, task->error);
      return;
    }
  }
}

/* A retiring instance whose flush failed lost what it held back, whose
 * inputs are not committed yet: this thread commits nothing more (as after
 * a failed delivery), the swap reports the failure and the app stops; the
 * inputs are processed again after a restart. */
static int commit_inst(weir_stream_thread_t *t, const weir_swap_phase_t *ph, weir_node_inst_t *inst,
                       const weir_node_t *next) {
  char why[1024];
  int rc = weir_inst_commit(inst, next, ph->next);
  if (rc >= 0)
    return rc;
  snprintf(why, sizeof why,
           "swap: %s: what it held back is lost, so nothing is committed past it; weir stops "
           "and its inputs are processed again after a restart",
           inst->task->error);
  t->delivery_failed++;
  weir_swap_fail(t->shared.swap, "%s", why);
  t->shared.fail(t->shared.app, why);
  return 1;
}

/* One instance's part in the phase being served. 1 when it moved. */
static int serve_inst(weir_stream_thread_t *t, const weir_swap_phase_t *ph,
                      weir_node_inst_t *inst) {
  char why[768];
  weir_swap_t *s = t->shared.swap;
  const weir_node_t *next = ph->next->topo->nodes[inst->node->index];
  if (!ph->moving[inst->node->index] || !weir_inst_swappable(inst, next))
    return 0; /* not moving, or opened on the new version already */
  if (ph->phase == WEIR_SWAP_PREPARE && !weir_swap_failed(s) &&
      weir_inst_prepare(inst, next, ph->next, why, sizeof why))
    weir_swap_fail(s, "%s", why);
  else if (ph->phase == WEIR_SWAP_COMMIT)
    return commit_inst(t, ph, inst, next);
  else if (ph->phase == WEIR_SWAP_ABORT)
    weir_inst_abort(inst);
  return 0;
}

/* A hot swap's phase (reload/swap.h), served between two records for the
 * tasks this thread has now. */
static void serve_swap(weir_stream_thread_t *t) {
  weir_swap_t *s = t->shared.swap;
  weir_swap_phase_t ph;
  if (!s || weir_swap_begin(s, &t->swap_member, &ph) == WEIR_SWAP_IDLE)
    return;
  long long moved = 0;
  for (size_t k = 0; k < t->task_cap; k++)
    for (size_t i = 0; t->tasks[k] && t->tasks[k]->active && i < t->tasks[k]->inst_count; i++)
      moved += serve_inst(t, &ph, &t->tasks[k]->insts[i]);
  weir_swap_done(s, &t->swap_member, moved);
}

/* No wait while there is work; else up to POLL_TIMEOUT_MS, shorter when a
 * task waiting for an empty input may stop waiting sooner (its wait is no
 * work: counting it so would poll with no wait in a busy loop). */
static int poll_timeout(const weir_stream_thread_t *t, int work) {
  if (work)
    return 0;
  if (t->idle_wake == INT64_MAX)
    return POLL_TIMEOUT_MS;
  int64_t left = t->idle_wake - weir_now_ms();
  return left <= 0 ? 0 : left < POLL_TIMEOUT_MS ? (int)left : POLL_TIMEOUT_MS;
}

static void run_loop(weir_stream_thread_t *t) {
  rd_kafka_message_t *msgs[BATCH_SIZE];
  int64_t interval = t->shared.topo->settings.commit_interval_ms;
  int64_t last_commit = weir_now_ms();
  size_t buffered = 0;
  int full = 0;
  t->idle_wake = INT64_MAX;
  while (!atomic_load(t->shared.stopping)) {
    if (weir_txn_broken(t))
      weir_thread_rewind(t); /* exactly_once: a new producer, from the last commit */
    serve_swap(t);           /* between two records */
    /* Back-pressure: while a partition's queue is at its bound, take nothing
     * more from librdkafka, whose own prefetch limits (queued.max.messages.
     * kbytes) then stop the fetching. Pausing the partition instead made
     * librdkafka 2.0.2 drop and re-fetch its prefetched records at every
     * pause: 0.08 of the baseline's throughput. Wait for records only when
     * there is nothing left to process. */
    int restoring = t->restoring && t->restoring->cnt;
    weir_sd_beat(t->index, !restoring && !t->begin_pending); /* systemd readiness, watchdog */
    if (restoring || t->begin_pending)
      weir_restore_poll(t);
    if (!full) {
      ssize_t n = rd_kafka_consume_batch_queue(t->queue, poll_timeout(t, buffered || restoring),
                                               msgs, BATCH_SIZE);
      /* Before routing, which may free them. */
      weir_fetch_wake_after_pull(t->fetch_wake, msgs, n > 0 ? (size_t)n : 0,
                                 rd_kafka_queue_length(t->queue));
      for (ssize_t i = 0; i < n; i++)
        route_message(t, msgs[i]);
    }
    buffered = run_tasks(t, &full);
    weir_spent_flush(&t->spent); /* before anything that may close or move a partition */
    run_wall_timers(t);
    rd_kafka_poll(t->producer, 0); /* delivery reports: they free commit positions */
    if (weir_resend_parked(t))
      weir_resend_flush(t, 0); /* as far as the queue has room now */
    if (weir_now_ms() - last_commit >= interval || t->commit_wanted) {
      weir_thread_commit(t, NULL, 0);
      last_commit = weir_now_ms();
    }
    weir_thread_publish(t);
  }
}

static void *thread_main(void *arg) {
  weir_stream_thread_t *t = arg;
  char name[16]; /* the OS name (top, gdb) and the "thread" of JSON logs */
  snprintf(name, sizeof name, "weir-stream-%d", t->index);
  pthread_setname_np(pthread_self(), name);
  WEIR_INFO("thread %d: started, subscribed to %zu topic(s) as group '%s'", t->index,
            t->topic_count, t->shared.topo->settings.application_id);
  if (t->shared.swap)
    weir_swap_join(t->shared.swap, &t->swap_member, t->index);
  run_loop(t);
  /* Out of swaps before the shutdown, which may take its time: a reload in
   * progress does not wait for this thread (what it prepared holds its own
   * version, and closes with its tasks). */
  if (t->shared.swap)
    weir_swap_leave(t->shared.swap, &t->swap_member);
  weir_thread_shutdown(t);
  WEIR_INFO("thread %d: stopped after %llu records (its consumer's fetchers woken %llu times)",
            t->index, atomic_load_explicit(&t->processed, memory_order_relaxed),
            weir_fetch_wake_count(t->fetch_wake));
  return NULL;
}

int weir_stream_thread_start(weir_stream_thread_t *t) {
  if (pthread_create(&t->tid, NULL, thread_main, t))
    return -1;
  t->started = 1;
  return 0;
}

void weir_stream_thread_join(weir_stream_thread_t *t) {
  if (t->started)
    pthread_join(t->tid, NULL);
  t->started = 0;
}

unsigned long long weir_stream_thread_processed(const weir_stream_thread_t *t) {
  return atomic_load_explicit(&((weir_stream_thread_t *)t)->processed, memory_order_relaxed);
}
