/* The test driver (sdk/include/weir/test_driver.h): one task per
 * sub-topology on the caller's thread, sinks captured instead of produced,
 * repartition records fed straight to the next sub-topology, real stores in
 * a temporary directory. */
#include <weir/test_driver.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "state/global_store.h"
#include "state/kv_store.h"
#include "state/state_db.h"
#include "task/task.h"
#include "task/timestamp.h"
#include "topology/topology.h"
#include "util/fs.h"

#define API __attribute__((visibility("default")))

typedef struct td_output {
  char *topic;
  weir_test_record_t *recs, *handed; /* collected since the last read; returned by it */
  size_t count, cap, handed_count;
} td_output_t;

typedef struct td_pending { /* a record on its way through a repartition topic */
  char *topic;
  weir_test_record_t rec;
} td_pending_t;

struct weir_test_driver {
  weir_topology_t *topo;
  char dir[64];
  weir_state_db_t *db;
  weir_cache_budget_t budget;
  atomic_int stopping;
  weir_task_env_t env;
  const char **topics;
  size_t topic_count;
  int64_t *next_offset;  /* per source topic */
  int64_t global_offset; /* the next offset of a record piped into a global table's topic */
  weir_task_t **tasks;   /* per sub-topology */
  td_output_t *outputs;
  size_t output_count;
  td_pending_t *pending;
  size_t pending_head, pending_count, pending_cap;
  int64_t wall, last_commit;
  void *value_copy;
  char error[1024];
};

static void set_error(weir_test_driver_t *td, const char *msg) {
  snprintf(td->error, sizeof td->error, "%s", msg);
}

static char *dup_bytes(const void *p, size_t n) {
  if (!p)
    return NULL;
  char *s = malloc(n + 1);
  if (s) {
    memcpy(s, p, n);
    s[n] = '\0';
  }
  return s;
}

static void record_free(weir_test_record_t *r) {
  free((char *)r->key);
  free((char *)r->value);
  for (size_t i = 0; i < r->header_count; i++) {
    free((char *)r->headers[i].name);
    free((void *)r->headers[i].value);
  }
  free((weir_header_t *)r->headers);
}

static int record_copy(weir_test_record_t *out, const weir_record_t *rec) {
  memset(out, 0, sizeof *out);
  out->key = dup_bytes(rec->key, rec->key_len);
  out->key_len = rec->key ? rec->key_len : 0;
  out->value = dup_bytes(rec->value, rec->value_len);
  out->value_len = rec->value ? rec->value_len : 0;
  out->timestamp = rec->timestamp;
  weir_header_t *h = rec->header_count ? calloc(rec->header_count, sizeof *h) : NULL;
  for (size_t i = 0; h && i < rec->header_count; i++) {
    h[i].name = dup_bytes(rec->headers[i].name, strlen(rec->headers[i].name));
    h[i].value = dup_bytes(rec->headers[i].value, rec->headers[i].value_len);
    h[i].value_len = rec->headers[i].value_len;
  }
  out->headers = h;
  out->header_count = h ? rec->header_count : 0;
  return (rec->key && !out->key) || (rec->value && !out->value) || (rec->header_count && !h) ? -1
                                                                                             : 0;
}

static td_output_t *output_for(weir_test_driver_t *td, const char *topic, int create) {
  for (size_t i = 0; i < td->output_count; i++)
    if (strcmp(td->outputs[i].topic, topic) == 0)
      return &td->outputs[i];
  if (!create)
    return NULL;
  td_output_t *grown = realloc(td->outputs, (td->output_count + 1) * sizeof *grown);
  if (!grown)
    return NULL;
  td->outputs = grown;
  td_output_t *o = &grown[td->output_count];
  memset(o, 0, sizeof *o);
  if (!(o->topic = strdup(topic)))
    return NULL;
  td->output_count++;
  return o;
}

static int push_pending(weir_test_driver_t *td, const char *topic, const weir_record_t *rec) {
  if (td->pending_head + td->pending_count == td->pending_cap) {
    size_t cap = td->pending_cap ? td->pending_cap * 2 : 64;
    td_pending_t *grown = realloc(td->pending, cap * sizeof *grown);
    if (!grown)
      return WEIR_ENOMEM;
    td->pending = grown;
    td->pending_cap = cap;
  }
  td_pending_t *p = &td->pending[td->pending_head + td->pending_count];
  p->topic = strdup(topic);
  if (!p->topic || record_copy(&p->rec, rec)) {
    free(p->topic);
    return WEIR_ENOMEM;
  }
  td->pending_count++;
  return WEIR_OK;
}

