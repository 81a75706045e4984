/* The per-record path of a task: from a consumed message to its outputs,
 * with the deserialization and processing-error policies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/wire_headers.h"
#include "task/spent.h"
#include "task/task.h"
#include "task/timestamp.h"
#include "util/log.h"

/* The consumed headers as SDK headers, in a buffer reused across records.
 * A record whose bytes show no headers skips librdkafka's parse of them
 * (kafka/wire_headers.h: it allocates for every record). */
static int convert_headers(weir_task_t *task, const rd_kafka_message_t *msg, weir_record_t *rec) {
  rd_kafka_headers_t *hdrs = NULL;
  if (!msg || weir_message_no_headers(msg) ||
      rd_kafka_message_headers(msg, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR || !hdrs)
    return 0;
  size_t n = rd_kafka_header_cnt(hdrs);
  if (n > task->header_cap) {
    weir_header_t *grown = realloc(task->header_scratch, n * sizeof *grown);
    if (!grown)
      return -1;
    task->header_scratch = grown;
    task->header_cap = n;
  }
  for (size_t i = 0; i < n; i++) {
    weir_header_t *h = &task->header_scratch[i];
    rd_kafka_header_get_all(hdrs, i, &h->name, &h->value, &h->value_len);
  }
  rec->headers = task->header_scratch;
  rec->header_count = n;
  return 0;
}

static void to_record(weir_task_t *task, const weir_input_t *in, weir_record_t *rec) {
  rec->struct_size = sizeof *rec;
  rec->key = in->key;
  rec->key_len = in->key_len;
  rec->value = in->value;
  rec->value_len = in->value_len;
  rec->timestamp = task->input_timestamp;
  rec->headers = in->msg ? NULL : in->headers;
  rec->header_count = in->msg ? 0 : in->header_count;
  if (convert_headers(task, in->msg, rec))
    weir_task_set_error(task, "out of memory reading the record's headers");
}

/* Check key and value against the first source's serdes. */
static int check_serdes(const weir_node_t *src, const weir_input_t *in, char *why,
                        size_t why_size) {
  char err[256];
  if (weir_serde_check(src->key_serde, in->key, in->key_len, err, sizeof err)) {
    snprintf(why, why_size, "key is not %s: %s", weir_serde_name(src->key_serde), err);
    return -1;
  }
  if (weir_serde_check(src->value_serde, in->value, in->value_len, err, sizeof err)) {
    snprintf(why, why_size, "value is not %s: %s", weir_serde_name(src->value_serde), err);
    return -1;
  }
  return 0;
}

static void begin_input(weir_task_t *task, size_t topic_index, const weir_input_t *in,
                        uint64_t seq) {
  task->origin.struct_size = sizeof task->origin;
  task->origin.topic = in->topic;
  task->origin.partition = in->partition;
  task->origin.offset = in->offset;
  task->input_timestamp = in->timestamp;
  if (task->input_timestamp > task->stream_time)
    task->stream_time = task->input_timestamp;
  task->cur_slot = task->tracker_slots[topic_index];
  task->cur_seq = seq;
  task->cur_tracker = &task->trackers[topic_index];
  task->error[0] = '\0';
  task->produce_failed = WEIR_PRODUCE_OK;
  task->produce_error[0] = '\0';
  task->produce_named = 0;
  task->waited = 0;
  task->wait_deadline = 0;
  task->in_process = 1;
}

/* A produce of the input failed: the producer's fault, never the record's,
 * so no policy skips it. The commit position stays before the record, which
 * is processed again after a restart. Returns -1 to stop the app, or 0 when
 * it is stopping already (a plain stop is no failure). */
static int hold_for_producer(weir_task_t *task, weir_offset_tracker_t *tr, uint64_t seq) {
  const weir_origin_t *o = &task->origin;
  int stopping = task->produce_failed == WEIR_PRODUCE_STOPPED;
  weir_offset_tracker_hold(tr, seq);
  task->produce_failed = WEIR_PRODUCE_OK;
  if (stopping) {
    WEIR_INFO("task %s: stopping while the producer queue is full: %s/%d@%lld is not finished; "
              "nothing past it is committed and it is processed again after a restart",
              task->id, o->topic, (int)o->partition, (long long)o->offset);
    task->error[0] = '\0';
    return 0;
  }
  snprintf(task->error, sizeof task->error,
           "cannot produce the outputs of %s/%d@%lld (task %s): %s; stopping, nothing past it "
           "is committed and it is processed again after a restart",
           o->topic, (int)o->partition, (long long)o->offset, task->id, task->produce_error);
  return -1;
}

/* Apply `policy` to an input that failed for `why`. Returns 0 to go on, -1
 * to stop the app (the commit position stays before this record). */
static int apply_policy(weir_task_t *task, int policy_fail, int policy_dead_letter,
                        const weir_input_t *in, weir_offset_tracker_t *tr, uint64_t seq,
                        const char *what, const char *why) {
  const weir_origin_t *o = &task->origin;
  if (policy_fail) {
    weir_offset_tracker_hold(tr, seq);
    snprintf(task->error, sizeof task->error,
             "%s at %s/%d@%lld (task %s): %s; stopping, nothing past it is committed", what,
             o->topic, (int)o->partition, (long long)o->offset, task->id, why);
    return -1;
  }
  int sent = policy_dead_letter && weir_task_dead_letter(task, in, why) == 0;
  if (task->produce_failed) /* the dead-letter topic did not take it: not skippable */
    return hold_for_producer(task, tr, seq);
  if (sent)
    task->policy_stats->dead_lettered++;
  else
    task->policy_stats->skipped++;
  if (sent) {
    WEIR_WARN("%s at %s/%d@%lld (task %s): %s; sent to dead-letter topic %s", what, o->topic,
              (int)o->partition, (long long)o->offset, task->id, why,
              task->env->topo->settings.dead_letter_topic);
  } else {
    WEIR_WARN("%s at %s/%d@%lld (task %s): %s; skipped", what, o->topic, (int)o->partition,
              (long long)o->offset, task->id, why);
  }
  weir_offset_tracker_end(tr, seq);
  return 0;
}

static void run_sources(weir_task_t *task, size_t topic_index, const weir_record_t *rec) {
  const weir_task_env_t *env = task->env;
  for (size_t s = 0; s < env->topic_source_counts[topic_index]; s++) {
    weir_node_inst_t *src = &task->insts[env->topic_sources[topic_index][s]];
    src->stats->in++;
    src->stats->out++;
    for (size_t c = 0; c < src->node->child_count; c++)
      weir_node_deliver_child(src, c, rec);
  }
}

int weir_task_process(weir_task_t *task, size_t topic_index, const rd_kafka_message_t *msg,
                      int64_t timestamp) {
  weir_input_t in = {msg,
                     rd_kafka_topic_name(msg->rkt),
                     msg->partition,
                     msg->offset,
                     timestamp,
                     msg->key,
                     msg->key_len,
                     msg->payload,
                     msg->len,
                     NULL,
                     0};
  return weir_task_process_input(task, topic_index, &in);
}

/* A record without a usable event time follows deserialization.policy, as
 * Kafka Streams' extractors fail or skip it; why is asked again here, on
 * this rare path, so extracting costs no message formatting. */
static int bad_timestamp(weir_task_t *task, size_t topic_index, const weir_input_t *in,
                         weir_offset_tracker_t *tr, uint64_t seq) {
  const weir_settings_t *cfg = &task->env->topo->settings;
  char why[400] = "";
  weir_input_t raw = *in;
  if (in->msg)
    raw.timestamp = rd_kafka_message_timestamp(in->msg, NULL);
  weir_task_extract_timestamp(task, topic_index, &raw, why, sizeof why);
  if (!why[0])
    snprintf(why, sizeof why, "no valid timestamp");
  task->in_process = 0;
  task->policy_stats->deserialization_errors++;
  return apply_policy(task, cfg->deser_policy == WEIR_DESER_FAIL,
                      cfg->deser_policy == WEIR_DESER_DEAD_LETTER, in, tr, seq,
                      "bad timestamp in record", why);
}

static int process_one(weir_task_t *task, size_t topic_index, const weir_input_t *in) {
  weir_offset_tracker_t *tr = &task->trackers[topic_index];
  const weir_settings_t *cfg = &task->env->topo->settings;
  const weir_node_t *first = task->insts[task->env->topic_sources[topic_index][0]].node;
  weir_record_t rec;
  char why[400];

  /* A fetch made before a rebalance can hand over records already seen. */
  if (tr->next_offset >= 0 && in->offset < tr->next_offset)
    return 0;
  uint64_t seq = weir_offset_tracker_begin(tr, in->offset);
  if (seq == UINT64_MAX) {
    snprintf(task->error, sizeof task->error, "out of memory tracking offsets of task %s",
             task->id);
    return -1;
  }
  begin_input(task, topic_index, in, seq);
  if (in->timestamp < 0)
    return bad_timestamp(task, topic_index, in, tr, seq);
  if (check_serdes(first, in, why, sizeof why)) {
    task->in_process = 0;
    task->policy_stats->deserialization_errors++;
    return apply_policy(task, cfg->deser_policy == WEIR_DESER_FAIL,
                        cfg->deser_policy == WEIR_DESER_DEAD_LETTER, in, tr, seq,
                        "cannot deserialize record", why);
  }
  to_record(task, in, &rec);
  if (!task->error[0])
    run_sources(task, topic_index, &rec);
  task->in_process = 0;
  if (task->produce_failed)
    return hold_for_producer(task, tr, seq);
  if (task->error[0]) {
    snprintf(why, sizeof why, "%s", task->error);
    task->error[0] = '\0';
    task->policy_stats->processing_errors++;
    return apply_policy(task, cfg->error_policy == WEIR_ONERR_FAIL,
                        cfg->error_policy == WEIR_ONERR_DEAD_LETTER, in, tr, seq,
                        "processing failed", why);
  }
  weir_offset_tracker_end(tr, seq);
  return 0;
}

int weir_task_process_input(weir_task_t *task, size_t topic_index, const weir_input_t *in) {
  int rc = process_one(task, topic_index, in);
  /* After the record, never inside it: its punctuations see its effects. */
  if (rc == 0 && weir_task_stream_timers(task))
    return -1;
  return rc;
}

int weir_task_enqueue(weir_task_t *task, size_t topic_index, rd_kafka_message_t *msg) {
  const weir_node_t *src = task->insts[task->env->topic_sources[topic_index][0]].node;
  int64_t ts = src->ts_mode == WEIR_TS_RECORD ? rd_kafka_message_timestamp(msg, NULL)
                                              : weir_task_message_timestamp(task, topic_index, msg);
  if (weir_input_queue_push_ts(&task->queues[topic_index], msg, ts))
    return -1;
  weir_task_idle_arrived(task, topic_index, msg->offset);
  task->buffered++;
  return 0;
}

int weir_task_run_one(weir_task_t *task, int *idx) {
  *idx = weir_input_queue_pick(task->queues, task->tracker_count);
  if (*idx < 0)
    return 0;
  int64_t timestamp; /* read once, when the record was queued */
  rd_kafka_message_t *msg = weir_input_queue_pop_ts(&task->queues[*idx], &timestamp);
  task->buffered--;
  int rc = weir_task_process(task, (size_t)*idx, msg, timestamp);
  weir_spent_add(task->env->spent, msg);
  return rc ? -1 : 1;
}

int weir_task_run(weir_task_t *task, int budget) {
  if (task->idle.inputs > 1) /* several input partitions: max.task.idle.ms (task_idle.h) */
    return weir_task_idle_run(task, budget);
  int done = 0, idx, rc;
  /* Once stopping, no new record starts: one whose produce cannot wait
   * would only be held back. */
  while (done < budget && task->buffered > 0 && !atomic_load(task->env->stopping)) {
    if ((rc = weir_task_run_one(task, &idx)) <= 0)
      return rc < 0 ? -1 : done;
    done++;
    if (task->waited)
      break; /* back to the poll: a full queue must not keep the consumer waiting */
  }
  return done;
}
