#include "http/metrics.h"

#include <stddef.h>
#include <stdlib.h>
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

/* A counter of every stream thread: the weir_own_thread_t field at `field`. */
static void thread_counter(weir_out_t *o, const weir_ownership_t *w, const char *name,
                           const char *help, size_t field) {
  family(o, name, "counter", help);
  for (int i = 0; i < w->thread_count; i++) {
    const atomic_ullong *v = (const atomic_ullong *)((const char *)&w->threads[i] + field);
    weir_out_printf(o, "%s{thread=\"%d\"} %llu\n", name, i, (unsigned long long)atomic_load(v));
  }
}

static void thread_counters(const weir_http_env_t *env, weir_out_t *o) {
  const weir_ownership_t *w = env->owners;
  thread_counter(o, w, "weir_rebalances_total", "Partition assignments and revocations served.",
                 offsetof(weir_own_thread_t, rebalances));
  thread_counter(
      o, w, "weir_commits_total",
      "Offset commits that succeeded (exactly_once: transactions that committed input offsets).",
      offsetof(weir_own_thread_t, commits));
  thread_counter(o, w, "weir_consumer_fetch_wakes_total",
                 "Fetchers woken once the consumer's queue had room again (librdkafka < 2.2 "
                 "waits up to 1 s).",
                 offsetof(weir_own_thread_t, fetch_wakes));
  thread_counter(o, w, "weir_records_resent_total",
                 "Records sent again: librdkafka reported them delivered without an offset (a "
                 "failed request's batch acknowledged by a later one; at_least_once).",
                 offsetof(weir_own_thread_t, resent));
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
  weir_state_memory_t mem;
  weir_state_db_memory(env->state_db, &mem);
  family(o, "weir_state_memory_bytes", "gauge",
         "What RocksDB holds in memory, inside state.memory.mb: block cache (with filters and "
         "indexes), its pinned part, and memtables.");
  weir_out_printf(o,
                  "weir_state_memory_bytes{part=\"block_cache\"} %zu\n"
                  "weir_state_memory_bytes{part=\"block_cache_pinned\"} %zu\n"
                  "weir_state_memory_bytes{part=\"memtables\"} %zu\n",
                  mem.block_cache, mem.block_cache_pinned, mem.memtables);
  family(o, "weir_store_file_bytes", "gauge",
         "RocksDB's estimate of each store's bytes in its files (not yet the memtable's).");
  for (size_t i = 0; i < env->topo->store_count; i++) {
    long long bytes = weir_state_db_store_bytes(env->state_db, env->topo->stores[i].name);
    if (bytes < 0)
      continue;
    weir_out_str(o, "weir_store_file_bytes{store=\"");
    label(o, env->topo->stores[i].name);
    weir_out_printf(o, "\"} %lld\n", bytes);
  }
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
static long long v_enforced(weir_own_slot_t *s) {
  return atomic_load(&s->enforced);
}

/* One value per task this process has; a value below `min` is left out
 * (not known yet). */
static void task_family(const weir_http_env_t *env, weir_out_t *o, const char *name,
                        const char *type, const char *help, slot_value_fn fn, long long min) {
  const weir_ownership_t *w = env->owners;
  family(o, name, type, help);
  for (int sub = 0; sub < w->subtopologies; sub++)
    for (int32_t p = 0; p < w->partitions[sub]; p++) {
      weir_own_slot_t *s = &w->slots[sub][p];
      long long v = fn(s);
      if (atomic_load(&s->state) == WEIR_OWN_NONE || v < min)
        continue;
      weir_out_printf(o, "%s{task=\"%d_%d\"} %lld\n", name, sub, (int)p, v);
    }
}

static void task_gauge(const weir_http_env_t *env, weir_out_t *o, const char *name,
                       const char *help, slot_value_fn fn, long long min) {
  task_family(env, o, name, "gauge", help, fn, min);
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
  task_family(env, o, "weir_task_enforced_processing_total", "counter",
              "Times the task went on without an input partition that had nothing buffered, "
              "once max.task.idle.ms had passed.",
              v_enforced, 0);
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
  /* The convention of weir.h: an operator counts each late record it drops
   * as "dropped.late" (the std window and join operators do). */
  long long late = 0;
  for (size_t i = 0; i < n; i++)
    late += strcmp(m[i].name, "dropped.late") == 0 ? m[i].value : 0;
  family(o, "weir_records_late_dropped_total", "counter",
         "Records dropped for arriving past their window's grace (operators' dropped.late).");
  weir_out_printf(o, "weir_records_late_dropped_total %lld\n", late);
  weir_ownership_metrics_free(m, n);
}

/* One counter per node of `kind`: field(stats) labelled with its name. */
static void node_counter(const weir_http_env_t *env, weir_out_t *o, const weir_node_stats_t *st,
                         weir_node_kind_t kind, const char *name, const char *labelname,
                         const char *help, size_t field) {
  family(o, name, "counter", help);
  for (size_t n = 0; n < env->topo->node_count; n++) {
    const weir_node_t *node = env->topo->nodes[n];
    if (node->kind != kind)
      continue;
    uint64_t v;
    memcpy(&v, (const char *)&st[n] + field, sizeof v);
    weir_out_printf(o, "%s{%s=\"", name, labelname);
    label(o, node->name);
    weir_out_printf(o, "\"} %llu\n", (unsigned long long)v);
  }
}

/* The sampled processing time of each operator, as a Prometheus histogram
 * (cumulative buckets, in seconds). */
static void process_histogram(const weir_http_env_t *env, weir_out_t *o,
                              const weir_node_stats_t *st) {
  const char *name = "weir_operator_process_seconds";
  family(o, name, "histogram", "Time in process() (its children included), one call in 64 timed.");
  for (size_t n = 0; n < env->topo->node_count; n++) {
    const weir_node_t *node = env->topo->nodes[n];
    if (node->kind != WEIR_NODE_OPERATOR)
      continue;
    uint64_t cumulative = 0;
    for (int b = 0; b < WEIR_STATS_BUCKETS; b++) {
      cumulative += st[n].bucket[b];
      weir_out_printf(o, "%s_bucket{operator=\"", name);
      label(o, node->name);
      if (b == WEIR_STATS_BUCKETS - 1)
        weir_out_printf(o, "\",le=\"+Inf\"} %llu\n", (unsigned long long)cumulative);
      else
        weir_out_printf(o, "\",le=\"%g\"} %llu\n", weir_stats_bucket_bound(b),
                        (unsigned long long)cumulative);
    }
    weir_out_printf(o, "%s_sum{operator=\"", name);
    label(o, node->name);
    weir_out_printf(o, "\"} %.9f\n", (double)st[n].time_ns / 1e9);
    weir_out_printf(o, "%s_count{operator=\"", name);
    label(o, node->name);
    weir_out_printf(o, "\"} %llu\n", (unsigned long long)st[n].timed);
  }
}

static void policy_counter(weir_out_t *o, const char *name, const char *help, uint64_t v) {
  family(o, name, "counter", help);
  weir_out_printf(o, "%s %llu\n", name, (unsigned long long)v);
}

/* What the host counts of every node and record policy (task/node_stats.h). */
static void node_counters(const weir_http_env_t *env, weir_out_t *o) {
  weir_node_stats_t *st;
  weir_policy_stats_t p;
  if (weir_ownership_stats(env->owners, env->topo->node_count, &st, &p)) {
    o->failed = 1;
    return;
  }
  node_counter(env, o, st, WEIR_NODE_SOURCE, "weir_source_records_total", "source",
               "Records read by each source.", offsetof(weir_node_stats_t, in));
  node_counter(env, o, st, WEIR_NODE_OPERATOR, "weir_operator_records_in_total", "operator",
               "Records handed to each operator's process().", offsetof(weir_node_stats_t, in));
  node_counter(env, o, st, WEIR_NODE_OPERATOR, "weir_operator_records_out_total", "operator",
               "Records each operator forwarded (a record forwarded to two children counts once).",
               offsetof(weir_node_stats_t, out));
  node_counter(env, o, st, WEIR_NODE_OPERATOR, "weir_operator_errors_total", "operator",
               "Calls of process() that returned an error.", offsetof(weir_node_stats_t, errors));
  node_counter(env, o, st, WEIR_NODE_SINK, "weir_sink_records_total", "sink",
               "Records handed to the producer by each sink.", offsetof(weir_node_stats_t, in));
  process_histogram(env, o, st);
  policy_counter(o, "weir_records_deserialization_errors_total",
                 "Inputs whose key, value or timestamp could not be read.",
                 p.deserialization_errors);
  policy_counter(o, "weir_records_processing_errors_total",
                 "Inputs an operator failed on (processing.error.policy applied).",
                 p.processing_errors);
  policy_counter(o, "weir_records_skipped_total", "Inputs a skip policy dropped.", p.skipped);
  policy_counter(o, "weir_records_dead_lettered_total", "Inputs sent to the dead-letter topic.",
                 p.dead_lettered);
  free(st);
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
  node_counters(env, o);
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