/* The sinks' path: a repartition waits for its turn, a user topic is kept. */
static int capture(weir_test_driver_t *td, const char *topic, int internal,
                   const weir_record_t *rec) {
  if (internal)
    return push_pending(td, topic, rec);
  td_output_t *o = output_for(td, topic, 1);
  if (!o)
    return WEIR_ENOMEM;
  if (o->count == o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 16;
    weir_test_record_t *grown = realloc(o->recs, cap * sizeof *grown);
    if (!grown)
      return WEIR_ENOMEM;
    o->recs = grown;
    o->cap = cap;
  }
  if (record_copy(&o->recs[o->count], rec))
    return WEIR_ENOMEM;
  o->count++;
  return WEIR_OK;
}

/* As the producer's sink: timestamp 0 is the input's (a punctuation's time). */
static int capture_record(void *opaque, weir_node_inst_t *sink, const weir_record_t *rec) {
  weir_record_t stamped;
  if (rec->timestamp == 0) {
    stamped = *rec;
    stamped.timestamp = sink->task->input_timestamp;
    rec = &stamped;
  }
  return capture(opaque, sink->node->topic, sink->node->internal, rec);
}

/* Dead letters: the input's headers plus the reason's. */
static int capture_dead_letter(void *opaque, weir_task_t *task, const weir_input_t *in,
                               weir_record_t *rec, const char *const reason[4][2]) {
  weir_test_driver_t *td = opaque;
  const char *topic = task->env->topo->settings.dead_letter_topic;
  weir_header_t h[64];
  size_t n = 0;
  if (!topic)
    return -1;
  for (size_t i = 0; i < in->header_count && n < 60; i++)
    h[n++] = in->headers[i];
  for (size_t i = 0; i < 4; i++)
    h[n++] = (weir_header_t){reason[i][0], reason[i][1], strlen(reason[i][1])};
  rec->headers = h;
  rec->header_count = n;
  return capture(td, topic, 0, rec) == WEIR_OK ? 0 : -1;
}

/* The sinks' table: records stay in the driver instead of reaching Kafka. */
static const weir_sink_ops_t capture_sinks = {capture_record, capture_dead_letter};

static int topic_index(const weir_test_driver_t *td, const char *topic) {
  for (size_t i = 0; i < td->topic_count; i++)
    if (strcmp(td->topics[i], topic) == 0)
      return (int)i;
  return -1;
}

/* A record of a global table's topic: into the table at once, as the
 * global thread would (the table is read from RocksDB by every task). 1
 * when `topic` is no global table's. */
static int pipe_global(weir_test_driver_t *td, const char *topic, const weir_test_record_t *r) {
  const weir_topology_t *t = td->topo;
  char why[512];
  int found = 0;
  weir_state_batch_t *b = weir_state_batch_new();
  if (!b)
    return WEIR_ENOMEM;
  for (size_t i = 0; i < t->store_count; i++)
    if (t->stores[i].global_topic && strcmp(t->stores[i].global_topic, topic) == 0) {
      weir_global_store_add(b, t->stores[i].name, r->key, r->key_len, r->value, r->value_len);
      weir_global_store_checkpoint(b, t->stores[i].name, 0, td->global_offset + 1);
      found = 1;
    }
  int rc = !found ? 1 : weir_state_batch_write(td->db, b, why, sizeof why) ? WEIR_EFAIL : WEIR_OK;
  if (rc == WEIR_EFAIL)
    set_error(td, why);
  if (found)
    td->global_offset++;
  weir_state_batch_free(b);
  return rc;
}

