#include "task/timers.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "task/task.h"
#include "util/log.h"

enum timer_state {
  TIMER_LIVE = 0,
  TIMER_DEAD = 1,     /* cancelled while firing: removed after the round */
  TIMER_SWAP_NEW = 2, /* scheduled by a swap's new version: live at its commit */
  TIMER_SWAP_KEPT = 3 /* an old timer the new version scheduled again */
};

void weir_timers_init(weir_task_timers_t *tm) {
  memset(tm, 0, sizeof *tm);
  tm->stream_due = INT64_MAX;
  tm->wall_due = INT64_MAX;
}

void weir_timers_clear(weir_task_timers_t *tm) {
  tm->count = 0;
  tm->stream_due = INT64_MAX;
  tm->wall_due = INT64_MAX;
}

void weir_timers_free(weir_task_timers_t *tm) {
  free(tm->items);
  weir_timers_init(tm);
}

int64_t weir_task_wall_clock(const weir_task_t *task) {
  struct timespec ts;
  if (task->env->wall_clock)
    return *task->env->wall_clock;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether it fires: a timer the new version of a hot swap took over keeps
 * firing with the old version until the commit. */
static int fires(const weir_timer_t *t) {
  return t->state == TIMER_LIVE || t->state == TIMER_SWAP_KEPT;
}

/* Remove dead timers (not while a punctuate() runs: the round indexes
 * them) and recompute the earliest due times. */
static void settle(weir_task_timers_t *tm) {
  size_t kept = 0;
  tm->stream_due = INT64_MAX;
  tm->wall_due = INT64_MAX;
  for (size_t i = 0; i < tm->count; i++) {
    weir_timer_t *t = &tm->items[i];
    if (t->state == TIMER_DEAD && !tm->firing)
      continue;
    if (fires(t)) {
      int64_t *due = t->domain == WEIR_STREAM_TIME ? &tm->stream_due : &tm->wall_due;
      if (t->next < *due)
        *due = t->next;
    }
    tm->items[kept++] = *t;
  }
  tm->count = kept;
}

void weir_timers_drop_inst(weir_task_t *task, const weir_node_inst_t *inst) {
  weir_task_timers_t *tm = &task->timers;
  size_t index = (size_t)(inst - task->insts);
  for (size_t i = 0; i < tm->count; i++)
    if (tm->items[i].inst == index)
      tm->items[i].state = TIMER_DEAD;
  settle(tm);
}

/* The first boundary after `now` (stream time: multiples of the interval). */
static int64_t boundary_after(int64_t interval, int64_t now) {
  return now < 0 ? 0 : (now / interval + 1) * interval;
}

/* During a swap, the old timer of the same domain and interval that the new
 * version has not taken over yet. */
static weir_timer_t *old_twin(weir_task_timers_t *tm, size_t index, int domain, int64_t interval) {
  for (size_t i = 0; i < tm->count; i++) {
    weir_timer_t *t = &tm->items[i];
    if (t->inst == index && t->state == TIMER_LIVE && t->domain == domain &&
        t->interval == interval)
      return t;
  }
  return NULL;
}

int64_t weir_api_timer_schedule(weir_ctx_t *ctx, int domain, int64_t interval_ms) {
  weir_node_inst_t *inst = (weir_node_inst_t *)ctx;
  weir_task_t *task = inst->task;
  weir_task_timers_t *tm = &task->timers;
  size_t index = (size_t)(inst - task->insts);
  if (domain != WEIR_STREAM_TIME && domain != WEIR_WALL_CLOCK)
    return WEIR_EINVAL;
  if (interval_ms < 1)
    return WEIR_EINVAL;
  if (inst->closing)
    return WEIR_ESTATE;
  if (!inst->impl->op->def.punctuate)
    return WEIR_ENOTSUP;
  weir_timer_t *twin = inst->swapping ? old_twin(tm, index, domain, interval_ms) : NULL;
  if (twin) {
    twin->state = TIMER_SWAP_KEPT;
    settle(tm);
    return twin->id;
  }
  if (tm->count == tm->cap) {
    size_t cap = tm->cap ? tm->cap * 2 : 4;
    weir_timer_t *grown = realloc(tm->items, cap * sizeof *grown);
    if (!grown)
      return WEIR_ENOMEM;
    tm->items = grown;
    tm->cap = cap;
  }
  weir_timer_t *t = &tm->items[tm->count++];
  t->id = ++tm->last_id;
  t->inst = index;
  t->domain = domain;
  t->interval = interval_ms;
  t->state = inst->swapping ? TIMER_SWAP_NEW : TIMER_LIVE;
  t->next = domain == WEIR_STREAM_TIME ? boundary_after(interval_ms, task->stream_time - 1)
                                       : weir_task_wall_clock(task) + interval_ms;
  settle(tm);
  return t->id;
}

int weir_api_timer_cancel(weir_ctx_t *ctx, int64_t timer) {
  weir_node_inst_t *inst = (weir_node_inst_t *)ctx;
  weir_task_timers_t *tm = &inst->task->timers;
  size_t index = (size_t)(inst - inst->task->insts);
  if (inst->closing)
    return WEIR_OK; /* closing drops them; a swap's old version leaves them to the new */
  for (size_t i = 0; i < tm->count; i++) {
    weir_timer_t *t = &tm->items[i];
    if (t->id == timer && t->inst == index && t->state != TIMER_DEAD) {
      t->state = TIMER_DEAD;
      settle(tm);
      return WEIR_OK;
    }
  }
  return WEIR_ENOENT;
}

/* What punctuate() did wrong, by the error policy: 0 to go on, -1 to stop. */
static int punctuate_failed(weir_task_t *task, weir_node_inst_t *inst, int64_t id) {
  const weir_settings_t *cfg = &task->env->topo->settings;
  if (task->produce_failed == WEIR_PRODUCE_STOPPED) {
    task->error[0] = '\0';
    return 0; /* a stop is no failure; its outputs are not committed */
  }
  char why[sizeof task->error];
  snprintf(why, sizeof why, "%s", task->error);
  if (task->produce_failed || cfg->error_policy == WEIR_ONERR_FAIL) {
    snprintf(task->error, sizeof task->error,
             "operator '%s' (plugin %s, type %s): timer %lld on task %s failed: %s; stopping, "
             "nothing past it is committed",
             inst->node->name, inst->impl->plugin->ref, inst->impl->op->def.type, (long long)id,
             task->id, why);
    return -1;
  }
  WEIR_WARN("operator '%s' (plugin %s, type %s): timer %lld on task %s failed: %s; skipped%s",
            inst->node->name, inst->impl->plugin->ref, inst->impl->op->def.type, (long long)id,
            task->id, why,
            cfg->error_policy == WEIR_ONERR_DEAD_LETTER
                ? " (a punctuation has no input record for the dead-letter topic)"
                : "");
  task->error[0] = '\0';
  return 0;
}

/* One punctuate() call. Its outputs belong to no input (as a flush()'s). */
static int punctuate(weir_task_t *task, weir_node_inst_t *inst, int64_t id, int64_t ts) {
  task->in_process = 1;
  task->cur_tracker = NULL;
  task->origin.topic = NULL;
  task->input_timestamp = ts; /* what a forwarded timestamp 0 becomes */
  task->error[0] = '\0';
  task->produce_failed = WEIR_PRODUCE_OK;
  task->produce_error[0] = '\0';
  int rc = inst->impl->op->def.punctuate(&inst->ctx, inst->self, id, ts);
  task->in_process = 0;
  if (rc != WEIR_OK)
    weir_task_set_error(task, "punctuate returned error %d", rc);
  return task->error[0] || task->produce_failed ? punctuate_failed(task, inst, id) : 0;
}

/* Fire `domain`'s timers due at `now`. Timers scheduled meanwhile wait for
 * the next round; cancelled ones are removed after it. */
static int fire(weir_task_t *task, int domain, int64_t now) {
  weir_task_timers_t *tm = &task->timers;
  size_t n = tm->count;
  int rc = 0;
  tm->firing++;
  for (size_t i = 0; i < n && rc == 0; i++) {
    weir_timer_t *t = &tm->items[i];
    if (t->domain != domain || !fires(t) || t->next > now)
      continue;
    weir_node_inst_t *inst = &task->insts[t->inst];
    int64_t id = t->id;
    /* Once per advance: the next due time is the first after now. */
    t->next = domain == WEIR_STREAM_TIME
                  ? boundary_after(t->interval, now)
                  : t->next + ((now - t->next) / t->interval + 1) * t->interval;
    if (inst->initialized && inst->impl->op->def.punctuate)
      rc = punctuate(task, inst, id, now);
  }
  tm->firing--;
  settle(tm);
  return rc;
}

int weir_timers_fire_stream(weir_task_t *task) {
  return fire(task, WEIR_STREAM_TIME, task->stream_time);
}

int weir_timers_fire_wall(weir_task_t *task, int64_t now) {
  return fire(task, WEIR_WALL_CLOCK, now);
}

void weir_timers_swap_commit(weir_task_t *task, const weir_node_inst_t *inst, int punctuates) {
  weir_task_timers_t *tm = &task->timers;
  size_t index = (size_t)(inst - task->insts);
  for (size_t i = 0; i < tm->count; i++) {
    weir_timer_t *t = &tm->items[i];
    if (t->inst == index && t->state != TIMER_DEAD)
      t->state = punctuates ? TIMER_LIVE : TIMER_DEAD;
  }
  settle(tm);
}

void weir_timers_swap_abort(weir_task_t *task, const weir_node_inst_t *inst) {
  weir_task_timers_t *tm = &task->timers;
  size_t index = (size_t)(inst - task->insts);
  for (size_t i = 0; i < tm->count; i++) {
    weir_timer_t *t = &tm->items[i];
    if (t->inst == index && t->state == TIMER_SWAP_NEW)
      t->state = TIMER_DEAD;
    else if (t->inst == index && t->state == TIMER_SWAP_KEPT)
      t->state = TIMER_LIVE;
  }
  settle(tm);
}
