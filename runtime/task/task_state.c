/* A task's state stores: handles, the commit-time flush to the changelog and
 * to RocksDB, and the store functions of the host API. */
#include "task/task_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/global_store.h"
#include "state/kv_iter.h"
#include "state/window_store.h"
#include "task/delivery.h"
#include "task/host_api_windows.h"
#include "task/task.h"
#include "util/log.h"

static int used_by_task(const weir_task_t *task, const weir_store_decl_t *d) {
  return d->subtopology >= 0 && (task->subtopology < 0 || d->subtopology == task->subtopology);
}

static void store_init(weir_task_store_t *ts, weir_task_t *task, const weir_store_decl_t *d) {
  ts->pub = (weir_store_t){(uint32_t)sizeof(weir_store_t), 0, &weir_host_api_v1};
  ts->task = task;
  ts->decl = d;
  ts->acked_next = -1;
}

static int globals_new(weir_task_t *task) {
  const weir_topology_t *t = task->env->topo;
  size_t n = 0;
  for (size_t i = 0; i < t->store_count; i++)
    n += t->stores[i].global_topic != NULL;
  if (!n)
    return 0;
  if (!(task->globals = calloc(n, sizeof *task->globals)))
    return -1;
  for (size_t i = 0; i < t->store_count; i++) {
    if (!t->stores[i].global_topic)
      continue;
    weir_task_store_t *ts = &task->globals[task->global_count++];
    store_init(ts, task, &t->stores[i]);
    /* For range and prefix reads only (kv_iter.h over RocksDB's rows): it
     * is never written and never read by key, so it caches nothing that
     * could go stale. */
    if (task->env->state_db && !(ts->kv = weir_kv_store_new(task->env->state_db, t->stores[i].name,
                                                            WEIR_GLOBAL_PARTITION, NULL)))
      return -1;
  }
  return 0;
}

int weir_task_stores_new(weir_task_t *task) {
  const weir_topology_t *t = task->env->topo;
  size_t n = 0;
  if (globals_new(task))
    return -1;
  for (size_t i = 0; i < t->store_count; i++)
    n += (size_t)used_by_task(task, &t->stores[i]);
  if (!n)
    return 0;
  task->stores = calloc(n, sizeof *task->stores);
  if (!task->stores)
    return -1;
  for (size_t i = 0; i < t->store_count; i++) {
    if (!used_by_task(task, &t->stores[i]))
      continue;
    store_init(&task->stores[task->store_count++], task, &t->stores[i]);
  }
  return 0;
}

void weir_task_stores_free(weir_task_t *task) {
  weir_task_stores_close(task);
  free(task->stores);
  task->stores = NULL;
  task->store_count = 0;
  for (size_t i = 0; i < task->global_count; i++) {
    free(task->globals[i].global_value);
    weir_kv_store_free(task->globals[i].kv);
  }
  free(task->globals);
  task->globals = NULL;
  task->global_count = 0;
  weir_state_batch_free(task->batch);
  task->batch = NULL;
}

static int is_windowed(const weir_task_store_t *ts) {
  return ts->decl->kind == WEIR_STORE_WINDOW || ts->decl->kind == WEIR_STORE_SESSION;
}

/* backend = memory: RocksDB's rows of this store-partition, left by a run
 * with backend = rocksdb, go (else a later switch back would trust rows
 * and a checkpoint older than the changelog), and the store keeps every
 * row itself from now on. */
static int keep_in_memory(weir_task_store_t *ts, char *errstr, size_t errstr_size) {
  char why[512];
  if (weir_state_db_drop(ts->task->env->state_db, ts->decl->name, ts->task->partition, why,
                         sizeof why)) {
    snprintf(errstr, errstr_size, "store '%s' (task %s): cannot clear its RocksDB rows: %s",
             ts->decl->name, ts->task->id, why);
    return -1;
  }
  weir_kv_store_keep_in_memory(ts->kv);
  return 0;
}