static int process(weir_test_driver_t *td, const char *topic, const weir_test_record_t *r) {
  int idx = topic_index(td, topic);
  int global = idx < 0 ? pipe_global(td, topic, r) : 1;
  if (global != 1)
    return global;
  if (idx < 0) {
    snprintf(td->error, sizeof td->error, "no source reads topic '%s'", topic);
    return WEIR_ENOENT;
  }
  weir_task_t *task = td->tasks[td->env.topic_subtopology[idx]];
  weir_input_t in = {NULL,           topic,      0,        td->next_offset[idx]++, r->timestamp,
                     r->key,         r->key_len, r->value, r->value_len,           r->headers,
                     r->header_count};
  if (task->insts[td->env.topic_sources[idx][0]].node->ts_mode != WEIR_TS_RECORD)
    in.timestamp = weir_task_extract_timestamp(task, (size_t)idx, &in, NULL, 0);
  if (weir_task_process_input(task, (size_t)idx, &in)) {
    set_error(td, task->error);
    return WEIR_EFAIL;
  }
  return WEIR_OK;
}

/* Records written to repartition topics go on to the sub-topology reading them. */
static int drain_pending(weir_test_driver_t *td) {
  int rc = WEIR_OK;
  while (td->pending_count) {
    td_pending_t p = td->pending[td->pending_head++];
    td->pending_count--;
    if (rc == WEIR_OK)
      rc = process(td, p.topic, &p.rec);
    free(p.topic);
    record_free(&p.rec);
  }
  td->pending_head = 0;
  return rc;
}

API int weir_test_driver_pipe_headers(weir_test_driver_t *td, const char *topic, const void *key,
                                      size_t key_len, const void *value, size_t value_len,
                                      int64_t timestamp, const weir_header_t *headers,
                                      size_t header_count) {
  weir_test_record_t r = {
      key,     key ? key_len : 0,         value, value ? value_len : 0, timestamp,
      headers, headers ? header_count : 0};
  td->error[0] = '\0';
  int rc = process(td, topic, &r);
  int drained = drain_pending(td);
  return rc != WEIR_OK ? rc : drained;
}

API int weir_test_driver_pipe(weir_test_driver_t *td, const char *topic, const void *key,
                              size_t key_len, const void *value, size_t value_len,
                              int64_t timestamp) {
  return weir_test_driver_pipe_headers(td, topic, key, key_len, value, value_len, timestamp, NULL,
                                       0);
}

API size_t weir_test_driver_read(weir_test_driver_t *td, const char *topic,
                                 const weir_test_record_t **records) {
  td_output_t *o = output_for(td, topic, 1);
  *records = NULL;
  if (!o)
    return 0;
  for (size_t i = 0; i < o->handed_count; i++)
    record_free(&o->handed[i]);
  free(o->handed);
  o->handed = o->recs;
  o->handed_count = o->count;
  o->recs = NULL;
  o->count = o->cap = 0;
  *records = o->handed;
  return o->handed_count;
}

/* One round: every task's flush() and stores, then what that sent through
 * repartitions. Returns how many records the round sent onwards. */
static int commit_round(weir_test_driver_t *td, size_t *moved) {
  *moved = 0;
  for (int s = 0; s < td->topo->subtopology_count; s++) {
    weir_task_t *task = td->tasks[s];
    if (weir_task_flush_operators(task) || weir_task_flush_stores(task) ||
        weir_task_apply_stores(task) < 0) {
      set_error(td, task->error);
      return WEIR_EFAIL;
    }
    *moved += td->pending_count;
    int rc = drain_pending(td);
    if (rc != WEIR_OK)
      return rc;
  }
  return WEIR_OK;
}

/* Flushed outputs may update stores downstream, whose flush emits in turn:
 * repeat until a round moves nothing (bounded by the sub-topology count). */
API int weir_test_driver_commit(weir_test_driver_t *td) {
  td->error[0] = '\0';
  for (int round = 0; round <= td->topo->subtopology_count; round++) {
    size_t moved = 0;
    int rc = commit_round(td, &moved);
    if (rc != WEIR_OK || !moved)
      return rc;
  }
  return WEIR_OK;
}

/* Punctuations of every task (stream time or wall clock), then what they
 * sent through repartitions. */
static int punctuate_all(weir_test_driver_t *td, int (*fire)(weir_task_t *)) {
  int rc = WEIR_OK;
  for (int s = 0; rc == WEIR_OK && s < td->topo->subtopology_count; s++) {
    if (fire(td->tasks[s])) {
      set_error(td, td->tasks[s]->error);
      rc = WEIR_EFAIL;
    }
    int drained = drain_pending(td);
    if (rc == WEIR_OK)
      rc = drained;
  }
  return rc;
}

