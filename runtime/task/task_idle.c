#include "task/task_idle.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "task/task.h"
#include "util/log.h"

enum { MAX_INPUTS = 64, LOG_EVERY_MS = 60000 };

/* Whether an empty input's lag is 0: its position is known and at or past
 * the high watermark. Unknown counts as behind, as in Kafka Streams. */
static int caught_up(const weir_idle_input_t *p) {
  return p->position >= 0 && p->high >= 0 && p->position >= p->high;
}

weir_idle_verdict_t weir_idle_decide(weir_idle_input_t *in, size_t n, int64_t max_idle_ms,
                                     int64_t now, int64_t *wake, unsigned *expired_now) {
  size_t queued = 0;
  int wait = 0, due = 0;
  *wake = INT64_MAX;
  *expired_now = 0;
  for (size_t i = 0; i < n; i++) {
    weir_idle_input_t *p = &in[i];
    if (p->buffered || !caught_up(p)) {
      p->idle_since = -1; /* the idle time counts from when it is caught up */
      p->expired = 0;
      queued += p->buffered > 0;
      wait |= !p->buffered;
      continue;
    }
    if (p->idle_since < 0)
      p->idle_since = now;
    int64_t deadline = p->idle_since + max_idle_ms;
    if (now < deadline) {
      wait = 1;
      *wake = deadline < *wake ? deadline : *wake;
    } else {
      due = 1;
    }
  }
  if (wait || !queued)
    return WEIR_IDLE_WAIT;
  if (!due)
    return WEIR_IDLE_PROCESS;
  for (size_t i = 0; i < n; i++)
    if (!in[i].buffered && !in[i].expired) { /* one count per wait that expired */
      in[i].expired = 1;
      (*expired_now)++;
    }
  return WEIR_IDLE_ENFORCED;
}

int weir_task_idle_init(weir_task_idle_t *idle, size_t parts) {
  memset(idle, 0, sizeof *idle);
  idle->parts = calloc(parts ? parts : 1, sizeof *idle->parts);
  if (!idle->parts)
    return -1;
  weir_task_idle_reset(idle, parts);
  return 0;
}

void weir_task_idle_free(weir_task_idle_t *idle) {
  free(idle->parts);
  idle->parts = NULL;
}

void weir_task_idle_reset(weir_task_idle_t *idle, size_t parts) {
  for (size_t i = 0; idle->parts && i < parts; i++)
    idle->parts[i] = (weir_idle_part_t){.end_at = -1, .idle_since = -1};
  idle->inputs = 0;
  idle->paused = 0;
  idle->waiting = 0;
  idle->wake = INT64_MAX;
  idle->bound_scale = 1;
}

void weir_task_idle_add_input(weir_task_t *task, size_t idx) {
  weir_task_idle_t *idle = &task->idle;
  if (idx >= task->tracker_count || idle->parts[idx].input || !task->env->high_watermark ||
      task->env->topo->settings.max_task_idle_ms < 0)
    return;
  idle->parts[idx].input = 1;
  idle->inputs++;
}

void weir_task_idle_end(weir_task_t *task, size_t idx, int64_t offset) {
  if (idx < task->tracker_count)
    task->idle.parts[idx].end_at = offset;
}

/* Records queued before the end event are below it too, and must not undo
 * it: under exactly_once the end steps over the transaction marker after
 * them, which no record shows, and without it the task would wait for that
 * marker for ever (a foreign-key join reading back its own transactional
 * topics hung so, e2e/test_fk_join_kstreams_eos). */
