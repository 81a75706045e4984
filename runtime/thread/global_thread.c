/* The global tables' consumer and thread (global_thread.h). */
#include "thread/global_thread.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka/fetch_wake.h"
#include "kafka/kafka_conf.h"
#include "kafka/offsets_query.h"
#include "kafka/topics.h"
#include "state/global_store.h"
#include "util/clock.h"
#include "util/log.h"

enum { POLL_BATCH = 1024, POLL_MS = 100, OFFSETS_TIMEOUT_MS = 15000, WRITE_EVERY = 16384 };

typedef struct gtable {
  const weir_store_decl_t *decl;
  int32_t partitions;
  int64_t *end;  /* per partition: the end offset captured before the restore */
  int64_t *next; /* per partition: the next offset to read */
  char *moved;   /* per partition: next moved since the last write */
  int from_checkpoints;
  long long applied; /* records taken: during the restore, then since the last log */
} gtable_t;

struct weir_global {
  weir_global_env_t env;
  rd_kafka_t *rk;
  rd_kafka_queue_t *queue;
  weir_fetch_wake_t *wake; /* kafka/fetch_wake.h: a restore is a backlog */
  gtable_t *tables;
  size_t count;
  weir_state_batch_t *batch;
  pthread_t tid;
  int started;
  atomic_int stop;
};

static const char *path_of(const weir_global_t *g) {
  return g->env.topo->path ? g->env.topo->path : "(topology)";
}

static int new_consumer(weir_global_t *g, char *errstr, size_t errstr_size) {
  char id[300], why[512];
  snprintf(id, sizeof id, "%s-global", g->env.topo->settings.application_id);
  rd_kafka_conf_t *conf = weir_kafka_conf_new(&g->env.topo->kafka_settings, g->env.bootstrap,
                                              WEIR_CLIENT_RESTORE, id, errstr, errstr_size);
  if (!conf)
    return -1;
  /* librdkafka 2.0.2 has no consumer queue without a group.id; this
   * consumer only assigns, it never joins the group. */
  rd_kafka_conf_set(conf, "group.id", id, NULL, 0);
  g->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
  if (!g->rk) {
    rd_kafka_conf_destroy(conf);
    snprintf(errstr, errstr_size, "global tables: cannot create their consumer: %s", why);
    return -1;
  }
  rd_kafka_poll_set_consumer(g->rk);
  g->queue = rd_kafka_queue_get_consumer(g->rk);
  g->wake = weir_fetch_wake_new(g->rk, g->env.topo->kafka_settings.embedded);
  return g->queue ? 0 : -1;
}

/* Where partition p starts: its checkpoint, unless the topic no longer
 * holds it (then -2: the rows are stale). */
static int64_t start_of(weir_global_t *g, gtable_t *gt, int32_t p, int64_t low, char *errstr,
                        size_t errstr_size) {
  int64_t ck = weir_state_db_checkpoint(g->env.db, gt->decl->name, p, errstr, errstr_size);
  if (ck == -2)
    return -3;
  if (ck > gt->end[p])
    return -2; /* the topic was recreated or truncated under the table */
  if (ck >= 0)
    gt->from_checkpoints = 1;
  return ck < low ? low : ck;
}

/* A partition's low and end offsets. A partition without a leader yet (a
 * topic just created, a broker restarting) is asked again for up to
 * OFFSETS_TIMEOUT_MS in all, as the tasks' restore waits for its changelogs. */
static rd_kafka_resp_err_t ends_of(weir_global_t *g, const char *topic, int32_t p, int64_t *low,
                                   int64_t *high) {
  int64_t deadline = weir_now_ms() + OFFSETS_TIMEOUT_MS;
  for (;;) {
    int64_t left = deadline - weir_now_ms();
    rd_kafka_resp_err_t err = /* a timeout that holds */
        weir_offsets_query(g->rk, topic, p, left > 100 ? (int)left : 100, low, high);
    if (!err || weir_now_ms() >= deadline || atomic_load(g->env.stopping))
      return err;
    struct timespec pause = {0, 200 * 1000000L};
    nanosleep(&pause, NULL);
  }
}

