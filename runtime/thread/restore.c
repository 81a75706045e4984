/* Restoring a task's stores from their changelogs, inside the thread's loop:
 * a consumer outside the group reads each changelog partition from the
 * store's checkpoint to the end offset seen at assign, while the thread's
 * other tasks go on processing. The restoring task's input partitions are
 * paused until its last store is done. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/fetch_wake.h"
#include "kafka/kafka_conf.h"
#include "kafka/offsets_query.h"
#include "state/window_store.h"
#include "thread/thread_internal.h"
#include "util/log.h"

enum { RESTORE_BATCH = 1024, WRITE_EVERY = 16384 };

static int ensure_restorer(weir_stream_thread_t *t, char *errstr, size_t errstr_size) {
  char id[160], why[512];
  if (t->restorer)
    return 0;
  snprintf(id, sizeof id, "%s-restore", t->client_id);
  rd_kafka_conf_t *conf = weir_kafka_conf_new(&t->shared.topo->kafka_settings, t->shared.bootstrap,
                                              WEIR_CLIENT_RESTORE, id, errstr, errstr_size);
  if (!conf)
    return -1;
  /* Without a group.id librdkafka 2.0.2 has no consumer queue (NULL) and
   * refuses assign(); this consumer only assigns, it never joins a group. */
  rd_kafka_conf_set(conf, "group.id", id, NULL, 0);
  /* Exactly-once: an aborted transaction's changelog records are not state. */
  rd_kafka_conf_set(conf, "isolation.level", "read_committed", NULL, 0);
  /* A restore ends at the changelog's end, seen only from a fetch that finds
   * nothing more, which a broker holds for fetch.wait.max.ms: at librdkafka's
   * 500 ms the restart after a crash under exactly_once (its checkpoint one
   * transaction marker short of the end) took 0.5 s a store instead of a
   * round trip. Below the 100 ms of weir's other consumers (kafka_conf.c),
   * which only pay it on a resume. */
  rd_kafka_conf_set(conf, "fetch.wait.max.ms", "10", NULL, 0);
  rd_kafka_conf_set_opaque(conf, t);
  rd_kafka_conf_set_error_cb(conf, weir_thread_on_error);
  t->restorer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
  if (!t->restorer) {
    rd_kafka_conf_destroy(conf);
    snprintf(errstr, errstr_size, "cannot create the restore consumer: %s", why);
    return -1;
  }
  rd_kafka_poll_set_consumer(t->restorer);
  t->restore_queue = rd_kafka_queue_get_consumer(t->restorer);
  /* Restoring is a backlog too. */
  t->restore_wake = weir_fetch_wake_new(t->restorer, t->shared.topo->kafka_settings.embedded);
  t->restoring = rd_kafka_topic_partition_list_new(8);
  t->restore_batch = weir_state_batch_new();
  if (!t->restore_batch) {
    snprintf(errstr, errstr_size, "out of memory creating the restore consumer");
    return -1;
  }
  return 0;
}

/* A restoring task's input partitions are not paused: librdkafka 2.0.2's
 * rd_kafka_consume_batch_queue could skip offsets across a pause/resume
 * (it advanced the resume position past records a barrier then purged;
 * fixed in 2.1.0). Its records wait in its queue up to the partition's
 * bound; past it they are dropped, and when the restore ends the partition
 * is sought back, to an explicit offset, to the first one dropped. Nothing
 * of the task is processed meanwhile, so no commit goes past it. */
int weir_restore_hold_back(weir_stream_thread_t *t, weir_task_t *task, size_t idx,
                           const rd_kafka_message_t *m) {
  const char *topic = t->topics[idx];
  if (t->held_back && rd_kafka_topic_partition_list_find(t->held_back, topic, m->partition))
    return 1; /* dropping since an earlier record: keep the gap closed */
  if (task->queues[idx].count < (size_t)t->buffer_bound)
    return 0;
  if (!t->held_back)
    t->held_back = rd_kafka_topic_partition_list_new(4);
  rd_kafka_topic_partition_list_add(t->held_back, topic, m->partition)->offset = m->offset;
  WEIR_DEBUG("thread %d: task %s restoring: '%s' [%d] held back from offset %lld (read again "
             "once restored)",
             t->index, task->id, topic, (int)m->partition, (long long)m->offset);
  return 1;
}

