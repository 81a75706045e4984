#include "app/app.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/exactly_once.h"
#include "app/internal_topics.h"
#include "app/topic_checks.h"
#include "broker/embedded.h"
#include "http/directory.h"
#include "http/ownership.h"
#include "http/server.h"
#include "kafka/kafka_conf.h"
#include "kafka/partitions_ready.h"
#include "reload/control.h"
#include "reload/reload.h"
#include "reload/swap.h"
#include "state/kv_store.h"
#include "state/state_db.h"
#include "task/task.h"
#include "thread/global_thread.h"
#include "thread/stream_thread.h"
#include "util/clock.h"
#include "util/log.h"

struct weir_app {
  const weir_topology_t *topo;
  weir_embedded_t *embedded;
  char *bootstrap;
  atomic_int stopping;
  atomic_int exit_code;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  weir_stream_thread_t **threads;
  int thread_count;
  weir_thread_shared_t shared;
  weir_state_db_t *state_db;
  weir_cache_budget_t cache_budget;
  weir_swap_t swap;
  int swap_ready;
  weir_reloader_t *reloader;
  weir_control_t *control;
  char instance_id[128];    /* exactly_once: in the producers' transactional.id */
  weir_ownership_t *owners; /* NULL unless http.listen is set */
  weir_http_t *http;
  weir_directory_t *directory; /* NULL unless http.advertise is set */
  weir_global_t *global;       /* NULL unless the topology has [global:] tables */
};

void weir_app_stop(weir_app_t *app) {
  pthread_mutex_lock(&app->mu);
  atomic_store(&app->stopping, 1);
  pthread_cond_broadcast(&app->cv);
  pthread_mutex_unlock(&app->mu);
}

void weir_app_fail(weir_app_t *app, const char *message) {
  int expected = 0;
  if (atomic_compare_exchange_strong(&app->exit_code, &expected, 1))
    WEIR_ERROR("%s", message);
  weir_app_stop(app);
}

static void fail_cb(void *app, const char *message) {
  weir_app_fail(app, message);
}

int weir_app_wait_stop(weir_app_t *app, int timeout_ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += timeout_ms / 1000;
  ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&app->mu);
  while (!atomic_load(&app->stopping))
    if (pthread_cond_timedwait(&app->cv, &app->mu, &ts))
      break;
  int stopping = atomic_load(&app->stopping);
  pthread_mutex_unlock(&app->mu);
  return stopping;
}

/* The embedded broker: started here, with every topic the topology names. */
static int start_embedded(weir_app_t *app, char *errstr, size_t errstr_size) {
  const weir_topology_t *t = app->topo;
  size_t n_src = 0, n_sink = 0;
  app->embedded = weir_embedded_start(1, errstr, errstr_size);
  if (!app->embedded)
    return -1;
  const char **src = weir_topology_source_topics(t, &n_src);
  const char **sink = weir_topology_sink_topics(t, &n_sink);
  int rc = src && sink ? 0 : -1;
  for (size_t i = 0; rc == 0 && i < n_src; i++)
    rc = weir_embedded_create_topic(app->embedded, src[i], t->settings.embedded_partitions, errstr,
                                    errstr_size);
  for (size_t i = 0; rc == 0 && i < n_sink; i++)
    rc = weir_embedded_create_topic(app->embedded, sink[i], t->settings.embedded_partitions, errstr,
                                    errstr_size);
  for (size_t i = 0; rc == 0 && i < t->store_count; i++)
    if (t->stores[i].global_topic)
      rc = weir_embedded_create_topic(app->embedded, t->stores[i].global_topic,
                                      t->settings.embedded_partitions, errstr, errstr_size);
  if (rc == 0 && t->settings.dead_letter_topic)
    rc = weir_embedded_create_topic(app->embedded, t->settings.dead_letter_topic,
                                    t->settings.embedded_partitions, errstr, errstr_size);
  free(src);
  free(sink);
  if (rc == 0)
    WEIR_INFO("embedded broker on %s (in memory only: for development and tests)",
              weir_embedded_bootstrap(app->embedded));
  return rc;
}

static rd_kafka_t *admin_client(weir_app_t *app, char *errstr, size_t errstr_size) {
  char why[512];
  rd_kafka_conf_t *conf = weir_kafka_conf_new(&app->topo->kafka_settings, app->bootstrap,
                                              WEIR_CLIENT_ADMIN, "weir-admin", errstr, errstr_size);
  if (!conf)
    return NULL;
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    snprintf(errstr, errstr_size, "cannot create a Kafka client: %s", why);
  }
  return rk;
}