/* The table's partitions, end offsets and start offsets, added to `assign`. */
static int plan_table(weir_global_t *g, gtable_t *gt, const rd_kafka_metadata_t *md,
                      rd_kafka_topic_partition_list_t *assign, char *errstr, size_t errstr_size) {
  const char *topic = gt->decl->global_topic;
  gt->partitions = weir_topics_partitions(md, topic);
  if (gt->partitions <= 0) {
    snprintf(errstr, errstr_size,
             "%s:%d: [global:%s]: topic '%s' does not exist on %s: create it first "
             "(kafka-topics.sh --create --topic %s) or fix the name",
             path_of(g), gt->decl->line, gt->decl->name, topic, g->env.bootstrap, topic);
    return -1;
  }
  gt->end = calloc((size_t)gt->partitions, sizeof *gt->end);
  gt->next = calloc((size_t)gt->partitions, sizeof *gt->next);
  gt->moved = calloc((size_t)gt->partitions, 1);
  int64_t *low = calloc((size_t)gt->partitions, sizeof *low);
  int stale = 0, rc = gt->end && gt->next && gt->moved && low ? 0 : -1;
  for (int32_t p = 0; rc == 0 && p < gt->partitions; p++) {
    rd_kafka_resp_err_t err = ends_of(g, topic, p, &low[p], &gt->end[p]);
    if (err) {
      snprintf(errstr, errstr_size, "global table '%s': cannot read the end of topic '%s' [%d]: %s",
               gt->decl->name, topic, (int)p, rd_kafka_err2str(err));
      rc = -1;
    } else if ((gt->next[p] = start_of(g, gt, p, low[p], errstr, errstr_size)) == -3) {
      rc = -1;
    } else if (gt->next[p] == -2) {
      stale = 1;
    }
  }
  if (rc == 0 && stale) {
    WEIR_WARN("global table '%s': its checkpoints are past the end of topic '%s' (recreated?): "
              "reading it whole again",
              gt->decl->name, topic);
    gt->from_checkpoints = 0;
    rc = weir_global_store_drop(g->env.db, gt->decl->name, gt->partitions, errstr, errstr_size);
    for (int32_t p = 0; rc == 0 && p < gt->partitions; p++)
      gt->next[p] = low[p];
  }
  for (int32_t p = 0; rc == 0 && p < gt->partitions; p++)
    rd_kafka_topic_partition_list_add(assign, topic, p)->offset = gt->next[p];
  free(low);
  if (rc && !errstr[0])
    snprintf(errstr, errstr_size, "global table '%s': out of memory", gt->decl->name);
  return rc;
}

static int plan(weir_global_t *g, char *errstr, size_t errstr_size) {
  const rd_kafka_metadata_t *md = NULL;
  /* all_topics = 1: asking for one topic could make the broker create it. */
  rd_kafka_resp_err_t err = rd_kafka_metadata(g->rk, 1, NULL, &md, OFFSETS_TIMEOUT_MS);
  if (err) {
    snprintf(errstr, errstr_size, "global tables: cannot read the topics of %s: %s",
             g->env.bootstrap, rd_kafka_err2str(err));
    return -1;
  }
  rd_kafka_topic_partition_list_t *assign = rd_kafka_topic_partition_list_new(16);
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < g->count; i++)
    rc = plan_table(g, &g->tables[i], md, assign, errstr, errstr_size);
  rd_kafka_metadata_destroy(md);
  if (rc == 0) {
    rd_kafka_resp_err_t aerr = rd_kafka_assign(g->rk, assign);
    if (aerr) {
      snprintf(errstr, errstr_size, "global tables: cannot assign their topics: %s",
               rd_kafka_err2str(aerr));
      rc = -1;
    }
  }
  rd_kafka_topic_partition_list_destroy(assign);
  return rc;
}

static gtable_t *table_of(weir_global_t *g, const char *topic, int32_t partition) {
  for (size_t i = 0; i < g->count; i++)
    if (strcmp(g->tables[i].decl->global_topic, topic) == 0 && partition >= 0 &&
        partition < g->tables[i].partitions)
      return &g->tables[i];
  return NULL;
}

/* One message: a record into the batch, or an end of partition. */
static void take(weir_global_t *g, const rd_kafka_message_t *m) {
  gtable_t *gt = m->rkt ? table_of(g, rd_kafka_topic_name(m->rkt), m->partition) : NULL;
  if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    if (gt && m->offset > gt->next[m->partition])
      gt->next[m->partition] = m->offset; /* past control records and compacted gaps */
    return;
  }
  if (m->err) {
    WEIR_WARN("global tables: reading %s [%d]: %s", m->rkt ? rd_kafka_topic_name(m->rkt) : "?",
              (int)m->partition, rd_kafka_message_errstr(m));
    return;
  }
  if (!gt)
    return;
  weir_global_store_add(g->batch, gt->decl->name, m->key, m->key_len, m->payload, m->len);
  gt->next[m->partition] = m->offset + 1;
  gt->moved[m->partition] = 1;
  gt->applied++;
}