/* The task's held-back partitions, taken off the list: with their first
 * dropped offsets, or NULL when none. */
static rd_kafka_topic_partition_list_t *take_held_back(weir_stream_thread_t *t, weir_task_t *task) {
  rd_kafka_topic_partition_list_t *mine = NULL;
  for (size_t i = 0; t->held_back && i < t->topic_count; i++) {
    rd_kafka_topic_partition_t *p =
        t->env.topic_subtopology[i] == task->subtopology
            ? rd_kafka_topic_partition_list_find(t->held_back, t->topics[i], task->partition)
            : NULL;
    if (!p)
      continue;
    if (!mine)
      mine = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(mine, p->topic, p->partition)->offset = p->offset;
    rd_kafka_topic_partition_list_del(t->held_back, t->topics[i], task->partition);
  }
  return mine;
}

/* Restored: read the dropped records again, from the first one. */
static void seek_back(weir_stream_thread_t *t, weir_task_t *task) {
  rd_kafka_topic_partition_list_t *parts = take_held_back(t, task);
  if (!parts)
    return;
  /* Asynchronous, as idle_pause.c's: librdkafka drops what its fetcher
   * still brings from the old position, and a synchronous seek waited on a
   * busy fetcher until it timed out and stopped weir (seen under load). */
  rd_kafka_error_t *error = rd_kafka_seek_partitions(t->consumer, parts, 0);
  for (int i = 0; !error && i < parts->cnt; i++)
    if (parts->elems[i].err && parts->elems[i].err != RD_KAFKA_RESP_ERR__IN_PROGRESS) {
      char why[512];
      snprintf(why, sizeof why,
               "restore: task %s: cannot read '%s' [%d] again from offset %lld: %s; stopping "
               "(nothing past it is committed)",
               task->id, parts->elems[i].topic, (int)parts->elems[i].partition,
               (long long)parts->elems[i].offset, rd_kafka_err2str(parts->elems[i].err));
      t->shared.fail(t->shared.app, why);
    }
  if (error) {
    char why[512];
    snprintf(why, sizeof why, "restore: task %s: cannot read held-back records again: %s", task->id,
             rd_kafka_error_string(error));
    t->shared.fail(t->shared.app, why);
    rd_kafka_error_destroy(error);
  } else {
    WEIR_DEBUG("thread %d: task %s: %d held-back partition(s) read again", t->index, task->id,
               parts->cnt);
  }
  rd_kafka_topic_partition_list_destroy(parts);
}

/* Where a store restores from: its checkpoint, or the changelog's start
 * (after dropping rows no checkpoint vouches for). -1 on error. */
static int64_t restore_start(weir_stream_thread_t *t, weir_task_store_t *ts, int64_t low,
                             int64_t high, char *errstr, size_t errstr_size) {
  const char *name = ts->decl->name;
  int32_t p = ts->task->partition;
  if (ts->decl->in_memory) { /* nothing kept from before: all of it, every time */
    if (high > low)
      WEIR_INFO("restore: store '%s' partition %d is in memory: restoring all of '%s'", name,
                (int)p, ts->decl->changelog_topic);
    return low;
  }
  int64_t cp = weir_state_db_checkpoint(t->env.state_db, name, p, errstr, errstr_size);
  if (cp == -2)
    return -1;
  if (cp >= 0 && cp <= high && cp >= low)
    return cp;
  if (cp >= 0)
    WEIR_WARN("restore: store '%s' partition %d: checkpoint %lld is outside changelog '%s' "
              "[%lld, %lld) (topic recreated?): wiping it and restoring from the start",
              name, (int)p, (long long)cp, ts->decl->changelog_topic, (long long)low,
              (long long)high);
  else if (high > low)
    WEIR_INFO("restore: store '%s' partition %d has no checkpoint: restoring all of '%s'", name,
              (int)p, ts->decl->changelog_topic);
  if (weir_state_db_drop(t->env.state_db, name, p, errstr, errstr_size))
    return -1;
  return low;
}

