/* Sinks: hand a record's bytes to the producer (which copies them), tracked
 * against the input record being processed so its offset is committed only
 * once the broker has acknowledged every output. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
  void *opaque = weir_sink_opaque(task->cur_slot, task->cur_seq);
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
  weir_offset_tracker_add(task->cur_tracker, task->cur_seq);
  return WEIR_OK;
}

int weir_sink_produce(weir_node_inst_t *sink, const weir_record_t *rec) {
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

int weir_task_dead_letter(weir_task_t *task, const rd_kafka_message_t *msg, const char *reason) {
  char partition[16], offset[24];
  const weir_origin_t *o = &task->origin;
  weir_record_t rec = WEIR_RECORD_INIT;
  rd_kafka_headers_t *orig = NULL, *hdrs;
  if (!task->env->dead_letter)
    return -1;
  /* The record goes out unchanged, its own headers kept, the reason added. */
  if (rd_kafka_message_headers(msg, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR && orig)
    hdrs = rd_kafka_headers_copy(orig);
  else
    hdrs = rd_kafka_headers_new(4);
  snprintf(partition, sizeof partition, "%d", (int)o->partition);
  snprintf(offset, sizeof offset, "%" PRId64, o->offset);
  rd_kafka_header_add(hdrs, "weir.error.reason", -1, reason, -1);
  rd_kafka_header_add(hdrs, "weir.source.topic", -1, o->topic, -1);
  rd_kafka_header_add(hdrs, "weir.source.partition", -1, partition, -1);
  rd_kafka_header_add(hdrs, "weir.source.offset", -1, offset, -1);
  rec.key = msg->key;
  rec.key_len = msg->key_len;
  rec.value = msg->payload;
  rec.value_len = msg->len;
  rec.timestamp = task->input_timestamp;
  return produce_tracked(task, task->env->dead_letter, &rec, hdrs, "dead-letter") == WEIR_OK ? 0
                                                                                             : -1;
}
