/* A task waiting for an empty input (max.task.idle.ms, task/task_idle.h)
 * and the thread's back-pressure.
 *
 * The thread takes nothing from librdkafka while a partition's queue is at
 * its bound (stream_thread.c). A task that waits for its empty partition
 * while another of its queues is full would then never see the records it
 * waits for: a deadlock. So a waiting task's queues count neither as full
 * nor as buffered work for the thread: its partitions at the bound are
 * paused instead, and resumed once their queue is below the bound again,
 * at an explicit offset (one past the last record queued), because
 * librdkafka 2.0.2's consume_batch_queue can move a paused partition's
 * resume position past records it then purged (fixed in 2.1.0). Pausing
 * costs a re-fetch of the prefetched records (stream_thread.c), paid only
 * while a task waits with a full queue. A task that closes gets its
 * partitions resumed first, so a partition assigned again is consumed.
 *
 * librdkafka hands a backlog over in runs of one partition (a fetch of up
 * to max.partition.fetch.bytes each), so two inputs of a join arrive in
 * turns: with queues bounded at 1000 records, one input filled up while the
 * other's run was still behind it, every run cost a pause, a seek and a
 * re-fetch, and a stream-stream join over a backlog ran at 41,000 records/s.
 * So each pause doubles the task's bound (weir_idle_bound), up to
 * WEIR_IDLE_BOUND_SCALE_MAX times buffered.records.per.partition: the bound
 * grows only for a task whose inputs arrive in such runs, to the size of a
 * run. */
#include <stdio.h>

#include "thread/thread_internal.h"
#include "util/log.h"

int64_t weir_idle_high_watermark(void *opaque, size_t topic_index, int32_t partition) {
  weir_stream_thread_t *t = opaque;
  int64_t lo = -1, hi = -1;
  if (topic_index >= t->topic_count ||
      rd_kafka_get_watermark_offsets(t->consumer, t->topics[topic_index], partition, &lo, &hi))
    return -1;
  return hi >= 0 ? hi : -1; /* RD_KAFKA_OFFSET_INVALID before the first fetch answer */
}

void weir_idle_partition_end(weir_stream_thread_t *t, const rd_kafka_message_t *msg, int idx) {
  weir_task_t *task =
      idx < 0 ? NULL : weir_thread_task(t, t->env.topic_subtopology[idx], msg->partition);
  if (task && task->active)
    weir_task_idle_end(task, (size_t)idx, msg->offset);
}

/* Where queue k's partition goes on from: one past its last record queued,
 * or past the last one begun when the queue is empty. */
static int64_t resume_offset(const weir_task_t *task, size_t k) {
  const weir_input_queue_t *q = &task->queues[k];
  if (q->count)
    return q->ring[(q->head + q->count - 1) & (q->cap - 1)].msg->offset + 1;
  return task->trackers[k].next_offset;
}

static void fail_pause(weir_stream_thread_t *t, const weir_task_t *task, size_t k, const char *what,
                       const char *why) {
  char msg[768];
  snprintf(msg, sizeof msg,
           "task %s: cannot %s '%s' [%d] (max.task.idle.ms): %s; stopping (nothing past its "
           "records is committed)",
           task->id, what, t->topics[k], (int)task->partition, why);
  t->shared.fail(t->shared.app, msg);
}

static void pause_part(weir_stream_thread_t *t, weir_task_t *task, size_t k) {
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, t->topics[k], task->partition);
  rd_kafka_resp_err_t err = rd_kafka_pause_partitions(t->consumer, l);
  if (!err)
    err = l->elems[0].err;
  rd_kafka_topic_partition_list_destroy(l);
  if (err) {
    fail_pause(t, task, k, "pause", rd_kafka_err2str(err));
    return;
  }
  task->idle.parts[k].paused = 1;
  task->idle.paused++;
  if (task->idle.bound_scale < WEIR_IDLE_BOUND_SCALE_MAX)
    task->idle.bound_scale *= 2;
  WEIR_DEBUG("thread %d: task %s waits for an empty input: '%s' [%d] paused at %zu records; "
             "its queues' bound is now %zu",
             t->index, task->id, t->topics[k], (int)task->partition, task->queues[k].count,
             weir_idle_bound(t, task));
}