static int open_store(weir_task_t *task, weir_task_store_t *ts, char *errstr, size_t errstr_size) {
  const weir_task_env_t *env = task->env;
  ts->acked_next = -1;
  ts->delivery_failed = 0;
  ts->restoring = 0;
  if (!env->state_db)
    return 0; /* a dry run: handles only */
  ts->kv = weir_kv_store_new(env->state_db, ts->decl->name, task->partition, env->cache_budget);
  if (ts->kv && ts->decl->in_memory && keep_in_memory(ts, errstr, errstr_size)) {
    weir_kv_store_free(ts->kv);
    ts->kv = NULL;
    return -1;
  }
  if (ts->kv && is_windowed(ts) &&
      !(ts->win = weir_window_store_new(ts->kv, ts->decl->kind, ts->decl->window_size_ms,
                                        ts->decl->retention_ms))) {
    weir_kv_store_free(ts->kv);
    ts->kv = NULL;
  }
  /* A task resumed at its committed stream time (task.h resume_time): its
   * window stores keep what they kept where it ran before, not everything
   * until their first write (a store that reads before it writes, one side
   * of a stream-stream join, would return windows the task had expired). */
  if (ts->win && task->stream_time >= 0)
    weir_window_store_advance(ts->win, task->stream_time);
  if (ts->decl->changelog_topic && env->producer)
    ts->changelog = rd_kafka_topic_new(env->producer, ts->decl->changelog_topic, NULL);
  if (!ts->kv || (ts->decl->changelog_topic && env->producer && !ts->changelog)) {
    snprintf(errstr, errstr_size, "store '%s' (task %s): cannot open it: out of memory",
             ts->decl->name, task->id);
    return -1;
  }
  return 0;
}

int weir_task_stores_open(weir_task_t *task, char *errstr, size_t errstr_size) {
  if (task->store_count && task->env->state_db && !task->batch &&
      !(task->batch = weir_state_batch_new())) {
    snprintf(errstr, errstr_size, "task %s: out of memory opening its stores", task->id);
    return -1;
  }
  for (size_t i = 0; i < task->store_count; i++)
    if (open_store(task, &task->stores[i], errstr, errstr_size)) {
      weir_task_stores_close(task);
      return -1;
    }
  return 0;
}

void weir_task_stores_close(weir_task_t *task) {
  for (size_t i = 0; i < task->store_count; i++) {
    weir_task_store_t *ts = &task->stores[i];
    weir_api_window_spare_free(ts);
    weir_window_store_free(ts->win);
    ts->win = NULL;
    weir_kv_store_free(ts->kv);
    ts->kv = NULL;
    if (ts->changelog)
      rd_kafka_topic_destroy(ts->changelog);
    ts->changelog = NULL;
    ts->restoring = 0;
  }
  task->restoring = 0;
  if (task->batch)
    weir_state_batch_clear(task->batch);
}

static int node_lists(const weir_node_t *node, const char *name) {
  for (size_t i = 0; i < node->store_count; i++)
    if (strcmp(node->stores[i], name) == 0)
      return 1;
  return 0;
}

weir_store_t *weir_task_store_get(weir_task_t *task, const weir_node_t *node, const char *name) {
  if (!name)
    name = node->store_count ? node->stores[0] : NULL;
  if (!name)
    return NULL;
  for (size_t i = 0; i < task->global_count; i++) /* the process's, read-only: no listing */
    if (strcmp(task->globals[i].decl->name, name) == 0)
      return &task->globals[i].pub;
  if (!node_lists(node, name))
    return NULL;
  for (size_t i = 0; i < task->store_count; i++)
    if (strcmp(task->stores[i].decl->name, name) == 0)
      return &task->stores[i].pub;
  return NULL;
}

static void flush_inst(weir_task_t *task, weir_node_inst_t *inst) {
  if (!inst->initialized || !inst->impl->op->def.flush)
    return;
  int rc = inst->impl->op->def.flush(&inst->ctx, inst->self);
  if (rc != WEIR_OK)
    weir_task_set_error(task,
                        "operator '%s' (plugin %s, type %s) failed to flush on task %s: "
                        "error %d",
                        inst->node->name, inst->impl->plugin->ref, inst->impl->op->def.type,
                        task->id, rc);
}

/* Outputs made outside process() belong to no input record. */
static void begin_flush(weir_task_t *task) {
  task->in_process = 1;
  task->cur_tracker = NULL;
  task->origin.topic = NULL;
  task->error[0] = '\0';
}

int weir_task_flush_operators(weir_task_t *task) {
  begin_flush(task);
  for (size_t i = 0; i < task->inst_count && !task->error[0]; i++)
    flush_inst(task, &task->insts[i]);
  task->in_process = 0;
  return task->error[0] ? -1 : 0;
}

int weir_task_flush_one(weir_task_t *task, weir_node_inst_t *inst) {
  begin_flush(task);
  flush_inst(task, inst);
  task->in_process = 0;
  return task->error[0] ? -1 : 0;
}

/* One dirty entry to the changelog, into the task's partition. A full
 * queue waits as a sink's produce does, up to the same bound; then the
 * commit fails and the app stops, nothing committed past it. */