/* One poll's records into the batch. */
static void poll_once(weir_global_t *g, int timeout_ms) {
  rd_kafka_message_t *msgs[POLL_BATCH];
  /* Wait for one message, then take what else is there without waiting: a
   * batch call with a timeout waits for a full batch or the timeout, which
   * held each update (and the restore's end) back by the whole timeout. */
  rd_kafka_message_t *first = rd_kafka_consume_queue(g->queue, timeout_ms);
  ssize_t n = first ? rd_kafka_consume_batch_queue(g->queue, 0, msgs, POLL_BATCH) : 0;
  weir_fetch_wake_after_pull(g->wake, msgs, n > 0 ? (size_t)n : 0, rd_kafka_queue_length(g->queue));
  if (first) {
    take(g, first);
    rd_kafka_message_destroy(first);
  }
  for (ssize_t i = 0; i < n; i++) {
    take(g, msgs[i]);
    rd_kafka_message_destroy(msgs[i]);
  }
}

/* The batch (records and their checkpoints) into RocksDB: with the WAL
 * once running; without it while restoring (a crash loses rows and
 * checkpoints together, and the restore reads them again), as the tasks'
 * restore does. 0, or -1 + errstr. */
static int write_batch(weir_global_t *g, int logged, char *errstr, size_t errstr_size) {
  char why[512];
  if (weir_state_batch_count(g->batch) == 0)
    return 0;
  for (size_t i = 0; i < g->count; i++)
    for (int32_t p = 0; p < g->tables[i].partitions; p++)
      if (g->tables[i].moved[p]) {
        weir_global_store_checkpoint(g->batch, g->tables[i].decl->name, p, g->tables[i].next[p]);
        g->tables[i].moved[p] = 0;
      }
  int rc = logged ? weir_state_batch_write(g->env.db, g->batch, why, sizeof why)
                  : weir_state_batch_write_unlogged(g->env.db, g->batch, why, sizeof why);
  if (rc) {
    snprintf(errstr, errstr_size, "global tables: cannot write RocksDB: %s", why);
    return -1;
  }
  weir_state_batch_clear(g->batch);
  return 0;
}

static int at_end(const weir_global_t *g) {
  for (size_t i = 0; i < g->count; i++)
    for (int32_t p = 0; p < g->tables[i].partitions; p++)
      if (g->tables[i].next[p] < g->tables[i].end[p])
        return 0;
  return 1;
}

/* Said before a restore that has something to read: start waits for it. */
static void announce(const weir_global_t *g) {
  for (size_t i = 0; i < g->count; i++) {
    const gtable_t *gt = &g->tables[i];
    long long behind = 0;
    for (int32_t p = 0; p < gt->partitions; p++)
      behind += gt->end[p] > gt->next[p] ? gt->end[p] - gt->next[p] : 0;
    if (behind)
      WEIR_INFO("global table '%s': reading up to %lld record(s) of topic '%s' before any "
                "record is processed",
                gt->decl->name, behind, gt->decl->global_topic);
  }
}

/* A stop asked for while weir_app_start still runs: `weir run` blocks
 * SIGINT and SIGTERM and takes them only once the start has returned, so a
 * long restore would otherwise ignore them. They stay pending for it. */
static int stop_signal_pending(void) {
  sigset_t pending;
  return sigpending(&pending) == 0 &&
         (sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1);
}