enum { WRITABLE_WAIT_MS = 15000 };

/* Every topic weir writes: sinks (repartition topics among them),
 * changelogs, the dead-letter topic. NULL-ended, the caller's free(); the
 * strings belong to the topology. */
static const char **written_topics(const weir_topology_t *t, size_t *n) {
  const char **sinks = weir_topology_sink_topics(t, n);
  const char **names =
      sinks ? realloc(sinks, (*n + t->internal_topic_count + 2) * sizeof *names) : NULL;
  if (!names) {
    free(sinks);
    return NULL;
  }
  for (size_t j = 0; j < t->internal_topic_count; j++)
    if (t->internal_topics[j].changelog)
      names[(*n)++] = t->internal_topics[j].name;
  if (t->settings.dead_letter_topic)
    names[(*n)++] = t->settings.dead_letter_topic;
  names[*n] = NULL;
  return names;
}

/* The topics weir writes take records before the threads start, so that no
 * first batch meets a partition whose log the broker is still creating
 * (kafka/partitions_ready.h). A partition not ready in time delays nothing
 * further: its records wait in the producer's queue, and one reported
 * delivered without an offset goes out again (thread/resend.h). */
static void wait_writable(rd_kafka_t *rk, const weir_topology_t *t, const char *bootstrap) {
  size_t n = 0;
  const char **names = written_topics(t, &n);
  const rd_kafka_metadata_t *md = NULL;
  char why[512];
  int rounds = 0, late = 0;
  int64_t start = weir_now_ms();
  if (names && rd_kafka_metadata(rk, 1, NULL, &md, WRITABLE_WAIT_MS) == 0)
    late = weir_partitions_wait_ready(rk, md, names, n, WRITABLE_WAIT_MS, &rounds, why, sizeof why);
  if (late)
    WEIR_WARN("the partitions of the topics weir writes on %s were not all confirmed to take "
              "records within %d s (%d unconfirmed: %s): starting all the same; records for a "
              "partition still refusing wait in the producer's queue",
              bootstrap, WRITABLE_WAIT_MS / 1000, late, why);
  else if (rounds > 1)
    WEIR_INFO("waited %lld ms for the partitions of the topics weir writes on %s to take "
              "records (asked %d times)",
              (long long)(weir_now_ms() - start), bootstrap, rounds);
  if (md)
    rd_kafka_metadata_destroy(md);
  free(names);
}

static void diag_join(weir_diag_t *d, char *errstr, size_t errstr_size) {
  size_t used = 0;
  for (size_t i = 0; i < d->count && used < errstr_size; i++)
    used += (size_t)snprintf(errstr + used, errstr_size - used, "%s%s", i ? "\n" : "", d->lines[i]);
}

/* Every check first, from one metadata answer; the internal topics are
 * created only when all passed, so a refused start leaves nothing behind. */
static int prepare_topics(weir_app_t *app, char *errstr, size_t errstr_size) {
  const weir_topology_t *t = app->topo;
  const rd_kafka_metadata_t *md = NULL;
  weir_diag_t d = {0};
  rd_kafka_t *rk = admin_client(app, errstr, errstr_size);
  if (!rk)
    return -1;
  /* all_topics = 1: asking for named topics could make the broker auto-create them. */
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, 15000);
  if (err) {
    snprintf(errstr, errstr_size,
             "cannot reach the Kafka cluster at %s: %s: is it running, and is bootstrap.servers "
             "right?",
             app->bootstrap, rd_kafka_err2str(err));
    rd_kafka_destroy(rk);
    return -1;
  }
  int *decided = calloc(t->internal_topic_count + 1, sizeof *decided);
  int rc = decided ? weir_topic_checks(md, t, app->bootstrap, &d) : -1;
  if (rc)
    diag_join(&d, errstr, errstr_size);
  else
    rc = weir_internal_topics_plan(t, md, decided, errstr, errstr_size) ||
                 weir_internal_topics_create(rk, app->embedded, t, md, decided, app->bootstrap,
                                             errstr, errstr_size)
             ? -1
             : 0;
  if (rc == 0)
    wait_writable(rk, t, app->bootstrap);
  weir_diag_free(&d);
  free(decided);
  rd_kafka_metadata_destroy(md);
  rd_kafka_destroy(rk);
  return rc;
}