/* Errors that pass: a topic created a moment ago has no leader yet, or the
 * broker just came back (its own leadership, or the client's metadata,
 * lags: seen for more than 10 s after a broker paused for 10 s). */
static int passing(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION || err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
         err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT ||
         err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
         err == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION ||
         err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ||
         err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
         err == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT;
}

/* A store whose changelog offsets cannot be read yet waits, its task with
 * it, and is tried again from the thread's loop (weir_restore_poll) every
 * BEGIN_RETRY_MS for up to BEGIN_WAIT_MS, Kafka Streams' default
 * task.timeout.ms: blocking the rebalance callback that long would cost the
 * thread its group membership. Each try waits OFFSETS_TIMEOUT_MS at most, so
 * the thread's other tasks go on (kafka/offsets_query.h: librdkafka's own
 * query held a thread for 60 s while the broker was frozen). */
enum { OFFSETS_TIMEOUT_MS = 500, BEGIN_RETRY_MS = 200, BEGIN_WAIT_MS = 300000 };

static void begin_wait(weir_stream_thread_t *t, weir_task_store_t *ts, rd_kafka_resp_err_t err) {
  if (ts->begin_deadline)
    return;
  ts->begin_deadline = weir_now_ms() + BEGIN_WAIT_MS;
  ts->restoring = 1;
  ts->task->restoring++;
  t->begin_pending++;
  WEIR_WARN("restore: store '%s' partition %d: cannot read the offsets of changelog '%s' yet (%s): "
            "task %s waits, trying again for up to %d s",
            ts->decl->name, (int)ts->task->partition, ts->decl->changelog_topic,
            rd_kafka_err2str(err), ts->task->id, BEGIN_WAIT_MS / 1000);
}

static void begin_end_wait(weir_stream_thread_t *t, weir_task_store_t *ts) {
  if (!ts->begin_deadline)
    return;
  ts->begin_deadline = 0;
  ts->restoring = 0;
  ts->task->restoring--;
  t->begin_pending--;
}

static void task_ready(weir_stream_thread_t *t, weir_task_t *task);

/* librdkafka 2.0.2 keeps a partition it once saw without a leader unknown
 * to rd_kafka_query_watermark_offsets (Local: Unknown partition) after the
 * leader is back: ask for the topic's metadata first. */
static void refresh_metadata(weir_stream_thread_t *t, const char *topic) {
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(t->restorer, topic, NULL);
  if (!rkt)
    return;
  if (rd_kafka_metadata(t->restorer, 0, rkt, &md, OFFSETS_TIMEOUT_MS) == RD_KAFKA_RESP_ERR_NO_ERROR)
    rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
}

/* 0: restoring, up to date, or waiting for the changelog's offsets; -1 on
 * an error that stops the app (errstr). */
