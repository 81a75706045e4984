/* Sinks: hand a record's bytes to the producer (which copies them), tracked
 * against the input record being processed so its offset is committed only
 * once the broker has acknowledged every output. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <weir/json.h>

#include "serde/json_key.h"
#include "task/delivery.h"
#include "task/task.h"
#include "util/clock.h"
#include "util/log.h"

/* Build librdkafka headers only when there are any: the common case costs nothing. */
static rd_kafka_headers_t *make_headers(const weir_header_t *h, size_t n) {
  if (!n)
    return NULL;
  rd_kafka_headers_t *hdrs = rd_kafka_headers_new(n);
  for (size_t i = 0; i < n; i++)
    if (h[i].name)
      rd_kafka_header_add(hdrs, h[i].name, -1, h[i].value, (ssize_t)h[i].value_len);
  return hdrs;
}

int64_t weir_produce_wait_bound_ms(const weir_topology_t *topo) {
  int64_t interval = 300000; /* librdkafka's default max.poll.interval.ms */
  const weir_kafka_settings_t *ks = &topo->kafka_settings;
  for (size_t i = 0; i < ks->prop_count; i++)
    if (strcmp(ks->props[i].key, "max.poll.interval.ms") == 0)
      interval = strtoll(ks->props[i].value, NULL, 10); /* the last one wins, as in librdkafka */
  return interval > 1 ? interval / 2 : 1;
}

int weir_task_wait_room(weir_task_t *task, const char *topic, weir_room_wait_t *w) {
  int64_t now = weir_now_ms(), bound = weir_produce_wait_bound_ms(task->env->topo);
  if (atomic_load(task->env->stopping)) {
    task->produce_failed = WEIR_PRODUCE_STOPPED;
    return -1;
  }
  /* One input's produces share one deadline: the bound is per record. */
  int64_t *shared = task->in_process && task->cur_tracker ? &task->wait_deadline : NULL;
  if (!w->deadline)
    w->deadline = shared && *shared ? *shared : now + bound;
  if (shared)
    *shared = w->deadline;
  task->waited = 1;
  if (now >= w->deadline) {
    task->produce_failed = WEIR_PRODUCE_TIMED_OUT;
    snprintf(task->produce_error, sizeof task->produce_error,
             "the producer queue stayed full for %lld ms (half of max.poll.interval.ms) while "
             "producing to topic '%s': the broker does not take records (a partition without "
             "a leader?); fix the broker, or raise queue.buffering.max.messages or "
             "max.poll.interval.ms in [kafka]",
             (long long)bound, topic);
    return -1;
  }
  /* Not at once: a busy broker fills the queue for moments all the time.
   * Then every 10 s, so a long wait stays visible (and a test that froze
   * the broker sees a wait that began before the freeze go on). */
  int64_t waited = now - (w->deadline - bound);
  if (waited >= 1000 && (!w->warned_ms || now - w->warned_ms >= 10000)) {
    w->warned_ms = now;
    WEIR_WARN("task %s: the producer queue has been full for %lld s producing to topic '%s'; "
              "waiting up to %lld ms in all for the broker to take records, then stopping",
              task->id, (long long)(waited / 1000), topic, (long long)bound);
  }
  rd_kafka_poll(task->env->producer, 10); /* delivery reports free room */
  return 0;
}

/* Produce once the queue has room; a full queue waits on delivery reports,
 * up to the bound (the consumer is not polled meanwhile). */
static rd_kafka_resp_err_t produce(weir_task_t *task, rd_kafka_topic_t *rkt,
                                   const weir_record_t *rec, rd_kafka_headers_t *hdrs) {
  rd_kafka_t *rk = task->env->producer;
  int64_t ts = rec->timestamp ? rec->timestamp : task->input_timestamp;
  weir_room_wait_t wait = {0, 0};
  /* An operator's flush() output belongs to no input: the commit waits for
   * every acknowledgement instead. */
  void *opaque = task->cur_tracker ? weir_delivery_tracked(task->cur_slot, task->cur_seq)
                                   : weir_delivery_untracked();
  for (;;) {
    rd_kafka_resp_err_t err =
        rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_KEY((void *)rec->key, rec->key ? rec->key_len : 0),
                          RD_KAFKA_V_VALUE((void *)rec->value, rec->value ? rec->value_len : 0),
                          RD_KAFKA_V_TIMESTAMP(ts > 0 ? ts : 0), RD_KAFKA_V_HEADERS(hdrs),
                          RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
      return err;
    if (weir_task_wait_room(task, rd_kafka_topic_name(rkt), &wait))
      return err;
  }
}

/* Produce `rec` with `hdrs` (taken over) and count it against the input. A
 * failure is the producer's, never the record's: task->produce_failed makes
 * the input hold its commit position whatever the error policy. */