/* Only range hands partition N of every subscribed topic to the same member;
 * roundrobin and cooperative-sticky can split co-partitioned inputs. */
static int check_strategy(const weir_topology_t *t, char *errstr, size_t errstr_size) {
  for (size_t i = 0; i < t->kafka_count; i++) {
    const weir_kafka_prop_t *p = &t->kafka[i];
    if (strcmp(p->key, "partition.assignment.strategy") != 0 || strcmp(p->value, "range") == 0)
      continue;
    for (int sub = 0; sub < t->subtopology_count; sub++) {
      size_t topics = 0;
      for (size_t n = 0; n < t->node_count; n++)
        if (t->nodes[n]->kind == WEIR_NODE_SOURCE && t->nodes[n]->subtopology == sub)
          topics += t->nodes[n]->topic_count;
      if (topics > 1) {
        char where[300] = "--set"; /* a line below 1 came from the command line */
        if (p->line > 0)
          snprintf(where, sizeof where, "%s:%d", t->path, p->line);
        snprintf(errstr, errstr_size,
                 "%s: partition.assignment.strategy = %s can give partition N of two "
                 "co-partitioned topics of sub-topology %d to different members; use range",
                 where, p->value, sub);
        return -1;
      }
    }
  }
  return 0;
}

/* One RocksDB for every store of the process, when the topology has any. */
static int open_state(weir_app_t *app, char *errstr, size_t errstr_size) {
  const weir_settings_t *s = &app->topo->settings;
  int wiped = 0;
  if (!app->topo->store_count)
    return 0;
  app->state_db = weir_state_db_open(s->state_dir, s->application_id, s->state_memory_mb, &wiped,
                                     errstr, errstr_size);
  if (!app->state_db)
    return -1;
  weir_state_db_set_wal(app->state_db, s->state_wal);
  atomic_store(&app->cache_budget.used, 0);
  app->cache_budget.max = s->cache_max_bytes;
  app->shared.state_db = app->state_db;
  app->shared.cache_budget = &app->cache_budget;
  WEIR_INFO("state: %s (%d MB of RocksDB memory, %lld bytes of write cache, process-wide%s)",
            weir_state_db_path(app->state_db), s->state_memory_mb, (long long)s->cache_max_bytes,
            s->state_wal ? ""
                         : "; state.wal = false: after a crash the stores restore what "
                           "RocksDB had not flushed from their changelogs");
  return 0;
}

/* Each sub-topology's partition count: that of its first source topic.
 * Read after the internal topics exist; one not found yet stays 0, and
 * queries on its stores answer 503. */
static int32_t *partition_counts(weir_app_t *app, char *errstr, size_t errstr_size) {
  const weir_topology_t *t = app->topo;
  const rd_kafka_metadata_t *md = NULL;
  int32_t *counts = calloc((size_t)t->subtopology_count + 1, sizeof *counts);
  rd_kafka_t *rk = counts ? admin_client(app, errstr, errstr_size) : NULL;
  if (!rk || rd_kafka_metadata(rk, 1, NULL, &md, 15000)) {
    snprintf(errstr, errstr_size, "http: cannot read the topics' partition counts from %s",
             app->bootstrap);
    if (rk)
      rd_kafka_destroy(rk);
    free(counts);
    return NULL;
  }
  for (size_t n = 0; n < t->node_count; n++) {
    const weir_node_t *node = t->nodes[n];
    if (node->kind != WEIR_NODE_SOURCE || !node->topic_count || counts[node->subtopology])
      continue;
    for (int i = 0; i < md->topic_cnt; i++)
      if (strcmp(md->topics[i].topic, node->topics[0]) == 0)
        counts[node->subtopology] = md->topics[i].partition_cnt;
  }
  rd_kafka_metadata_destroy(md);
  rd_kafka_destroy(rk);
  return counts;
}

/* The table the threads publish their tasks in, for the HTTP server. */
static int new_owners(weir_app_t *app, char *errstr, size_t errstr_size) {
  if (!app->topo->settings.http_listen)
    return 0;
  int32_t *counts = partition_counts(app, errstr, errstr_size);
  if (!counts)
    return -1;
  app->owners =
      weir_ownership_new(app->topo->subtopology_count, counts, app->topo->settings.threads);
  free(counts);
  if (!app->owners)
    snprintf(errstr, errstr_size, "out of memory");
  app->shared.owners = app->owners;
  return app->owners ? 0 : -1;
}

