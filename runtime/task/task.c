#include "task/task.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task/inst_swap.h"
#include "util/log.h"

int weir_task_env_map_topics(weir_task_env_t *env, const weir_topology_t *topo,
                             const char *const *topics, size_t topic_count) {
  size_t n = topic_count ? topic_count : 1;
  env->topic_sources = calloc(n, sizeof *env->topic_sources);
  env->topic_source_counts = calloc(n, sizeof *env->topic_source_counts);
  env->topic_subtopology = calloc(n, sizeof *env->topic_subtopology);
  if (!env->topic_sources || !env->topic_source_counts || !env->topic_subtopology)
    return -1;
  for (size_t i = 0; i < topic_count; i++) {
    env->topic_sources[i] = calloc(topo->node_count, sizeof **env->topic_sources);
    if (!env->topic_sources[i])
      return -1;
    for (size_t n = 0; n < topo->node_count; n++) {
      const weir_node_t *node = topo->nodes[n];
      for (size_t k = 0; node->kind == WEIR_NODE_SOURCE && k < node->topic_count; k++)
        if (strcmp(node->topics[k], topics[i]) == 0) {
          env->topic_sources[i][env->topic_source_counts[i]++] = n;
          env->topic_subtopology[i] = node->subtopology;
        }
    }
  }
  return 0;
}

void weir_task_env_unmap_topics(weir_task_env_t *env, size_t topic_count) {
  for (size_t i = 0; env->topic_sources && i < topic_count; i++)
    free(env->topic_sources[i]);
  free(env->topic_sources);
  free(env->topic_source_counts);
  free(env->topic_subtopology);
  env->topic_sources = NULL;
  env->topic_source_counts = NULL;
  env->topic_subtopology = NULL;
}

/* Which of `to`'s inputs `from` is (weir.h 1.3 origin.input), -1 if none. */
static int32_t input_index(const weir_node_t *to, const weir_node_t *from) {
  for (size_t i = 0; i < to->input_count; i++)
    if (to->inputs[i] == from)
      return (int32_t)i;
  return -1;
}

weir_task_t *weir_task_new(const weir_task_env_t *env, int subtopology, int32_t partition,
                           size_t tracker_count, const uint32_t *slots) {
  weir_task_t *task = calloc(1, sizeof *task);
  if (!task)
    return NULL;
  task->env = env;
  task->partition = partition;
  task->subtopology = subtopology;
  task->origin.input = -1; /* no delivery yet (weir.h 1.3) */
  snprintf(task->id, sizeof task->id, "%d_%d", subtopology < 0 ? 0 : subtopology, (int)partition);
  task->inst_count = env->topo->node_count;
  task->insts = calloc(task->inst_count, sizeof *task->insts);
  task->trackers = calloc(tracker_count ? tracker_count : 1, sizeof *task->trackers);
  task->tracker_slots = calloc(tracker_count ? tracker_count : 1, sizeof *task->tracker_slots);
  task->queues = calloc(tracker_count ? tracker_count : 1, sizeof *task->queues);
  task->tracker_count = tracker_count;
  task->partition_time = calloc(tracker_count ? tracker_count : 1, sizeof *task->partition_time);
  task->resume_time = malloc((tracker_count ? tracker_count : 1) * sizeof *task->resume_time);
  for (size_t i = 0; task->resume_time && i < tracker_count; i++)
    task->resume_time[i] = -1;
  weir_timers_init(&task->timers);
  task->policy_stats = env->policy_stats ? env->policy_stats : &task->own_policy_stats;
  weir_node_stats_t *stats = env->node_stats;
  if (!stats)
    stats = task->own_node_stats = calloc(task->inst_count ? task->inst_count : 1, sizeof *stats);
  if (!stats || !task->insts || !task->trackers || !task->tracker_slots || !task->queues ||
      !task->partition_time || !task->resume_time ||
      weir_task_idle_init(&task->idle, tracker_count)) {
    weir_task_free(task);
    return NULL;
  }
  if (weir_task_stores_new(task)) {
    weir_task_free(task);
    return NULL;
  }
  for (size_t i = 0; i < tracker_count; i++) {
    task->tracker_slots[i] = slots[i];
    if (weir_offset_tracker_init(&task->trackers[i])) {
      weir_task_free(task);
      return NULL;
    }
  }
  for (size_t i = 0; i < task->inst_count; i++) {
    weir_node_inst_t *inst = &task->insts[i];
    const weir_node_t *node = env->topo->nodes[i];
    inst->ctx.struct_size = sizeof inst->ctx;
    inst->ctx.api = &weir_host_api_v1;
    inst->task = task;
    inst->node = node;
    inst->impl = node;
    inst->stats = &stats[i];
    inst->children = calloc(node->child_count ? node->child_count : 1, sizeof *inst->children);
    inst->child_input =
        calloc(node->child_count ? node->child_count : 1, sizeof *inst->child_input);
    if (!inst->children || !inst->child_input) {
      weir_task_free(task);
      return NULL;
    }
    for (size_t c = 0; c < node->child_count; c++) {
      inst->children[c] = &task->insts[node->children[c]->index];
      inst->child_input[c] = input_index(node->children[c], node);
    }
  }
  return task;
}