static int produce_changelog(void *opaque, const void *key, size_t key_len, const void *value,
                             size_t value_len) {
  weir_task_store_t *ts = opaque;
  if (!ts->changelog)
    return 0;
  rd_kafka_t *rk = ts->task->env->producer;
  void *msg_opaque = weir_delivery_changelog(ts);
  weir_room_wait_t wait = {0, 0};
  for (;;) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk, RD_KAFKA_V_RKT(ts->changelog), RD_KAFKA_V_PARTITION(ts->task->partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY((void *)key, key_len),
        RD_KAFKA_V_VALUE((void *)value, value ? value_len : 0), RD_KAFKA_V_OPAQUE(msg_opaque),
        RD_KAFKA_V_END);
    if (!err)
      return 0;
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL ||
        weir_task_wait_room(ts->task, ts->decl->changelog_topic, &wait)) {
      ts->task->produce_err = err;
      int timed_out = ts->task->produce_failed == WEIR_PRODUCE_TIMED_OUT;
      weir_task_set_error(
          ts->task, "store '%s' (task %s): cannot write its changelog '%s' [%d]: %s%s%s",
          ts->decl->name, ts->task->id, ts->decl->changelog_topic, (int)ts->task->partition,
          rd_kafka_err2str(err), timed_out ? "; " : "", timed_out ? ts->task->produce_error : "");
      return -1;
    }
  }
}

int weir_task_flush_stores(weir_task_t *task) {
  for (size_t i = 0; i < task->store_count; i++) {
    weir_task_store_t *ts = &task->stores[i];
    if (ts->kv && !ts->restoring &&
        weir_kv_store_flush(ts->kv, task->batch, produce_changelog, ts) != 0)
      return -1;
    if (ts->win && !ts->restoring)
      weir_window_store_flush(ts->win, task->batch); /* expired segments: after their rows */
  }
  return 0;
}

int weir_task_apply_stores(weir_task_t *task) {
  char why[512];
  if (!task->batch)
    return 0;
  for (size_t i = 0; i < task->store_count; i++) {
    weir_task_store_t *ts = &task->stores[i];
    if (ts->kv && !ts->restoring && !ts->delivery_failed && ts->acked_next >= 0 &&
        !ts->decl->in_memory) /* restored from the changelog's start: no checkpoint */
      weir_state_batch_checkpoint(task->batch, ts->decl->name, task->partition, ts->acked_next);
  }
  /* Empty when only in-memory stores flushed: their entries are done all
   * the same. */
  int written = weir_state_batch_count(task->batch) > 0;
  if (written && weir_state_batch_write(task->env->state_db, task->batch, why, sizeof why)) {
    weir_task_set_error(task, "task %s: cannot write its stores to RocksDB: %s", task->id, why);
    return -1;
  }
  weir_state_batch_clear(task->batch);
  for (size_t i = 0; i < task->store_count; i++)
    if (task->stores[i].kv)
      weir_kv_store_batch_written(task->stores[i].kv);
  return written;
}

int weir_task_holds_back(const weir_task_t *task) {
  if (task->store_count || task->untracked_sent)
    return 1;
  for (size_t i = 0; i < task->inst_count; i++) {
    const weir_node_inst_t *inst = &task->insts[i];
    if (inst->initialized && inst->impl && inst->impl->kind == WEIR_NODE_OPERATOR &&
        inst->impl->op->def.flush)
      return 1;
  }
  return 0;
}

void weir_task_store_acked(weir_task_store_t *ts, const rd_kafka_message_t *msg, int failed) {
  if (failed)
    ts->delivery_failed = 1;
  else if (msg->offset + 1 > ts->acked_next)
    ts->acked_next = msg->offset + 1;
}

/* ---------------------------------------------------------------- host API */

enum { EARLY_COMMIT_RUN = 1024 };

typedef struct host_iter {
  weir_iter_t pub; /* first */
  weir_kv_iter_t *it;
} host_iter_t;

static weir_task_store_t *store_of(weir_store_t *store) {
  return (weir_task_store_t *)store;
}

static int store_failed(weir_task_store_t *ts, const char *what, const char *why) {
  weir_task_set_error(ts->task, "store '%s' (task %s): %s failed: %s", ts->decl->name, ts->task->id,
                      what, why);
  return WEIR_EFAIL;
}

/* A global table: RocksDB as the global thread has written it so far. */
static int global_get(weir_task_store_t *ts, const void *key, size_t key_len, const void **value,
                      size_t *value_len) {
  char why[512];
  void *copy = NULL;
  size_t len = 0;
  if (!ts->task->env->state_db)
    return WEIR_ESTATE;
  int rc = weir_global_store_get(ts->task->env->state_db, ts->decl->name, key, key_len, &copy, &len,
                                 why, sizeof why);
  if (rc < 0)
    return store_failed(ts, "a read", why);
  free(ts->global_value); /* the previous value: valid until this call */
  ts->global_value = copy;
  *value = copy;
  *value_len = len;
  return rc ? WEIR_OK : WEIR_ENOENT;
}

