/* Sinks: hand a record's bytes to the producer (which copies them), tracked
 * against the input record being processed so its offset is committed only
 * once the broker has acknowledged every output. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <weir/json.h>

#include "task/task.h"
#include "util/log.h"

#define SEQ_BITS 40
#define SEQ_MASK ((UINT64_C(1) << SEQ_BITS) - 1)

void *weir_sink_opaque(uint32_t slot, uint64_t seq) {
  return (void *)(uintptr_t)(((uint64_t)slot << SEQ_BITS) | (seq & SEQ_MASK));
}

void weir_sink_opaque_decode(void *opaque, uint32_t *slot, uint64_t *seq40) {
  uint64_t v = (uint64_t)(uintptr_t)opaque;
  *slot = (uint32_t)(v >> SEQ_BITS);
  *seq40 = v & SEQ_MASK;
}

uint64_t weir_sink_seq_expand(const weir_offset_tracker_t *t, uint64_t seq40) {
  return t->head_seq + ((seq40 - t->head_seq) & SEQ_MASK);
}

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

/* Produce once the queue has room; a full queue waits on delivery reports. */
static rd_kafka_resp_err_t produce(weir_task_t *task, rd_kafka_topic_t *rkt,
                                   const weir_record_t *rec, rd_kafka_headers_t *hdrs) {
  rd_kafka_t *rk = task->env->producer;
  int64_t ts = rec->timestamp ? rec->timestamp : task->input_timestamp;
  /* An operator's flush() output belongs to no input: the commit waits for
   * every acknowledgement instead. */
  void *opaque = task->cur_tracker ? weir_sink_opaque(task->cur_slot, task->cur_seq)
                                   : (void *)(uintptr_t)WEIR_OPAQUE_UNTRACKED;
  for (;;) {
    rd_kafka_resp_err_t err =
        rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_KEY((void *)rec->key, rec->key ? rec->key_len : 0),
                          RD_KAFKA_V_VALUE((void *)rec->value, rec->value ? rec->value_len : 0),
                          RD_KAFKA_V_TIMESTAMP(ts > 0 ? ts : 0), RD_KAFKA_V_HEADERS(hdrs),
                          RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || atomic_load(task->env->stopping))
      return err;
    rd_kafka_poll(rk, 10);
  }
}

/* Produce `rec` with `hdrs` (taken over) and count it against the input. */
static int produce_tracked(weir_task_t *task, rd_kafka_topic_t *rkt, const weir_record_t *rec,
                           rd_kafka_headers_t *hdrs, const char *what) {
  rd_kafka_resp_err_t err = produce(task, rkt, rec, hdrs);
  if (err) {
    if (hdrs)
      rd_kafka_headers_destroy(hdrs); /* not taken over on failure */
    weir_task_set_error(task, "%s: cannot produce to topic '%s': %s", what,
                        rd_kafka_topic_name(rkt), rd_kafka_err2str(err));
    return WEIR_EFAIL;
  }
  if (task->cur_tracker)
    weir_offset_tracker_add(task->cur_tracker, task->cur_seq);
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
  out->key = v.text;
  out->key_len = v.len;
  return 0;
}

int weir_sink_produce(weir_node_inst_t *sink, const weir_record_t *rec) {
  const weir_node_t *node = sink->node;
  char why[256];
  weir_record_t regrouped;
  if (node->regroup != WEIR_REGROUP_NONE) {
    regrouped = *rec;
    int rc = regroup_key(sink, rec, &regrouped);
    if (rc)
      return rc < 0 ? WEIR_EINVAL : WEIR_OK;
    rec = &regrouped;
  }
  if (sink->task->env->capture)
    return sink->task->env->capture(sink->task->env->capture_opaque, node->topic, node->internal,
                                    rec);
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

/* The test driver's dead letters: the input's headers plus the reason's. */
static int capture_dead_letter(weir_task_t *task, const weir_input_t *in, weir_record_t *rec,
                               const char *const extra[4][2]) {
  weir_header_t h[64];
  size_t n = 0;
  for (size_t i = 0; i < in->header_count && n < 60; i++)
    h[n++] = in->headers[i];
  for (size_t i = 0; i < 4; i++)
    h[n++] = (weir_header_t){extra[i][0], extra[i][1], strlen(extra[i][1])};
  rec->headers = h;
  rec->header_count = n;
  const weir_task_env_t *env = task->env;
  int rc = env->capture(env->capture_opaque, env->topo->settings.dead_letter_topic, 0, rec);
  return rc == WEIR_OK ? 0 : -1;
}

int weir_task_dead_letter(weir_task_t *task, const weir_input_t *in, const char *reason) {
  char partition[16], offset[24];
  const weir_origin_t *o = &task->origin;
  weir_record_t rec = WEIR_RECORD_INIT;
  rd_kafka_headers_t *orig = NULL, *hdrs;
  if (!task->env->dead_letter && !(task->env->capture && task->env->topo->settings.dead_letter_topic))
    return -1;
  snprintf(partition, sizeof partition, "%d", (int)o->partition);
  snprintf(offset, sizeof offset, "%" PRId64, o->offset);
  rec.key = in->key;
  rec.key_len = in->key_len;
  rec.value = in->value;
  rec.value_len = in->value_len;
  rec.timestamp = task->input_timestamp;
  if (task->env->capture) {
    const char *const extra[4][2] = {{"weir.error.reason", reason},
                                     {"weir.source.topic", o->topic},
                                     {"weir.source.partition", partition},
                                     {"weir.source.offset", offset}};
    return capture_dead_letter(task, in, &rec, extra);
  }
  /* The record goes out unchanged, its own headers kept, the reason added. */
  if (in->msg && rd_kafka_message_headers(in->msg, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR && orig)
    hdrs = rd_kafka_headers_copy(orig);
  else
    hdrs = rd_kafka_headers_new(4);
  rd_kafka_header_add(hdrs, "weir.error.reason", -1, reason, -1);
  rd_kafka_header_add(hdrs, "weir.source.topic", -1, o->topic, -1);
  rd_kafka_header_add(hdrs, "weir.source.partition", -1, partition, -1);
  rd_kafka_header_add(hdrs, "weir.source.offset", -1, offset, -1);
  return produce_tracked(task, task->env->dead_letter, &rec, hdrs, "dead-letter") == WEIR_OK ? 0
                                                                                             : -1;
}