int weir_buf_append(weir_state_buf_t *b, const void *data, size_t len) {
  if (b->len + len > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + len)
      cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown)
      return -1;
    b->data = grown;
    b->cap = cap;
  }
  if (len)
    memcpy(b->data + b->len, data, len);
  b->len += len;
  return 0;
}

void weir_node_inst_bind(weir_node_inst_t *inst, const weir_published_t *now) {
  size_t i = (size_t)inst->node->index;
  weir_version_t *was = inst->version;
  inst->impl = now ? now->impl[i] : inst->node;
  inst->version = now ? now->version[i] : NULL;
  weir_version_acquire(inst->version); /* the snapshot holds it meanwhile */
  weir_version_release(was);
}

void weir_node_inst_close(weir_node_inst_t *inst) {
  weir_inst_abort(inst); /* a swap prepared a new instance and the task closes first */
  if (inst->task)
    weir_timers_drop_inst(inst->task, inst);
  inst->closing = 1;
  if (inst->initialized && inst->impl->op->def.close)
    inst->impl->op->def.close(&inst->ctx, inst->self);
  inst->closing = 0;
  inst->initialized = 0;
  inst->self = NULL;
}

static int open_node(weir_task_t *task, weir_node_inst_t *inst, const weir_published_t *now,
                     char *errstr, size_t errstr_size) {
  const weir_node_t *node = inst->node;
  char why[512] = "";
  if (task->subtopology >= 0 && node->subtopology != task->subtopology)
    return 0; /* another sub-topology's node: another task runs it */
  if (node->kind == WEIR_NODE_SINK && task->env->producer) {
    inst->rkt = rd_kafka_topic_new(task->env->producer, node->topic, NULL);
    if (!inst->rkt) {
      snprintf(errstr, errstr_size, "sink '%s' (%s:%d): cannot open topic '%s': %s", node->name,
               task->env->topo->path, node->line, node->topic,
               rd_kafka_err2str(rd_kafka_last_error()));
      return -1;
    }
    return 0;
  }
  /* A source runs plugin code only for its timestamp extractor, which a
   * hot swap does not move: it stays on the topology the app started with. */
  if (node->kind != WEIR_NODE_OPERATOR && node->ts_mode != WEIR_TS_EXTRACTOR)
    return 0;
  inst->self = NULL;
  if (node->kind == WEIR_NODE_OPERATOR)
    weir_node_inst_bind(inst, now);
  const weir_node_t *impl = inst->impl;
  if (impl->op->def.init(&inst->ctx, &inst->self, why, sizeof why) != WEIR_OK) {
    snprintf(errstr, errstr_size,
             "%s '%s' (%s:%d, plugin %s, type %s) failed to start on task %s: %s",
             node->kind == WEIR_NODE_SOURCE ? "the timestamp extractor of source" : "operator",
             node->name, task->env->topo->path, node->line, impl->plugin->path, impl->op->def.type,
             task->id, why[0] ? why : "init returned an error and gave no reason");
    return -1;
  }
  inst->initialized = 1;
  return 0;
}

