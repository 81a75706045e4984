/* A stream thread's part of a hot swap (reload/swap.h): between two records
 * of its loop, it prepares, commits or aborts the swap for its own tasks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reload/swap.h"
#include "thread/thread_internal.h"
#include "util/log.h"

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Old save() to new load(): the in-memory state crosses the swap. */
static int transfers(const weir_node_t *old, const weir_node_t *next) {
  return old->op->def.save && next->op->def.load;
}

/* Call the new version's init for `inst` (its host API calls must see the
 * new parameters, so the instance points at the new node meanwhile). */
static int init_next(weir_node_inst_t *inst, const weir_node_t *next, void **self, char *why,
                     size_t why_size) {
  const weir_node_t *was = inst->impl;
  inst->impl = next;
  *self = NULL;
  int rc = next->op->def.init(&inst->ctx, self, why, why_size);
  inst->impl = was;
  return rc;
}

static void prepare_inst(weir_swap_t *s, weir_node_inst_t *inst) {
  char why[512] = "";
  const weir_node_t *next = s->next->topo->nodes[inst->node->index];
  if (transfers(inst->impl, next)) {
    inst->prepared = 1; /* nothing to create before the commit */
    return;
  }
  if (init_next(inst, next, &inst->next_self, why, sizeof why) != WEIR_OK) {
    weir_swap_fail(s, "operator '%s' (plugin %s, type %s) failed to start on task %s: %s",
                   inst->node->name, next->plugin->source, next->op->def.type, inst->task->id,
                   why[0] ? why : "init returned an error and gave no reason");
    return;
  }
  inst->prepared = 1;
}

/* Hand the state over (save -> load); on a failed load the old version
 * takes its state back when it can, else the new one starts afresh. */
static int transfer(weir_node_inst_t *inst, const weir_node_t *next) {
  weir_state_buf_t buf = {0};
  char why[512] = "";
  const weir_node_t *old = inst->impl;
  void *self = NULL;
  int rc = old->op->def.save(&inst->ctx, inst->self, (weir_buf_t *)&buf);
  inst->impl = next;
  if (rc == WEIR_OK)
    rc = next->op->def.load(&inst->ctx, &self, buf.data, buf.len, why, sizeof why);
  inst->impl = old;
  if (rc == WEIR_OK) {
    inst->self = self;
  } else if (old->op->def.load && old->op->def.load(&inst->ctx, &inst->self, buf.data, buf.len, why,
                                                    sizeof why) == WEIR_OK) {
    WEIR_ERROR("swap: operator '%s' on task %s: the new version's load failed (%s); the old "
               "version keeps running there",
               inst->node->name, inst->task->id, why);
    free(buf.data);
    return -1;
  } else {
    WEIR_ERROR("swap: operator '%s' on task %s: state could not be handed over (%s); the new "
               "version starts from init",
               inst->node->name, inst->task->id, why);
    if (init_next(inst, next, &inst->self, why, sizeof why) != WEIR_OK)
      inst->initialized = 0;
  }
  free(buf.data);
  return 0;
}

/* The old instance's last act: what it holds back (emit on commit) goes
 * out, then it closes. */
static void retire(weir_node_inst_t *inst) {
  if (weir_task_flush_one(inst->task, inst))
    WEIR_ERROR("swap: operator '%s' on task %s: %s", inst->node->name, inst->task->id,
               inst->task->error);
  if (inst->impl->op->def.close)
    inst->impl->op->def.close(&inst->ctx, inst->self);
}

/* The new version takes over this instance. */
static void commit_inst(weir_swap_t *s, weir_node_inst_t *inst) {
  const weir_node_t *next = s->next->topo->nodes[inst->node->index];
  char why[512] = "";
  if (transfers(inst->impl, next)) {
    if (transfer(inst, next))
      return;
  } else if (inst->prepared) {
    retire(inst);
    inst->self = inst->next_self;
  } else {
    /* Opened after the prepare phase: start the new version here. */
    void *self = NULL;
    if (init_next(inst, next, &self, why, sizeof why) != WEIR_OK) {
      WEIR_ERROR("swap: operator '%s' failed to start on task %s: %s; the old version keeps "
                 "running there",
                 inst->node->name, inst->task->id, why);
      return;
    }
    retire(inst);
    inst->self = self;
  }
  inst->prepared = 0;
  inst->next_self = NULL;
  weir_version_release(inst->version);
  inst->impl = next;
  inst->version = s->next;
  weir_version_acquire(inst->version);
  atomic_fetch_add(&s->swapped, 1);
}

static void abort_inst(weir_swap_t *s, weir_node_inst_t *inst) {
  const weir_node_t *next = s->next->topo->nodes[inst->node->index];
  if (inst->next_self && next->op->def.close) {
    const weir_node_t *was = inst->impl;
    inst->impl = next;
    next->op->def.close(&inst->ctx, inst->next_self);
    inst->impl = was;
  }
  inst->prepared = 0;
  inst->next_self = NULL;
}

static void note_pause(weir_swap_t *s, int64_t us) {
  long long seen = atomic_load(&s->max_pause_us);
  while (us > seen && !atomic_compare_exchange_weak(&s->max_pause_us, &seen, us))
    ;
}

static void serve_task(weir_swap_t *s, int phase, weir_task_t *task) {
  for (size_t i = 0; i < task->inst_count; i++) {
    weir_node_inst_t *inst = &task->insts[i];
    if (!s->moving[i] || !inst->initialized || inst->impl == s->next->topo->nodes[i])
      continue; /* not moving, or opened on the new version already */
    if (phase == WEIR_SWAP_PREPARE && !atomic_load(&s->failed))
      prepare_inst(s, inst);
    else if (phase == WEIR_SWAP_COMMIT)
      commit_inst(s, inst);
    else if (phase == WEIR_SWAP_ABORT && inst->prepared)
      abort_inst(s, inst);
  }
}

void weir_thread_serve_swap(weir_stream_thread_t *t) {
  weir_swap_t *s = t->env.swap;
  if (!s)
    return;
  unsigned request = atomic_load(&s->request);
  if (request == t->swap_seen)
    return;
  t->swap_seen = request;
  int phase = atomic_load(&s->phase);
  int64_t start = now_us();
  for (size_t k = 0; phase != WEIR_SWAP_IDLE && k < t->task_cap; k++)
    if (t->tasks[k] && t->tasks[k]->active)
      serve_task(s, phase, t->tasks[k]);
  /* Every task of this thread stood still meanwhile: that is the pause. */
  note_pause(s, now_us() - start);
  atomic_fetch_add(&s->acks, 1);
}