static int produce_tracked(weir_task_t *task, rd_kafka_topic_t *rkt, const weir_record_t *rec,
                           rd_kafka_headers_t *hdrs, const char *what) {
  rd_kafka_resp_err_t err =
      task->produce_failed ? RD_KAFKA_RESP_ERR__FAIL : produce(task, rkt, rec, hdrs);
  if (err) {
    task->produce_err = err;
    if (hdrs)
      rd_kafka_headers_destroy(hdrs); /* not taken over on failure */
    if (!task->produce_failed) {
      task->produce_failed = WEIR_PRODUCE_REFUSED;
      snprintf(task->produce_error, sizeof task->produce_error,
               "%s: cannot produce to topic '%s': %s", what, rd_kafka_topic_name(rkt),
               rd_kafka_err2str(err));
    } else if (task->produce_failed == WEIR_PRODUCE_TIMED_OUT && !task->produce_named) {
      char why[sizeof task->produce_error];
      snprintf(why, sizeof why, "%s", task->produce_error);
      snprintf(task->produce_error, sizeof task->produce_error, "%s: %s", what, why);
      task->produce_named = 1;
    }
    weir_task_set_error(task, "%s: cannot produce to topic '%s': %s", what,
                        rd_kafka_topic_name(rkt), rd_kafka_err2str(err));
    return WEIR_EFAIL;
  }
  if (task->cur_tracker)
    weir_offset_tracker_add(task->cur_tracker, task->cur_seq);
  else
    task->untracked_sent++;
  return WEIR_OK;
}

/* A repartition's new key: the value, or a member of the JSON value. 0 with
 * the key set, 1 when the record has none (dropped, as Kafka Streams drops
 * null keys before an aggregation), -1 with the task's error set. */
static int regroup_key(weir_node_inst_t *sink, const weir_record_t *rec, weir_record_t *out) {
  const weir_node_t *node = sink->node;
  weir_json_value_t v;
  if (!rec->value)
    return 1;
  if (node->regroup == WEIR_REGROUP_VALUE) {
    out->key = rec->value;
    out->key_len = rec->value_len;
    return 0;
  }
  int found = weir_json_find(rec->value, rec->value_len, node->regroup_path, &v);
  if (found < 0) {
    weir_task_set_error(sink->task, "%s: group.by = json:%s: the value is not valid JSON",
                        node->name, node->regroup_path);
    return -1;
  }
  if (!found || v.kind == WEIR_JSON_NULL)
    return 1;
  weir_json_key(&v, &out->key, &out->key_len); /* "a\u0062" is "ab", 1.0 is 1 */
  return 0;
}

/* The producer's sinks: serdes checked, then a tracked produce. */
static int kafka_record(void *opaque, weir_node_inst_t *sink, const weir_record_t *rec) {
  (void)opaque;
  const weir_node_t *node = sink->node;
  char why[256];
  if (weir_serde_check(node->key_serde, rec->key, rec->key_len, why, sizeof why) ||
      weir_serde_check(node->value_serde, rec->value, rec->value_len, why, sizeof why)) {
    weir_task_set_error(sink->task, "sink '%s': record does not match its serdes (%s/%s): %s",
                        node->name, weir_serde_name(node->key_serde),
                        weir_serde_name(node->value_serde), why);
    return WEIR_EINVAL;
  }
  return produce_tracked(sink->task, sink->rkt, rec, make_headers(rec->headers, rec->header_count),
                         node->name);
}

/* The record goes out unchanged, its own headers kept, the reason added. */
static int kafka_dead_letter(void *opaque, weir_task_t *task, const weir_input_t *in,
                             weir_record_t *rec, const char *const reason[4][2]) {
  (void)opaque;
  rd_kafka_headers_t *orig = NULL, *hdrs;
  if (!task->env->dead_letter)
    return -1;
  if (in->msg && rd_kafka_message_headers(in->msg, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR && orig)
    hdrs = rd_kafka_headers_copy(orig);
  else
    hdrs = rd_kafka_headers_new(4);
  for (size_t i = 0; i < 4; i++)
    rd_kafka_header_add(hdrs, reason[i][0], -1, reason[i][1], -1);
  return produce_tracked(task, task->env->dead_letter, rec, hdrs, "dead-letter") == WEIR_OK ? 0
                                                                                            : -1;
}

const weir_sink_ops_t weir_sink_kafka = {kafka_record, kafka_dead_letter};

static const weir_sink_ops_t *sinks_of(const weir_task_env_t *env) {
  return env->sinks ? env->sinks : &weir_sink_kafka;
}

int weir_sink_produce(weir_node_inst_t *sink, const weir_record_t *rec) {
  const weir_task_env_t *env = sink->task->env;
  weir_record_t regrouped;
  if (sink->node->regroup != WEIR_REGROUP_NONE) {
    regrouped = *rec;
    int rc = regroup_key(sink, rec, &regrouped);
    if (rc)
      return rc < 0 ? WEIR_EINVAL : WEIR_OK;
    rec = &regrouped;
  }
  return sinks_of(env)->record(env->sinks_opaque, sink, rec);
}

int weir_task_dead_letter(weir_task_t *task, const weir_input_t *in, const char *reason) {
  char partition[16], offset[24];
  const weir_origin_t *o = &task->origin;
  weir_record_t rec = WEIR_RECORD_INIT;
  snprintf(partition, sizeof partition, "%d", (int)o->partition);
  snprintf(offset, sizeof offset, "%" PRId64, o->offset);
  rec.key = in->key;
  rec.key_len = in->key_len;
  rec.value = in->value;
  rec.value_len = in->value_len;
  rec.timestamp = task->input_timestamp;
  const char *const headers[4][2] = {{"weir.error.reason", reason},
                                     {"weir.source.topic", o->topic},
                                     {"weir.source.partition", partition},
                                     {"weir.source.offset", offset}};
  return sinks_of(task->env)->dead_letter(task->env->sinks_opaque, task, in, &rec, headers);
}