API int weir_test_driver_advance_wall_clock(weir_test_driver_t *td, int64_t ms) {
  int64_t interval = td->topo->settings.commit_interval_ms;
  if (ms < 0)
    return WEIR_EINVAL;
  td->error[0] = '\0';
  td->wall += ms;
  /* As Kafka Streams' driver: the wall-clock punctuators, then the commit. */
  int rc = punctuate_all(td, weir_task_wall_timers);
  if (rc != WEIR_OK)
    return rc;
  if (td->wall - td->last_commit < interval)
    return WEIR_OK;
  td->last_commit = td->wall;
  return weir_test_driver_commit(td);
}

API int64_t weir_test_driver_wall_clock(const weir_test_driver_t *td) {
  return td->wall;
}

API void weir_test_driver_advance_stream_time(weir_test_driver_t *td, int64_t ms) {
  td->error[0] = '\0';
  for (int s = 0; ms > 0 && s < td->topo->subtopology_count; s++)
    td->tasks[s]->stream_time =
        (td->tasks[s]->stream_time < 0 ? 0 : td->tasks[s]->stream_time) + ms;
  if (ms > 0)
    punctuate_all(td, weir_task_stream_timers); /* a failure is in weir_test_driver_error() */
}

/* A global table's row, as every task reads it. */
static int global_get(weir_test_driver_t *td, const weir_store_decl_t *d, const void *key,
                      size_t key_len, const void **value, size_t *value_len) {
  char why[512];
  void *copy = NULL;
  size_t len = 0;
  int rc = weir_global_store_get(td->db, d->name, key, key_len, &copy, &len, why, sizeof why);
  if (rc < 0) {
    set_error(td, why);
    return WEIR_EFAIL;
  }
  if (rc == 0)
    return WEIR_ENOENT;
  free(td->value_copy);
  td->value_copy = copy;
  *value = copy;
  *value_len = len;
  return WEIR_OK;
}

API int weir_test_driver_store_get(weir_test_driver_t *td, const char *store, const void *key,
                                   size_t key_len, const void **value, size_t *value_len) {
  const weir_store_decl_t *d = weir_topology_store(td->topo, store);
  if (d && d->global_topic)
    return global_get(td, d, key, key_len, value, value_len);
  weir_task_t *task = d && d->subtopology >= 0 ? td->tasks[d->subtopology] : NULL;
  for (size_t i = 0; task && i < task->store_count; i++) {
    if (task->stores[i].decl != d)
      continue;
    const void *v;
    size_t len;
    char why[512];
    int rc = weir_kv_store_get(task->stores[i].kv, key, key_len, &v, &len, why, sizeof why);
    if (rc < 0) {
      set_error(td, why);
      return WEIR_EFAIL;
    }
    if (rc == 0)
      return WEIR_ENOENT;
    free(td->value_copy);
    td->value_copy = dup_bytes(v, len);
    *value = td->value_copy;
    *value_len = len;
    return td->value_copy ? WEIR_OK : WEIR_ENOMEM;
  }
  return WEIR_ENOENT;
}

API const char *weir_test_driver_error(const weir_test_driver_t *td) {
  return td->error;
}

static void diag_to(const weir_diag_t *d, char *errstr, size_t errstr_size) {
  size_t used = 0;
  errstr[0] = '\0';
  for (size_t i = 0; i < d->count && used < errstr_size; i++)
    used += (size_t)snprintf(errstr + used, errstr_size - used, "%s%s", i ? "\n" : "", d->lines[i]);
}

static weir_topology_t *build(const char *ini, const char *plugin_dir, char *errstr,
                              size_t errstr_size) {
  char set[4200];
  weir_diag_t d = {0};
  weir_topology_t *t = NULL;
  weir_cfg_t *cfg = weir_cfg_load_string("test-driver.ini", ini, &d);
  if (cfg && !d.count)
    weir_cfg_override(cfg, "weir.bootstrap.servers=test-driver", &d);
  if (cfg && !d.count && plugin_dir) {
    snprintf(set, sizeof set, "weir.plugin.dir=%s", plugin_dir);
    weir_cfg_override(cfg, set, &d);
  }
  if (cfg && !d.count)
    t = weir_topology_build(cfg, NULL, &d);
  if (!t)
    diag_to(&d, errstr, errstr_size);
  weir_diag_free(&d);
  weir_cfg_free(cfg);
  return t;
}

