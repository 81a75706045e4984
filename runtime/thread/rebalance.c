/* Partitions coming and going: tasks opened on assign, drained, committed
 * and closed on revoke, closed without committing when lost; and the same
 * bounded drain-commit-close at shutdown. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thread/thread_internal.h"
#include "util/log.h"

weir_task_t *weir_thread_task(weir_stream_thread_t *t, int32_t partition) {
  return partition >= 0 && (size_t)partition < t->task_cap ? t->tasks[partition] : NULL;
}

static int grow_tasks(weir_stream_thread_t *t, int32_t partition) {
  if ((size_t)partition < t->task_cap)
    return 0;
  size_t cap = t->task_cap ? t->task_cap : 16;
  while (cap <= (size_t)partition)
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

/* The task for `partition`, created on first use and kept afterwards so its
 * tracker slots stay valid for late delivery reports. */
static weir_task_t *task_for(weir_stream_thread_t *t, int32_t partition) {
  uint32_t slots[64];
  if (grow_tasks(t, partition))
    return NULL;
  if (t->tasks[partition])
    return t->tasks[partition];
  if (t->topic_count > 64 || add_slots(t, t->topic_count, slots))
    return NULL;
  weir_task_t *task = weir_task_new(&t->env, partition, t->topic_count, slots);
  if (!task)
    return NULL;
  for (size_t i = 0; i < t->topic_count; i++)
    t->slots[t->slot_count++] = &task->trackers[i];
  t->tasks[partition] = task;
  return task;
}

static int open_tasks(weir_stream_thread_t *t, const rd_kafka_topic_partition_list_t *parts,
                      char *list, size_t list_size) {
  char why[1024];
  size_t used = 0;
  for (int i = 0; i < parts->cnt; i++) {
    weir_task_t *task = task_for(t, parts->elems[i].partition);
    if (!task) {
      t->shared.fail(t->shared.app, "out of memory creating a task");
      return -1;
    }
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
    weir_task_t *task = weir_thread_task(t, parts->elems[i].partition);
    if (!task || !task->active)
      continue;
    weir_task_close(task);
    used += (size_t)snprintf(list + used, used < list_size ? list_size - used : 0, "%s%s",
                             used ? ", " : "", task->id);
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
  open_tasks(t, parts, list, sizeof list);
  if (cooperative(rk))
    rd_kafka_incremental_assign(rk, parts);
  else
    rd_kafka_assign(rk, parts);
  WEIR_INFO("thread %d: rebalance: gained tasks [%s] (%d partitions) in %lld ms", t->index, list,
            parts->cnt, (long long)(weir_now_ms() - start));
}

static void on_revoke(weir_stream_thread_t *t, rd_kafka_t *rk,
                      rd_kafka_topic_partition_list_t *parts) {
  char list[2048] = "";
  int64_t start = weir_now_ms();
  int lost = rd_kafka_assignment_lost(rk);
  if (!lost && weir_thread_drain(t) == 0)
    weir_thread_commit(t, parts, 1);
  close_tasks(t, parts, list, sizeof list);
  if (cooperative(rk))
    rd_kafka_incremental_unassign(rk, parts);
  else
    rd_kafka_assign(rk, NULL);
  if (!list[0] && !lost)
    return; /* at shutdown the tasks were closed already */
  WEIR_INFO("thread %d: rebalance: %s tasks [%s] in %lld ms%s", t->index,
            lost ? "lost" : "revoked", list, (long long)(weir_now_ms() - start),
            lost ? " (not committed: the group moved on without us)" : "");
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