static int global_write(weir_task_store_t *ts) {
  weir_task_set_error(ts->task,
                      "store '%s' (task %s) is a global table, read-only: only its topic '%s' "
                      "changes it",
                      ts->decl->name, ts->task->id, ts->decl->global_topic);
  return WEIR_ENOTSUP;
}

int weir_api_kv_get(weir_store_t *store, const void *key, size_t key_len, const void **value,
                    size_t *value_len) {
  weir_task_store_t *ts = store_of(store);
  char why[512];
  if (ts->decl->global_topic)
    return global_get(ts, key, key_len, value, value_len);
  if (is_windowed(ts))
    return WEIR_EINVAL; /* a window or session store: its keys are laid out by window_store.h */
  if (!ts->kv)
    return WEIR_ESTATE;
  int rc = weir_kv_store_get(ts->kv, key, key_len, value, value_len, why, sizeof why);
  return rc > 0 ? WEIR_OK : rc == 0 ? WEIR_ENOENT : store_failed(ts, "a read", why);
}

static int put(weir_task_store_t *ts, const void *key, size_t key_len, const void *value,
               size_t value_len) {
  if (ts->decl->global_topic)
    return global_write(ts);
  if (is_windowed(ts))
    return WEIR_EINVAL;
  if (!ts->kv)
    return WEIR_ESTATE;
  int rc = weir_kv_store_put(ts->kv, key, key_len, value, value_len);
  if (rc < 0)
    return store_failed(ts, "a write", "out of memory");
  /* Over the process-wide budget: the owner commits at its next turn (a
   * full commit flushes, writes and evicts every cache it owns) — once this
   * store has a run of dirty entries, since the other stores' bytes keep
   * the total over budget after this one is evicted, and a commit per put
   * would cost a broker round trip each (a flush per put measured 29 us a
   * record). */
  const weir_cache_budget_t *budget = ts->task->env->cache_budget;
  size_t run = budget && budget->max > 0 ? EARLY_COMMIT_RUN : 1;
  if (rc > 0 && ts->task->env->commit_wanted && weir_kv_store_dirty_count(ts->kv) >= run)
    *ts->task->env->commit_wanted = 1;
  return WEIR_OK;
}

int weir_api_kv_put(weir_store_t *store, const void *key, size_t key_len, const void *value,
                    size_t value_len) {
  return put(store_of(store), key, key_len, value ? value : "", value_len);
}

int weir_api_kv_delete(weir_store_t *store, const void *key, size_t key_len) {
  return put(store_of(store), key, key_len, NULL, 0);
}

static weir_iter_t *wrap(weir_kv_iter_t *it) {
  host_iter_t *h = it ? malloc(sizeof *h) : NULL;
  if (!h) {
    weir_kv_iter_close(it);
    return NULL;
  }
  h->pub = (weir_iter_t){(uint32_t)sizeof(weir_iter_t), 0, &weir_host_api_v1};
  h->it = it;
  return &h->pub;
}

/* The cache's unwritten entries merged over RocksDB (kv_iter.h): nothing is
 * written ahead of the commit for a read. */
weir_iter_t *weir_api_kv_range(weir_store_t *store, const void *from, size_t from_len,
                               const void *to, size_t to_len) {
  weir_task_store_t *ts = store_of(store);
  return ts->kv && !is_windowed(ts) ? wrap(weir_kv_iter_range(ts->kv, from, from_len, to, to_len))
                                    : NULL;
}

weir_iter_t *weir_api_kv_prefix(weir_store_t *store, const void *prefix, size_t prefix_len) {
  weir_task_store_t *ts = store_of(store);
  return ts->kv && !is_windowed(ts) ? wrap(weir_kv_iter_prefix(ts->kv, prefix, prefix_len)) : NULL;
}

int weir_api_iter_next(weir_iter_t *it, const void **key, size_t *key_len, const void **value,
                       size_t *value_len) {
  int rc = weir_kv_iter_next(((host_iter_t *)it)->it, key, key_len, value, value_len);
  return rc > 0 ? WEIR_OK : rc == 0 ? WEIR_ENOENT : WEIR_EFAIL;
}

void weir_api_iter_close(weir_iter_t *it) {
  host_iter_t *h = (host_iter_t *)it;
  weir_kv_iter_close(h->it);
  free(h);
}