void weir_task_idle_arrived(weir_task_t *task, size_t idx, int64_t offset) {
  if (idx < task->tracker_count && offset < task->idle.parts[idx].end_at)
    task->idle.parts[idx].end_at = -1;
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Where the consumer is on queue k's partition: one past the last record
 * the task began, or its last end-of-partition offset when later. */
static int64_t position_of(const weir_task_t *task, size_t k) {
  int64_t next = task->trackers[k].next_offset, end = task->idle.parts[k].end_at;
  return next > end ? next : end;
}

/* An empty input's position and end. Read committed (exactly_once), the
 * end is the last stable offset, which librdkafka does not cache: records
 * of an open transaction are not readable yet, so the offset of the
 * consumer's end-of-partition event, when nothing came after it, stands
 * for it (Kafka Streams' lag is the LSO's there). */
static void lag_of(const weir_task_t *task, size_t k, weir_idle_input_t *in) {
  const weir_task_env_t *env = task->env;
  int64_t end = task->idle.parts[k].end_at;
  in->position = position_of(task, k);
  in->high = env->high_watermark(env->watermark_opaque, k, task->partition);
  if (env->topo->settings.guarantee == WEIR_EXACTLY_ONCE && end >= 0 && end == in->position &&
      in->high > end)
    in->high = end;
}

static const char *topic_of(const weir_task_t *task, size_t k) {
  return task->env->topic_names ? task->env->topic_names[k] : "?";
}

/* The first time a run stops to wait: which input, and why. */
static void log_wait(const weir_task_t *task, const weir_idle_input_t *in, const size_t *at,
                     size_t n) {
  for (size_t i = 0; i < n; i++) {
    const weir_idle_input_t *p = &in[i];
    if (p->buffered)
      continue;
    int64_t max = task->env->topo->settings.max_task_idle_ms;
    if (p->position < 0 || p->high < 0)
      WEIR_DEBUG("task %s: waits for '%s' [%d]: nothing buffered and its lag is not known yet "
                 "(max.task.idle.ms = %lld)",
                 task->id, topic_of(task, at[i]), (int)task->partition, (long long)max);
    else if (p->position < p->high)
      WEIR_DEBUG("task %s: waits for '%s' [%d]: nothing buffered and %lld records on the broker "
                 "not fetched yet (max.task.idle.ms = %lld)",
                 task->id, topic_of(task, at[i]), (int)task->partition,
                 (long long)(p->high - p->position), (long long)max);
    else
      WEIR_DEBUG("task %s: waits up to %lld ms for '%s' [%d]: nothing buffered, caught up "
                 "(max.task.idle.ms)",
                 task->id, (long long)max, topic_of(task, at[i]), (int)task->partition);
    return;
  }
}

/* Kafka Streams' "enforced processing": counted per wait that expired,
 * logged at most once a minute per task. */
static void note_enforced(weir_task_t *task, const weir_idle_input_t *in, const size_t *at,
                          size_t n, unsigned expired, int64_t now) {
  weir_task_idle_t *idle = &task->idle;
  idle->enforced += expired;
  if (idle->logged_ms && now - idle->logged_ms < LOG_EVERY_MS)
    return;
  idle->logged_ms = now;
  for (size_t i = 0; i < n; i++)
    if (!in[i].buffered) {
      WEIR_INFO("task %s: goes on without '%s' [%d] after %lld ms (max.task.idle.ms = %lld): "
                "nothing of it is buffered or on the broker, so a record of it that comes later "
                "may follow newer records of the other inputs (weir_task_enforced_processing_total "
                "%llu)",
                task->id, topic_of(task, at[i]), (int)task->partition,
                (long long)(now - in[i].idle_since),
                (long long)task->env->topo->settings.max_task_idle_ms, idle->enforced);
      return;
    }
}

/* The rule over the task's inputs now; 1 when the task may process. */
static int ready(weir_task_t *task) {
  weir_task_idle_t *idle = &task->idle;
  const weir_task_env_t *env = task->env;
  weir_idle_input_t in[MAX_INPUTS];
  size_t at[MAX_INPUTS], n = 0;
  for (size_t k = 0; k < task->tracker_count && n < MAX_INPUTS; k++) {
    weir_idle_part_t *p = &idle->parts[k];
    const weir_input_queue_t *q = &task->queues[k];
    if (!p->input && !q->count)
      continue; /* a queue holding records counts whatever the assignment said */
    in[n] = (weir_idle_input_t){task->queues[k].count, -1, -1, p->idle_since, p->expired};
    if (!in[n].buffered) /* only an empty input needs its lag */
      lag_of(task, k, &in[n]);
    at[n++] = k;
  }
  int64_t now = mono_ms(), wake;
  unsigned expired;
  weir_idle_verdict_t v =
      weir_idle_decide(in, n, env->topo->settings.max_task_idle_ms, now, &wake, &expired);
  for (size_t i = 0; i < n; i++) {
    idle->parts[at[i]].idle_since = in[i].idle_since;
    idle->parts[at[i]].expired = (unsigned char)in[i].expired;
  }
  if (expired)
    note_enforced(task, in, at, n, expired, now);
  if (v == WEIR_IDLE_WAIT && !idle->waiting)
    log_wait(task, in, at, n);
  idle->waiting = v == WEIR_IDLE_WAIT;
  idle->wake = wake;
  return v != WEIR_IDLE_WAIT;
}

int weir_task_idle_run(weir_task_t *task, int budget) {
  int done = 0;
  int go = ready(task);
  while (go && done < budget && task->buffered > 0 && !atomic_load(task->env->stopping)) {
    int idx, rc = weir_task_run_one(task, &idx);
    if (rc < 0)
      return -1;
    if (rc == 0)
      break;
    done++;
    if (task->waited)
      break; /* back to the poll, as weir_task_run */
    if (!task->queues[idx].count && task->buffered)
      go = ready(task); /* an input just emptied: the rule again */
  }
  if (!task->buffered)
    task->idle.waiting = 0; /* nothing left to wait with */
  return done;
}