static int restore(weir_global_t *g, char *errstr, size_t errstr_size) {
  int64_t start = weir_now_ms();
  announce(g);
  while (!at_end(g)) {
    if (atomic_load(g->env.stopping) || stop_signal_pending()) {
      snprintf(errstr, errstr_size,
               "stopped while the global tables were restoring (what was read is kept: the next "
               "start goes on from there)");
      char why[512]; /* kept: the rows read so far, with their checkpoints (or not at all) */
      if (write_batch(g, 0, why, sizeof why))
        WEIR_WARN("%s", why);
      return -1;
    }
    poll_once(g, POLL_MS);
    /* One unlogged write per WRITE_EVERY records, not one per poll: a
     * logged write per poll restored 200,000 records in 2.3 s. */
    if (weir_state_batch_count(g->batch) >= WRITE_EVERY && write_batch(g, 0, errstr, errstr_size))
      return -1;
  }
  char why[512];
  if (write_batch(g, 0, errstr, errstr_size))
    return -1;
  /* On disk before the logged writes a crash would replay on top of it. */
  if (weir_state_db_flush(g->env.db, why, sizeof why)) {
    snprintf(errstr, errstr_size, "global tables: %s", why);
    return -1;
  }
  for (size_t i = 0; i < g->count; i++) {
    gtable_t *gt = &g->tables[i];
    WEIR_INFO("global table '%s': restored %lld record(s) of topic '%s' (%d partition(s), %s) in "
              "%lld ms",
              gt->decl->name, gt->applied, gt->decl->global_topic, (int)gt->partitions,
              gt->from_checkpoints ? "from its checkpoints" : "from the beginning",
              (long long)(weir_now_ms() - start));
    gt->applied = 0;
  }
  return 0;
}

static void *thread_main(void *arg) {
  weir_global_t *g = arg;
  char why[1024];
  pthread_setname_np(pthread_self(), "weir-global");
  while (!atomic_load(&g->stop) && !atomic_load(g->env.stopping)) {
    poll_once(g, POLL_MS);
    if (write_batch(g, 1, why, sizeof why)) {
      g->env.fail(g->env.app, why);
      break;
    }
    for (size_t i = 0; i < g->count; i++)
      if (g->tables[i].applied) {
        WEIR_DEBUG("global table '%s': applied %lld record(s)", g->tables[i].decl->name,
                   g->tables[i].applied);
        g->tables[i].applied = 0;
      }
  }
  return NULL;
}

static weir_global_t *global_new(const weir_global_env_t *env) {
  size_t n = 0;
  for (size_t i = 0; i < env->topo->store_count; i++)
    n += env->topo->stores[i].global_topic != NULL;
  if (!n)
    return NULL;
  weir_global_t *g = calloc(1, sizeof *g);
  if (!g)
    return NULL;
  g->env = *env;
  g->tables = calloc(n, sizeof *g->tables);
  g->batch = weir_state_batch_new();
  for (size_t i = 0; g->tables && i < env->topo->store_count; i++)
    if (env->topo->stores[i].global_topic)
      g->tables[g->count++].decl = &env->topo->stores[i];
  return g;
}

int weir_global_start(const weir_global_env_t *env, weir_global_t **out, char *errstr,
                      size_t errstr_size) {
  *out = NULL;
  errstr[0] = '\0';
  weir_global_t *g = global_new(env);
  if (!g) {
    for (size_t i = 0; i < env->topo->store_count; i++)
      if (env->topo->stores[i].global_topic) {
        snprintf(errstr, errstr_size, "global tables: out of memory");
        return -1;
      }
    return 0;
  }
  if (!g->tables || !g->batch) {
    snprintf(errstr, errstr_size, "global tables: out of memory");
    weir_global_stop(g);
    return -1;
  }
  if (new_consumer(g, errstr, errstr_size) || plan(g, errstr, errstr_size) ||
      restore(g, errstr, errstr_size)) {
    weir_global_stop(g);
    return -1;
  }
  if (pthread_create(&g->tid, NULL, thread_main, g)) {
    snprintf(errstr, errstr_size, "cannot start the global tables' thread");
    weir_global_stop(g);
    return -1;
  }
  g->started = 1;
  *out = g;
  return 0;
}

void weir_global_stop(weir_global_t *g) {
  if (!g)
    return;
  atomic_store(&g->stop, 1);
  if (g->started)
    pthread_join(g->tid, NULL);
  if (g->queue)
    rd_kafka_queue_destroy(g->queue);
  weir_fetch_wake_free(g->wake);
  if (g->rk) {
    rd_kafka_consumer_close(g->rk);
    rd_kafka_destroy(g->rk);
  }
  for (size_t i = 0; g->tables && i < g->count; i++) {
    free(g->tables[i].end);
    free(g->tables[i].next);
    free(g->tables[i].moved);
  }
  free(g->tables);
  weir_state_batch_free(g->batch);
  free(g);
}