static unsigned long long processed_cb(void *app) {
  return weir_app_processed(app);
}

static void reloads_cb(void *app, unsigned long long *done, unsigned long long *failed) {
  weir_reloader_counts(((weir_app_t *)app)->reloader, done, failed);
}

static int start_http(weir_app_t *app, char *errstr, size_t errstr_size) {
  const weir_settings_t *s = &app->topo->settings;
  if (!s->http_listen)
    return 0;
  /* Forwarding needs every instance's address: only with http.advertise. */
  if (s->http_advertise &&
      !(app->directory = weir_directory_new(app->topo, app->bootstrap, errstr, errstr_size)))
    return -1;
  weir_http_env_t env = {.topo = app->topo,
                         .directory = app->directory,
                         .owners = app->owners,
                         .state_db = app->state_db,
                         .advertise = s->http_advertise ? s->http_advertise : s->http_listen,
                         .processed = processed_cb,
                         .reloads = reloads_cb,
                         .app = app};
  app->http = weir_http_start(&env, errstr, errstr_size);
  return app->http ? 0 : -1;
}

/* The global tables, whole, before any stream thread exists: no record is
 * processed against a table still loading (thread/global_thread.h). */
static int start_global(weir_app_t *app, char *errstr, size_t errstr_size) {
  weir_global_env_t env = {.topo = app->topo,
                           .bootstrap = app->bootstrap,
                           .db = app->state_db,
                           .stopping = &app->stopping,
                           .fail = fail_cb,
                           .app = app};
  return weir_global_start(&env, &app->global, errstr, errstr_size);
}

static int start_threads(weir_app_t *app, char *errstr, size_t errstr_size) {
  app->thread_count = app->topo->settings.threads;
  app->threads = calloc((size_t)app->thread_count, sizeof *app->threads);
  if (!app->threads)
    return -1;
  for (int i = 0; i < app->thread_count; i++) {
    app->threads[i] = weir_stream_thread_new(&app->shared, i, errstr, errstr_size);
    if (!app->threads[i])
      return -1;
  }
  for (int i = 0; i < app->thread_count; i++)
    if (weir_stream_thread_start(app->threads[i])) {
      snprintf(errstr, errstr_size, "cannot start stream thread %d", i);
      return -1;
    }
  return 0;
}

/* The hot swap: shared with the threads, driven by the reloader, asked for
 * by SIGHUP (main thread), `weir reload` and new plugin builds (control). */
static int start_reload(weir_app_t *app, const weir_app_options_t *opts, char *errstr,
                        size_t errstr_size) {
  char path[256];
  const weir_settings_t *s = &app->topo->settings;
  app->reloader =
      weir_reloader_new(app->topo, opts ? opts->overrides : NULL, opts ? opts->override_count : 0,
                        &app->swap, weir_task_dry_run, errstr, errstr_size);
  if (!app->reloader)
    return -1;
  if (opts && opts->no_control)
    return 0;
  if (weir_control_socket_path(s->state_dir, s->application_id, path, sizeof path)) {
    WEIR_WARN("%s/%s/control.sock is too long for a Unix socket: `weir reload` cannot reach "
              "this instance (SIGHUP still reloads); use a shorter state.dir",
              s->state_dir, s->application_id);
    return 0;
  }
  app->control = weir_control_start(app->reloader, path, errstr, errstr_size);
  return app->control ? 0 : -1;
}

int weir_app_reload(weir_app_t *app, const char *trigger, char *report, size_t report_size) {
  if (!app->reloader) {
    snprintf(report, report_size, "reload is not available in this process");
    return -1;
  }
  return weir_reloader_run(app->reloader, trigger, report, report_size);
}

static weir_app_t *app_new(const weir_topology_t *t, const weir_app_options_t *opts) {
  weir_app_t *app = calloc(1, sizeof *app);
  if (!app)
    return NULL;
  if (weir_swap_init(&app->swap, t)) {
    free(app);
    return NULL;
  }
  app->swap_ready = 1;
  app->shared.swap = &app->swap;
  app->topo = t;
  pthread_mutex_init(&app->mu, NULL);
  pthread_cond_init(&app->cv, NULL);
  app->shared.topo = t;
  app->shared.stopping = &app->stopping;
  app->shared.fail = fail_cb;
  app->shared.app = app;
  app->shared.shutdown_timeout_ms =
      opts && opts->shutdown_timeout_ms > 0 ? opts->shutdown_timeout_ms : 10000;
  return app;
}

