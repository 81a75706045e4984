#include "http/metrics.h"

#include <string.h>

static void family(weir_out_t *o, const char *name, const char *type, const char *help) {
  weir_out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, quote and newline escaped, as the format says. */
static void label(weir_out_t *o, const char *value) {
  for (const char *c = value; *c; c++) {
    if (*c == '\\' || *c == '"')
      weir_out_printf(o, "\\%c", *c);
    else if (*c == '\n')
      weir_out_str(o, "\\n");
    else
      weir_out_bytes(o, c, 1);
  }
}

static void thread_counters(const weir_http_env_t *env, weir_out_t *o) {
  const weir_ownership_t *w = env->owners;
  family(o, "weir_rebalances_total", "counter", "Partition assignments and revocations served.");
  for (int i = 0; i < w->thread_count; i++)
    weir_out_printf(o, "weir_rebalances_total{thread=\"%d\"} %llu\n", i,
                    (unsigned long long)atomic_load(&w->threads[i].rebalances));
  family(o, "weir_commits_total", "counter", "Offset commits that succeeded.");
  for (int i = 0; i < w->thread_count; i++)
    weir_out_printf(o, "weir_commits_total{thread=\"%d\"} %llu\n", i,
                    (unsigned long long)atomic_load(&w->threads[i].commits));
  family(o, "weir_commit_seconds_total", "counter", "Time spent in successful commits.");
  for (int i = 0; i < w->thread_count; i++)
    weir_out_printf(o, "weir_commit_seconds_total{thread=\"%d\"} %.6f\n", i,
                    (double)atomic_load(&w->threads[i].commit_us) / 1e6);
}

/* Reloads, and RocksDB's estimates of what the stores hold. */
static void process_counters(const weir_http_env_t *env, weir_out_t *o) {
  unsigned long long done = 0, failed = 0;
  if (env->reloads)
    env->reloads(env->app, &done, &failed);
  family(o, "weir_plugin_reloads_total", "counter", "Reloads that swapped a new version in.");
  weir_out_printf(o, "weir_plugin_reloads_total %llu\n", done);
  family(o, "weir_plugin_reload_failures_total", "counter", "Reloads refused or failed.");
  weir_out_printf(o, "weir_plugin_reload_failures_total %llu\n", failed);
  if (!env->state_db)
    return;
  family(o, "weir_state_estimated_keys", "gauge",
         "RocksDB's estimate of the keys of every store of this instance.");
  weir_out_printf(o, "weir_state_estimated_keys %lld\n",
                  weir_state_db_estimate(env->state_db, "rocksdb.estimate-num-keys"));
  family(o, "weir_state_live_data_bytes", "gauge", "RocksDB's estimate of its live data size.");
  weir_out_printf(o, "weir_state_live_data_bytes %lld\n",
                  weir_state_db_estimate(env->state_db, "rocksdb.estimate-live-data-size"));
}

typedef long long (*slot_value_fn)(weir_own_slot_t *s);
static long long v_state(weir_own_slot_t *s) {
  return atomic_load(&s->state);
}
static long long v_time(weir_own_slot_t *s) {
  return atomic_load(&s->stream_time);
}
static long long v_lag(weir_own_slot_t *s) {
  return atomic_load(&s->lag);
}
static long long v_buffered(weir_own_slot_t *s) {
  return atomic_load(&s->buffered);
}
static long long v_rdone(weir_own_slot_t *s) {
  return atomic_load(&s->restore_done);
}
static long long v_rtotal(weir_own_slot_t *s) {
  return atomic_load(&s->restore_total);
}

/* One gauge per task this process has; a value below `min` is left out
 * (not known yet). */
static void task_gauge(const weir_http_env_t *env, weir_out_t *o, const char *name,
                       const char *help, slot_value_fn fn, long long min) {
  const weir_ownership_t *w = env->owners;
  family(o, name, "gauge", help);
  for (int sub = 0; sub < w->subtopologies; sub++)
    for (int32_t p = 0; p < w->partitions[sub]; p++) {
      weir_own_slot_t *s = &w->slots[sub][p];
      long long v = fn(s);
      if (atomic_load(&s->state) == WEIR_OWN_NONE || v < min)
        continue;
      weir_out_printf(o, "%s{task=\"%d_%d\"} %lld\n", name, sub, (int)p, v);
    }
}

static void task_gauges(const weir_http_env_t *env, weir_out_t *o) {
  task_gauge(env, o, "weir_task_state", "1 restoring, 2 running (tasks of this instance).", v_state,
             0);
  task_gauge(env, o, "weir_task_stream_time_ms", "Largest record timestamp seen by the task.",
             v_time, 0);
  task_gauge(env, o, "weir_task_consumer_lag", "Records behind the high watermark.", v_lag, 0);
  task_gauge(env, o, "weir_task_records_buffered", "Records queued, not processed yet.", v_buffered,
             0);
  task_gauge(env, o, "weir_task_restore_records_done", "Changelog records restored so far.",
             v_rdone, 1);
  task_gauge(env, o, "weir_task_restore_records_total", "Changelog records to restore.", v_rtotal,
             1);
}

static void operator_counters(const weir_http_env_t *env, weir_out_t *o) {
  weir_own_metric_t *m;
  size_t n;
  if (weir_ownership_metrics(env->owners, &m, &n)) {
    o->failed = 1;
    return;
  }
  family(o, "weir_operator_metric_total", "counter",
         "Operators' own counters (weir_metric_add), summed over tasks.");
  for (size_t i = 0; i < n; i++) {
    const weir_node_t *node =
        m[i].node < (int)env->topo->node_count ? env->topo->nodes[m[i].node] : NULL;
    weir_out_str(o, "weir_operator_metric_total{operator=\"");
    label(o, node ? node->name : "?");
    weir_out_str(o, "\",name=\"");
    label(o, m[i].name);
    weir_out_printf(o, "\"} %lld\n", (long long)m[i].value);
  }
  weir_ownership_metrics_free(m, n);
}

void weir_metrics_handle(const weir_http_env_t *env, weir_http_resp_t *r) {
  weir_out_t *o = &r->body;
  r->content_type = "text/plain; version=0.0.4; charset=utf-8";
  family(o, "weir_records_processed_total", "counter",
         "Input records processed by every stream thread.");
  weir_out_printf(o, "weir_records_processed_total %llu\n", env->processed(env->app));
  thread_counters(env, o);
  process_counters(env, o);
  task_gauges(env, o);
  operator_counters(env, o);
}

void weir_health_handle(const weir_http_env_t *env, weir_http_resp_t *r) {
  weir_out_str(&r->body, "{\"status\":\"up\"}\n");
}

void weir_ready_handle(const weir_http_env_t *env, weir_http_resp_t *r) {
  const weir_ownership_t *w = env->owners;
  int running = 0;
  for (int i = 0; i < w->thread_count; i++)
    if (!atomic_load(&w->threads[i].assigned)) {
      weir_http_error(r, 503, "stream thread %d has no assignment from the group yet", i);
      r->retry_after = 1;
      return;
    }
  for (int sub = 0; sub < w->subtopologies; sub++)
    for (int32_t p = 0; p < w->partitions[sub]; p++) {
      int state = atomic_load(&w->slots[sub][p].state);
      if (state == WEIR_OWN_RESTORING) {
        weir_http_error(r, 503, "task %d_%d is restoring its stores", sub, (int)p);
        r->retry_after = 1;
        return;
      }
      running += state == WEIR_OWN_RUNNING;
    }
  weir_out_printf(&r->body, "{\"ready\":true,\"tasks_running\":%d}\n", running);
}