static int open_tasks(weir_test_driver_t *td, char *errstr, size_t errstr_size) {
  uint32_t *slots = calloc(td->topic_count + 1, sizeof *slots);
  td->tasks = calloc((size_t)td->topo->subtopology_count + 1, sizeof *td->tasks);
  td->next_offset = calloc(td->topic_count + 1, sizeof *td->next_offset);
  if (!slots || !td->tasks || !td->next_offset) {
    free(slots);
    snprintf(errstr, errstr_size, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < td->topic_count; i++)
    slots[i] = (uint32_t)i;
  int rc = 0;
  for (int s = 0; rc == 0 && s < td->topo->subtopology_count; s++) {
    td->tasks[s] = weir_task_new(&td->env, s, 0, td->topic_count, slots);
    if (!td->tasks[s]) {
      snprintf(errstr, errstr_size, "out of memory");
      rc = -1;
    } else {
      rc = weir_task_open(td->tasks[s], errstr, errstr_size);
    }
  }
  free(slots);
  return rc;
}

static int open_state(weir_test_driver_t *td, char *errstr, size_t errstr_size) {
  int wiped = 0;
  snprintf(td->dir, sizeof td->dir, "/tmp/weir-test-driver-XXXXXX");
  if (!mkdtemp(td->dir)) {
    snprintf(errstr, errstr_size, "cannot create a temporary directory under /tmp for the stores");
    td->dir[0] = '\0';
    return -1;
  }
  if (!td->topo->store_count)
    return 0;
  td->db = weir_state_db_open(td->dir, td->topo->settings.application_id, 16, &wiped, errstr,
                              errstr_size);
  if (td->db)
    weir_state_db_set_wal(td->db, td->topo->settings.state_wal);
  atomic_store(&td->budget.used, 0);
  td->budget.max = td->topo->settings.cache_max_bytes;
  return td->db ? 0 : -1;
}

API weir_test_driver_t *weir_test_driver_open(const char *ini, const char *plugin_dir, char *errstr,
                                              size_t errstr_size) {
  weir_test_driver_t *td = calloc(1, sizeof *td);
  if (!td) {
    snprintf(errstr, errstr_size, "out of memory");
    return NULL;
  }
  td->topo = build(ini, plugin_dir, errstr, errstr_size);
  if (!td->topo || open_state(td, errstr, errstr_size)) {
    weir_test_driver_close(td);
    return NULL;
  }
  td->topics = weir_topology_source_topics(td->topo, &td->topic_count);
  td->env = (weir_task_env_t){.topo = td->topo,
                              .stopping = &td->stopping,
                              .sinks = &capture_sinks,
                              .sinks_opaque = td,
                              .state_db = td->db,
                              .cache_budget = &td->budget,
                              .wall_clock = &td->wall};
  if (!td->topics || weir_task_env_map_topics(&td->env, td->topo, td->topics, td->topic_count) ||
      open_tasks(td, errstr, errstr_size)) {
    if (!errstr[0])
      snprintf(errstr, errstr_size, "out of memory");
    weir_test_driver_close(td);
    return NULL;
  }
  return td;
}

static void free_outputs(weir_test_driver_t *td) {
  for (size_t i = 0; i < td->output_count; i++) {
    td_output_t *o = &td->outputs[i];
    for (size_t k = 0; k < o->count; k++)
      record_free(&o->recs[k]);
    for (size_t k = 0; k < o->handed_count; k++)
      record_free(&o->handed[k]);
    free(o->recs);
    free(o->handed);
    free(o->topic);
  }
  free(td->outputs);
  for (size_t i = 0; i < td->pending_count; i++) {
    free(td->pending[td->pending_head + i].topic);
    record_free(&td->pending[td->pending_head + i].rec);
  }
  free(td->pending);
}

API void weir_test_driver_close(weir_test_driver_t *td) {
  if (!td)
    return;
  for (int s = 0; td->tasks && s < td->topo->subtopology_count; s++)
    weir_task_free(td->tasks[s]);
  free(td->tasks);
  weir_task_env_unmap_topics(&td->env, td->topic_count);
  free(td->topics);
  free(td->next_offset);
  free_outputs(td);
  free(td->value_copy);
  weir_state_db_close(td->db);
  if (td->dir[0])
    weir_rm_rf(td->dir);
  weir_topology_free(td->topo);
  free(td);
}