weir_app_t *weir_app_start(const weir_topology_t *t, const weir_app_options_t *opts, char *errstr,
                           size_t errstr_size) {
  weir_app_t *app = app_new(t, opts);
  if (!app) {
    snprintf(errstr, errstr_size, "out of memory");
    return NULL;
  }
  int embedded = strcmp(t->settings.bootstrap_servers, "embedded") == 0;
  if (check_strategy(t, errstr, errstr_size) || weir_task_dry_run(t, errstr, errstr_size)) {
    weir_app_free(app);
    return NULL;
  }
  if (embedded && start_embedded(app, errstr, errstr_size)) {
    weir_app_free(app);
    return NULL;
  }
  app->bootstrap =
      strdup(embedded ? weir_embedded_bootstrap(app->embedded) : t->settings.bootstrap_servers);
  app->shared.bootstrap = app->bootstrap;
  if (t->settings.guarantee == WEIR_EXACTLY_ONCE) {
    weir_eos_instance_id(t, app->instance_id, sizeof app->instance_id);
    app->shared.instance_id = app->instance_id;
  }
  if (!app->bootstrap || weir_eos_check_broker(t, app->bootstrap, errstr, errstr_size) ||
      open_state(app, errstr, errstr_size) || prepare_topics(app, errstr, errstr_size) ||
      new_owners(app, errstr, errstr_size) || start_global(app, errstr, errstr_size) ||
      start_threads(app, errstr, errstr_size) || start_http(app, errstr, errstr_size) ||
      start_reload(app, opts, errstr, errstr_size)) {
    weir_app_stop(app);
    weir_app_free(app);
    return NULL;
  }
  return app;
}

const char *weir_app_bootstrap(const weir_app_t *app) {
  return app->bootstrap;
}

int weir_app_join(weir_app_t *app) {
  for (int i = 0; i < app->thread_count; i++)
    if (app->threads[i])
      weir_stream_thread_join(app->threads[i]);
  return atomic_load(&app->exit_code);
}

int weir_app_http_port(const weir_app_t *app) {
  return app->http ? weir_http_port(app->http) : -1;
}

unsigned long long weir_app_processed(const weir_app_t *app) {
  unsigned long long n = 0;
  for (int i = 0; i < app->thread_count; i++)
    if (app->threads[i])
      n += weir_stream_thread_processed(app->threads[i]);
  return n;
}

/* RocksDB's share of the process's memory at the end, against its budget:
 * what an operator compares with the peak RSS to tell state from the rest. */
static void log_state_memory(const weir_app_t *app) {
  if (!app->state_db)
    return;
  weir_state_memory_t m;
  weir_state_db_memory(app->state_db, &m);
  WEIR_INFO("state: RocksDB held %.1f MiB at stop (block cache %.1f MiB of %.1f, memtables "
            "%.1f MiB; state.memory.mb = %d)",
            (double)(m.block_cache + m.memtables) / 1048576, (double)m.block_cache / 1048576,
            (double)m.block_cache_capacity / 1048576, (double)m.memtables / 1048576,
            app->topo->settings.state_memory_mb);
}

void weir_app_free(weir_app_t *app) {
  if (!app)
    return;
  weir_control_stop(app->control);
  weir_http_stop(app->http); /* it reads the stores and the table: gone first */
  weir_directory_free(app->directory);
  weir_app_join(app);
  for (int i = 0; i < app->thread_count; i++)
    weir_stream_thread_free(app->threads[i]);
  free(app->threads);
  weir_global_stop(app->global); /* before the RocksDB it writes closes */
  /* The threads' tasks released their versions: the current ones go last. */
  if (app->swap_ready)
    weir_swap_destroy(&app->swap);
  weir_reloader_free(app->reloader);
  log_state_memory(app);
  weir_state_db_close(app->state_db);
  weir_ownership_free(app->owners);
  weir_embedded_stop(app->embedded);
  free(app->bootstrap);
  pthread_cond_destroy(&app->cv);
  pthread_mutex_destroy(&app->mu);
  free(app);
}