int weir_task_open(weir_task_t *task, char *errstr, size_t errstr_size) {
  /* Before the stores (a window store keeps what this time keeps, task_state.c)
   * and init() (a stream-time timer it schedules starts from here). */
  task->stream_time = -1;
  for (size_t i = 0; i < task->tracker_count; i++) {
    task->partition_time[i] = task->resume_time[i];
    if (task->resume_time[i] > task->stream_time)
      task->stream_time = task->resume_time[i];
    task->resume_time[i] = -1; /* read once: a later open sets it again */
  }
  if (weir_task_stores_open(task, errstr, errstr_size))
    return -1;
  /* One snapshot for every instance of the task: all of one version's
   * publishing, whatever a reload does meanwhile. */
  weir_published_t *now = task->env->versions ? weir_publisher_acquire(task->env->versions) : NULL;
  for (size_t i = 0; i < task->inst_count; i++) {
    if (open_node(task, &task->insts[i], now, errstr, errstr_size)) {
      weir_published_release(now);
      weir_task_close(task);
      return -1;
    }
  }
  weir_published_release(now);
  for (size_t i = 0; i < task->tracker_count; i++) {
    /* Keep the sequence numbers running so a late delivery report for an
     * earlier assignment can never match an entry of this one. */
    weir_offset_tracker_t *t = &task->trackers[i];
    t->head_seq = t->tail_seq;
    t->next_offset = -1;
    t->committed = -1;
  }
  task->restore_checked = 0;
  task->active = 1;
  return 0;
}

void weir_task_close(weir_task_t *task) {
  /* Close in reverse topological order: children before their parents. */
  for (size_t i = task->inst_count; i-- > 0;) {
    weir_node_inst_t *inst = &task->insts[i];
    weir_node_inst_close(inst);
    if (inst->rkt)
      rd_kafka_topic_destroy(inst->rkt);
    inst->rkt = NULL;
  }
  for (size_t i = 0; task->queues && i < task->tracker_count; i++)
    weir_input_queue_clear(&task->queues[i]);
  task->buffered = 0;
  weir_task_idle_reset(&task->idle, task->tracker_count);
  task->active = 0;
  weir_timers_clear(&task->timers); /* timers end with their task */
  weir_task_stores_close(task);
}

void weir_task_free(weir_task_t *task) {
  if (!task)
    return;
  if (task->insts) {
    weir_task_close(task);
    for (size_t i = 0; i < task->inst_count; i++) {
      weir_version_release(task->insts[i].version);
      free(task->insts[i].children);
      free(task->insts[i].child_input);
      weir_node_metrics_free(&task->insts[i]);
    }
  }
  weir_task_stores_free(task);
  for (size_t i = 0; task->trackers && i < task->tracker_count; i++)
    weir_offset_tracker_free(&task->trackers[i]);
  for (size_t i = 0; task->queues && i < task->tracker_count; i++)
    weir_input_queue_free(&task->queues[i]);
  free(task->queues);
  weir_task_idle_free(&task->idle);
  free(task->partition_time);
  free(task->resume_time);
  weir_timers_free(&task->timers);
  free(task->trackers);
  free(task->tracker_slots);
  free(task->header_scratch);
  free(task->insts);
  free(task->own_node_stats);
  free(task);
}

void weir_task_set_error(weir_task_t *task, const char *fmt, ...) {
  va_list ap;
  if (task->error[0])
    return; /* the first error is the cause; later ones follow from it */
  va_start(ap, fmt);
  vsnprintf(task->error, sizeof task->error, fmt, ap);
  va_end(ap);
}

int weir_task_dry_run(const weir_topology_t *t, char *errstr, size_t errstr_size) {
  static atomic_int never_stopping;
  weir_task_env_t env = {.topo = t, .stopping = &never_stopping};
  weir_task_t *task = weir_task_new(&env, -1, 0, 0, NULL);
  if (!task) {
    snprintf(errstr, errstr_size, "out of memory");
    return -1;
  }
  int rc = weir_task_open(task, errstr, errstr_size);
  weir_task_free(task); /* closes what opened */
  return rc;
}
