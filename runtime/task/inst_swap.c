#include "task/inst_swap.h"

#include <stdlib.h>

#include "util/log.h"

/* Old save() to new load(): the in-memory state crosses the swap. */
static int transfers(const weir_node_t *old, const weir_node_t *next) {
  return old->op->def.save && next->op->def.load;
}

/* Call the new build's init for `inst` (its host API calls must see the
 * new parameters, so the instance points at the new node meanwhile). */
static int init_next(weir_node_inst_t *inst, const weir_node_t *next, void **self, char *why,
                     size_t why_size) {
  const weir_node_t *was = inst->impl;
  inst->impl = next;
  *self = NULL;
  inst->swapping = 1; /* what it schedules takes over the old timers (task/timers.h) */
  int rc = next->op->def.init(&inst->ctx, self, why, why_size);
  inst->swapping = 0;
  inst->impl = was;
  return rc;
}

int weir_inst_swappable(const weir_node_inst_t *inst, const weir_node_t *next) {
  return inst->initialized && inst->impl != next;
}

int weir_inst_prepare(weir_node_inst_t *inst, const weir_node_t *next, weir_version_t *v, char *why,
                      size_t why_size) {
  char reason[512] = "";
  if (inst->next_impl)
    return 0; /* prepared already */
  inst->next_self = NULL;
  if (!transfers(inst->impl, next) &&
      init_next(inst, next, &inst->next_self, reason, sizeof reason) != WEIR_OK) {
    snprintf(why, why_size, "operator '%s' (plugin %s, type %s) failed to start on task %s: %s",
             inst->node->name, next->plugin->source, next->op->def.type, inst->task->id,
             reason[0] ? reason : "init returned an error and gave no reason");
    inst->next_self = NULL;
    return -1;
  }
  inst->next_impl = next;
  inst->next_version = v;
  weir_version_acquire(v);
  return 0;
}

/* Hand the state over (save -> load); on a failed load the old build takes
 * its state back when it can (-1: it keeps running), else the new one
 * starts afresh. */
static int transfer(weir_node_inst_t *inst, const weir_node_t *next) {
  weir_state_buf_t buf = {0};
  char why[512] = "";
  const weir_node_t *old = inst->impl;
  void *self = NULL;
  inst->closing = 1; /* the timers outlive the old version, whatever it cancels */
  int rc = old->op->def.save(&inst->ctx, inst->self, (weir_buf_t *)&buf);
  inst->closing = 0;
  inst->impl = next;
  inst->swapping = 1;
  if (rc == WEIR_OK)
    rc = next->op->def.load(&inst->ctx, &self, buf.data, buf.len, why, sizeof why);
  inst->swapping = 0;
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
 * out, then it closes. -1 when its flush failed (task->error says why):
 * what it held back is lost with it. */
static int retire(weir_node_inst_t *inst) {
  int rc = weir_task_flush_one(inst->task, inst);
  inst->closing = 1; /* the timers outlive the old version, whatever it cancels */
  if (inst->impl->op->def.close)
    inst->impl->op->def.close(&inst->ctx, inst->self);
  inst->closing = 0;
  return rc;
}

/* Forget what was prepared, the prepared instance now in use or closed. */
static void unprepare(weir_node_inst_t *inst) {
  weir_version_t *v = inst->next_version;
  inst->next_impl = NULL;
  inst->next_version = NULL;
  inst->next_self = NULL;
  weir_version_release(v);
}

int weir_inst_commit(weir_node_inst_t *inst, const weir_node_t *next, weir_version_t *v) {
  char why[512] = "";
  int lost = 0;
  if (transfers(inst->impl, next)) {
    if (transfer(inst, next)) {
      weir_timers_swap_abort(inst->task, inst);
      unprepare(inst);
      return 0;
    }
  } else if (inst->next_impl == next) {
    lost = retire(inst);
    inst->self = inst->next_self;
  } else {
    /* Opened after the prepare phase: start the new build here. */
    void *self = NULL;
    weir_inst_abort(inst);
    if (init_next(inst, next, &self, why, sizeof why) != WEIR_OK) {
      WEIR_ERROR("swap: operator '%s' failed to start on task %s: %s; the old version keeps "
                 "running there",
                 inst->node->name, inst->task->id, why);
      weir_timers_swap_abort(inst->task, inst);
      return 0;
    }
    lost = retire(inst);
    inst->self = self;
  }
  unprepare(inst);
  weir_timers_swap_commit(inst->task, inst, next->op->def.punctuate != NULL);
  weir_version_t *was = inst->version;
  inst->impl = next;
  inst->version = v;
  weir_version_acquire(v);
  weir_version_release(was);
  return lost ? -1 : 1;
}

void weir_inst_abort(weir_node_inst_t *inst) {
  const weir_node_t *next = inst->next_impl;
  if (!next)
    return;
  weir_timers_swap_abort(inst->task, inst);
  if (inst->next_self && next->op->def.close) {
    const weir_node_t *was = inst->impl;
    inst->impl = next;
    next->op->def.close(&inst->ctx, inst->next_self);
    inst->impl = was;
  }
  unprepare(inst);
}