/* Resume; then, unless the task is closing (`seek` 0), seek to where its
 * queue ends. */
static void resume_part(weir_stream_thread_t *t, weir_task_t *task, size_t k, int seek) {
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, t->topics[k], task->partition);
  rd_kafka_resp_err_t err = rd_kafka_resume_partitions(t->consumer, l);
  if (!err)
    err = l->elems[0].err;
  int64_t at = seek ? resume_offset(task, k) : -1;
  rd_kafka_error_t *error = NULL;
  if (!err && at >= 0) {
    task->idle.parts[k].end_at = -1; /* an end seen before is ahead of where it goes on */
    l->elems[0].offset = at;
    /* Asynchronous: librdkafka drops what its fetcher still brings from
     * the old position (a newer op version), and a synchronous seek waited
     * on a busy fetcher until it timed out and stopped weir. */
    error = rd_kafka_seek_partitions(t->consumer, l, 0);
    if (!error && l->elems[0].err != RD_KAFKA_RESP_ERR__IN_PROGRESS)
      err = l->elems[0].err;
  }
  rd_kafka_topic_partition_list_destroy(l);
  task->idle.parts[k].paused = 0;
  task->idle.paused--;
  const char *why = error ? rd_kafka_error_string(error) : err ? rd_kafka_err2str(err) : NULL;
  if (!why && at >= 0)
    WEIR_DEBUG("thread %d: task %s: '%s' [%d] resumed at offset %lld", t->index, task->id,
               t->topics[k], (int)task->partition, (long long)at);
  else if (!why)
    WEIR_DEBUG("thread %d: task %s: '%s' [%d] resumed: its task closes", t->index, task->id,
               t->topics[k], (int)task->partition);
  if (why && seek)
    fail_pause(t, task, k, "resume and seek", why);
  else if (why) /* closing: the partition is being revoked, or sought again */
    WEIR_WARN("thread %d: task %s: cannot resume '%s' [%d] while closing: %s", t->index, task->id,
              t->topics[k], (int)task->partition, why);
  if (error)
    rd_kafka_error_destroy(error);
}

size_t weir_idle_bound(const weir_stream_thread_t *t, const weir_task_t *task) {
  return (size_t)t->buffer_bound * (task->idle.bound_scale ? task->idle.bound_scale : 1);
}

void weir_idle_account(weir_stream_thread_t *t, weir_task_t *task, size_t *buffered, int *full) {
  size_t bound = weir_idle_bound(t, task);
  /* At half the bound again, waiting or not: it may be the input waited for
   * now (the task went on with it and emptied it). Half, not one under: a
   * resume costs a re-fetch and a seek, which every record paid at one
   * under (a stream-stream join over a backlog ran at 15,000 records/s). */
  for (size_t k = 0; task->idle.paused && k < task->tracker_count; k++)
    if (task->idle.parts[k].paused && task->queues[k].count <= bound / 2)
      resume_part(t, task, k, 1);
  if (task->idle.waiting) {
    for (size_t k = 0; k < task->tracker_count; k++)
      if (task->queues[k].count >= bound && !task->idle.parts[k].paused)
        pause_part(t, task, k);
    if (task->idle.wake < t->idle_wake)
      t->idle_wake = task->idle.wake;
    return; /* neither full nor work: the thread polls on (a short wait, never a busy loop) */
  }
  *buffered += task->buffered;
  for (size_t k = 0; k < task->tracker_count; k++)
    *full |= task->queues[k].count >= bound;
}

void weir_idle_release(weir_stream_thread_t *t, weir_task_t *task) {
  for (size_t k = 0; task->idle.paused && k < task->tracker_count; k++)
    if (task->idle.parts[k].paused)
      resume_part(t, task, k, 0);
}