static int begin_store(weir_stream_thread_t *t, weir_task_store_t *ts, char *errstr,
                       size_t errstr_size) {
  int64_t low = 0, high = 0;
  const char *topic = ts->decl->changelog_topic;
  if (ensure_restorer(t, errstr, errstr_size))
    return -1;
  if (ts->begin_deadline)
    refresh_metadata(t, topic);
  rd_kafka_resp_err_t err =
      weir_offsets_query(t->restorer, topic, ts->task->partition, OFFSETS_TIMEOUT_MS, &low, &high);
  if (err && passing(err) && (!ts->begin_deadline || weir_now_ms() < ts->begin_deadline)) {
    begin_wait(t, ts, err);
    return 0;
  }
  int waited = ts->begin_deadline != 0;
  begin_end_wait(t, ts);
  if (err) {
    snprintf(errstr, errstr_size,
             "restore: store '%s': cannot read the end of changelog '%s' [%d]%s: %s; check that "
             "the broker is up and the topic exists",
             ts->decl->name, topic, (int)ts->task->partition,
             waited ? " after trying for 300 s" : "", rd_kafka_err2str(err));
    return -1;
  }
  int64_t from = restore_start(t, ts, low, high, errstr, errstr_size);
  if (from < 0)
    return -1;
  if (from >= high) { /* up to date */
    /* Said, so a restart after a crash shows what it did not have to read
     * (the same shape as a restore's line: a tool reads both alike). */
    if (high > low)
      WEIR_INFO("restore: store '%s' partition %d: 0 records from offset %lld to %lld in 0 ms "
                "(up to date at its checkpoint)",
                ts->decl->name, (int)ts->task->partition, (long long)from, (long long)high);
    if (waited && !ts->task->restoring)
      task_ready(t, ts->task);
    return 0;
  }
  ts->restoring = 1;
  ts->restore_from = from;
  ts->restore_to = high;
  ts->restored = 0;
  ts->restore_start_ms = weir_now_ms();
  rd_kafka_topic_partition_list_add(t->restoring, topic, ts->task->partition)->offset = from;
  /* Incremental: assign() of the whole list would send every partition
   * still restoring back to its first offset. */
  rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(one, topic, ts->task->partition)->offset = from;
  rd_kafka_error_t *error = rd_kafka_incremental_assign(t->restorer, one);
  rd_kafka_topic_partition_list_destroy(one);
  if (error) {
    snprintf(errstr, errstr_size, "restore: store '%s': cannot read changelog '%s' [%d]: %s",
             ts->decl->name, topic, (int)ts->task->partition, rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    return -1;
  }
  ts->task->restoring++;
  return 0;
}

/* The stores waiting for their changelog's offsets, tried again. */
static void begin_waiting(weir_stream_thread_t *t) {
  char why[1024];
  if (!t->begin_pending || weir_now_ms() < t->next_begin_retry)
    return;
  t->next_begin_retry = weir_now_ms() + BEGIN_RETRY_MS;
  for (size_t k = 0; k < t->task_cap && t->begin_pending; k++) {
    weir_task_t *task = t->tasks[k];
    for (size_t i = 0; task && task->active && i < task->store_count; i++)
      if (task->stores[i].begin_deadline && begin_store(t, &task->stores[i], why, sizeof why)) {
        t->shared.fail(t->shared.app, why);
        return;
      }
  }
}

int weir_restore_begin(weir_stream_thread_t *t, weir_task_t *task) {
  char why[1024];
  for (size_t i = 0; i < task->store_count; i++) {
    weir_task_store_t *ts = &task->stores[i];
    if (ts->kv && ts->decl->changelog_topic && begin_store(t, ts, why, sizeof why)) {
      t->shared.fail(t->shared.app, why);
      return -1;
    }
  }
  return 0;
}

static void unassign(weir_stream_thread_t *t, weir_task_store_t *ts) {
  if (ts->begin_deadline) { /* not assigned yet */
    begin_end_wait(t, ts);
    return;
  }
  rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(one, ts->decl->changelog_topic, ts->task->partition);
  rd_kafka_error_t *error = rd_kafka_incremental_unassign(t->restorer, one);
  if (error) {
    WEIR_WARN("restore: changelog '%s' [%d]: %s", ts->decl->changelog_topic,
              (int)ts->task->partition, rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
  }
  rd_kafka_topic_partition_list_destroy(one);
  rd_kafka_topic_partition_list_del(t->restoring, ts->decl->changelog_topic, ts->task->partition);
  ts->restoring = 0;
  ts->task->restoring--;
}

static void finish_store(weir_stream_thread_t *t, weir_task_store_t *ts) {
  int64_t ms = weir_now_ms() - ts->restore_start_ms;
  WEIR_INFO("restore: store '%s' partition %d: %lld records from offset %lld to %lld in %lld ms",
            ts->decl->name, (int)ts->task->partition, (long long)ts->restored,
            (long long)ts->restore_from, (long long)ts->restore_to, (long long)ms);
  unassign(t, ts);
  if (!ts->task->restoring)
    task_ready(t, ts->task);
}

/* The task's last store is restored (or found up to date after a wait). */
static void task_ready(weir_stream_thread_t *t, weir_task_t *task) {
  /* The restore wrote without the WAL: make it durable before the task's
   * own (logged) commits, which a crash would replay on top of it. */
  char why[512];
  int64_t start = weir_now_ms();
  if (weir_state_db_flush(t->env.state_db, why, sizeof why))
    t->shared.fail(t->shared.app, why);
  seek_back(t, task);
  weir_thread_publish_states(t);
  WEIR_INFO("restore: task %s ready (RocksDB flushed in %lld ms)", task->id,
            (long long)(weir_now_ms() - start));
}

static weir_task_store_t *store_of(weir_stream_thread_t *t, const rd_kafka_message_t *m) {
  const char *topic = rd_kafka_topic_name(m->rkt);
  const weir_topology_t *topo = t->shared.topo;
  for (size_t i = 0; i < topo->store_count; i++) {
    const weir_store_decl_t *d = &topo->stores[i];
    if (!d->changelog_topic || strcmp(d->changelog_topic, topic) != 0)
      continue;
    weir_task_t *task = weir_thread_task(t, d->subtopology, m->partition);
    for (size_t k = 0; task && k < task->store_count; k++)
      if (task->stores[k].decl == d && task->stores[k].restoring) {
        task->stores[k].restore_rkt = m->rkt;
        return &task->stores[k];
      }
  }
  return NULL;
}

/* Add one changelog record to the batch (an in-memory store: to the store);
 * 1 when its store reached the end, -1 out of memory. The checkpoint goes
 * in once per store per poll (restore_next; an in-memory store has none). */
static int apply_record(weir_stream_thread_t *t, weir_task_store_t *ts,
                        const rd_kafka_message_t *m) {
  if (m->err) {
    int end = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && m->offset >= ts->restore_to;
    /* The end is a checkpoint too: a changelog that holds only aborted
     * records and transaction markers (a crash under exactly_once before any
     * commit of this store) restores no record, and without it every later
     * start would restore that partition from its start again. */
    if (end && !ts->decl->in_memory) /* past every record applied before it */
      ts->restore_next = m->offset;
    return end;
  }
  if (ts->win && !weir_window_store_restore_keep(ts->win, m->key, m->key_len))
    ; /* a window or session past retention: not restored */
  else if (ts->decl->in_memory) {
    if (weir_kv_store_restore(ts->kv, m->key, m->key_len, m->payload, m->len))
      return -1;
  } else if (m->payload)
    weir_state_batch_put(t->restore_batch, ts->decl->name, m->partition, m->key, m->key_len,
                         m->payload, m->len);
  else
    weir_state_batch_delete(t->restore_batch, ts->decl->name, m->partition, m->key, m->key_len);
  if (!ts->decl->in_memory)
    ts->restore_next = m->offset + 1;
  ts->restored++;
  return m->offset + 1 >= ts->restore_to;
}

/* The stores this poll touched get their checkpoint into the batch. */
static void add_checkpoints(weir_stream_thread_t *t, weir_task_store_t **touched, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (touched[i]->restore_next > 0) {
      weir_state_batch_checkpoint(t->restore_batch, touched[i]->decl->name,
                                  touched[i]->task->partition, touched[i]->restore_next);
      touched[i]->restore_next = 0;
    }
}

static int write_batch(weir_stream_thread_t *t) {
  char why[512], msg[768];
  if (weir_state_batch_count(t->restore_batch) == 0)
    return 0;
  if (weir_state_batch_write_unlogged(t->env.state_db, t->restore_batch, why, sizeof why)) {
    snprintf(msg, sizeof msg, "restore: cannot write RocksDB at %s: %s",
             weir_state_db_path(t->env.state_db), why);
    t->shared.fail(t->shared.app, msg);
    return -1;
  }
  weir_state_batch_clear(t->restore_batch);
  return 0;
}

void weir_restore_poll(weir_stream_thread_t *t) {
  rd_kafka_message_t *msgs[RESTORE_BATCH];
  weir_task_store_t *done[RESTORE_BATCH], *touched[RESTORE_BATCH], *last = NULL;
  size_t done_count = 0, touched_count = 0;
  begin_waiting(t);
  if (!t->restoring || !t->restoring->cnt)
    return;
  ssize_t n = rd_kafka_consume_batch_queue(t->restore_queue, 0, msgs, RESTORE_BATCH);
  weir_fetch_wake_after_pull(t->restore_wake, msgs, n > 0 ? (size_t)n : 0,
                             rd_kafka_queue_length(t->restore_queue));
  for (ssize_t i = 0; i < n; i++) {
    /* Records come in runs of one partition: look a store up once per run. */
    weir_task_store_t *ts =
        last && last->task->partition == msgs[i]->partition && msgs[i]->rkt == last->restore_rkt
            ? last
            : store_of(t, msgs[i]);
    last = ts;
    int64_t before = ts ? ts->restore_next : 0;
    int applied = ts ? apply_record(t, ts, msgs[i]) : 0;
    if (applied < 0) {
      char msg[512];
      snprintf(msg, sizeof msg,
               "restore: store '%s' partition %d (in memory): out of memory at changelog offset "
               "%lld; give weir more memory or use backend = rocksdb",
               ts->decl->name, (int)msgs[i]->partition, (long long)msgs[i]->offset);
      for (ssize_t j = i; j < n; j++)
        rd_kafka_message_destroy(msgs[j]);
      t->shared.fail(t->shared.app, msg);
      return;
    }
    if (applied)
      done[done_count++] = ts;
    if (ts && !before && ts->restore_next)
      touched[touched_count++] = ts;
    else if (!ts && msgs[i]->err && msgs[i]->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
      WEIR_WARN("thread %d: restore consumer: %s", t->index, rd_kafka_message_errstr(msgs[i]));
    rd_kafka_message_destroy(msgs[i]);
  }
  add_checkpoints(t, touched, touched_count);
  /* Few, large writes: a batch per poll would cap the restore rate. */
  if ((done_count || n < RESTORE_BATCH ||
       weir_state_batch_count(t->restore_batch) >= WRITE_EVERY) &&
      write_batch(t))
    return;
  for (size_t i = 0; i < done_count; i++)
    if (done[i]->restoring)
      finish_store(t, done[i]);
}

/* The batch holds rows restored since the last write, each store's with its
 * checkpoint: written now, while this thread still owns the task's stores.
 * Left for a later restore's write, it would land after another thread may
 * have restored and moved on the same store-partition, putting older rows
 * and an older checkpoint over it. */
void weir_restore_cancel(weir_stream_thread_t *t, weir_task_t *task) {
  int any = 0;
  for (size_t i = 0; i < task->store_count; i++)
    any |= task->stores[i].restoring;
  if (any && t->restore_batch)
    write_batch(t);
  for (size_t i = 0; i < task->store_count; i++)
    if (task->stores[i].restoring)
      unassign(t, &task->stores[i]);
  /* Revoked: the next owner reads from the committed offset. */
  rd_kafka_topic_partition_list_t *dropped = take_held_back(t, task);
  if (dropped)
    rd_kafka_topic_partition_list_destroy(dropped);
}

void weir_restore_stop(weir_stream_thread_t *t) {
  if (t->restore_queue)
    rd_kafka_queue_destroy(t->restore_queue);
  t->restore_queue = NULL;
  weir_fetch_wake_free(t->restore_wake);
  t->restore_wake = NULL;
  if (t->restorer)
    rd_kafka_destroy(t->restorer);
  t->restorer = NULL;
  if (t->restoring)
    rd_kafka_topic_partition_list_destroy(t->restoring);
  t->restoring = NULL;
  weir_state_batch_free(t->restore_batch);
  t->restore_batch = NULL;
  if (t->held_back)
    rd_kafka_topic_partition_list_destroy(t->held_back);
  t->held_back = NULL;
}
