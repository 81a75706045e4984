/* What the thread owns, published for the HTTP server (http/ownership.h):
 * task states at once after a rebalance or a restore, and stream time, lag,
 * restore progress and operator counters once a second from the loop. Off
 * the record path: the loop calls it between two batches. */
#include <stdlib.h>
#include <string.h>

#include "http/ownership.h"
#include "kafka/fetch_wake.h"
#include "thread/thread_internal.h"

static weir_own_state_t state_of(const weir_task_t *task) {
  if (!task || !task->active)
    return WEIR_OWN_NONE;
  return task->restoring ? WEIR_OWN_RESTORING : WEIR_OWN_RUNNING;
}

/* Records behind the high watermark, over the task's partitions; -1 when
 * not known yet. The watermark is librdkafka's cached one (no request). */
static long long lag_of(weir_stream_thread_t *t, const weir_task_t *task) {
  long long lag = 0;
  int known = 0;
  for (size_t k = 0; k < task->tracker_count && k < t->topic_count; k++) {
    int64_t lo = -1, hi = -1;
    const weir_offset_tracker_t *tr = &task->trackers[k];
    if (t->env.topic_subtopology[k] != task->subtopology ||
        rd_kafka_get_watermark_offsets(t->consumer, t->topics[k], task->partition, &lo, &hi) ||
        hi < 0)
      continue;
    int64_t next = tr->next_offset >= 0 ? tr->next_offset : tr->committed >= 0 ? tr->committed : lo;
    lag += hi > next ? hi - next : 0;
    known = 1;
  }
  return known ? lag : -1;
}

/* Where the task's partitions are (their next offsets summed): its rate
 * is this position's change over time. */
static long long position_of(const weir_task_t *task) {
  long long pos = 0;
  for (size_t k = 0; k < task->tracker_count; k++)
    pos += task->trackers[k].next_offset > 0 ? task->trackers[k].next_offset : 0;
  return pos;
}

static void restore_progress(const weir_task_t *task, weir_own_slot_t *s) {
  long long done = 0, total = 0;
  for (size_t i = 0; i < task->store_count; i++) {
    const weir_task_store_t *ts = &task->stores[i];
    if (!ts->restoring)
      continue;
    total += ts->restore_to - ts->restore_from;
    done += ts->restored;
  }
  atomic_store(&s->restore_done, done);
  atomic_store(&s->restore_total, total);
}

static int add_metric(weir_own_metric_t **m, size_t *n, size_t *cap, int node,
                      const weir_node_metric_t *nm) {
  for (size_t i = 0; i < *n; i++)
    if ((*m)[i].node == node && strcmp((*m)[i].name, nm->name) == 0) {
      (*m)[i].value += nm->value;
      return 0;
    }
  if (*n == *cap) {
    size_t ncap = *cap ? *cap * 2 : 8;
    weir_own_metric_t *grown = realloc(*m, ncap * sizeof *grown);
    if (!grown)
      return -1;
    *m = grown;
    *cap = ncap;
  }
  char *name = strdup(nm->name);
  if (!name)
    return -1;
  (*m)[(*n)++] = (weir_own_metric_t){node, name, nm->value};
  return 0;
}

/* Operators' weir_metric_add counters, summed over this thread's tasks. */
static void publish_metrics(weir_stream_thread_t *t) {
  weir_own_metric_t *m = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  for (size_t k = 0; rc == 0 && k < t->task_cap; k++) {
    const weir_task_t *task = t->tasks[k];
    for (size_t i = 0; rc == 0 && task && i < task->inst_count; i++)
      for (size_t j = 0; rc == 0 && j < task->insts[i].metric_count; j++)
        rc = add_metric(&m, &n, &cap, (int)i, &task->insts[i].metrics[j]);
  }
  if (rc) { /* out of memory: keep the previous copy */
    weir_ownership_metrics_free(m, n);
    return;
  }
  weir_ownership_set_metrics(t->shared.owners, t->index, m, n);
}

void weir_thread_publish_states(weir_stream_thread_t *t) {
  for (size_t k = 0; t->shared.owners && k < t->task_cap; k++) {
    const weir_task_t *task = t->tasks[k];
    if (task)
      weir_ownership_set(t->shared.owners, task->subtopology, task->partition, state_of(task),
                         t->index);
  }
}

void weir_thread_publish_revoked(weir_stream_thread_t *t,
                                 const rd_kafka_topic_partition_list_t *parts) {
  for (int i = 0; t->shared.owners && i < parts->cnt; i++) {
    int idx = weir_thread_topic_index(t, parts->elems[i].topic);
    if (idx >= 0)
      weir_ownership_set(t->shared.owners, t->env.topic_subtopology[idx], parts->elems[i].partition,
                         WEIR_OWN_NONE, t->index);
  }
}

void weir_thread_publish(weir_stream_thread_t *t) {
  enum { EVERY_MS = 1000 };
  int64_t now = weir_now_ms();
  if (!t->shared.owners || now - t->last_publish_ms < EVERY_MS)
    return;
  t->last_publish_ms = now;
  atomic_store(&t->shared.owners->threads[t->index].fetch_wakes,
               weir_fetch_wake_count(t->fetch_wake));
  weir_thread_publish_states(t);
  for (size_t k = 0; k < t->task_cap; k++) {
    const weir_task_t *task = t->tasks[k];
    weir_own_slot_t *s =
        task ? weir_ownership_slot(t->shared.owners, task->subtopology, task->partition) : NULL;
    if (!s || !task->active)
      continue;
    atomic_store(&s->stream_time, task->stream_time);
    atomic_store(&s->buffered, (long long)task->buffered);
    atomic_store(&s->lag, lag_of(t, task));
    atomic_store(&s->position, position_of(task));
    atomic_store(&s->enforced, (long long)task->idle.enforced);
    restore_progress(task, s);
  }
  publish_metrics(t);
  weir_ownership_set_stats(t->shared.owners, t->index, t->env.node_stats, t->env.topo->node_count,
                           t->env.policy_stats);
}
