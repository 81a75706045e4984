/* Two requests on the thread's producer handle, one after the other, each
 * answered on the purge's own queue: ListConsumerGroupOffsets (what the
 * group committed for the repartition partitions this thread owns), then
 * DeleteRecords up to those offsets. */
#include "thread/purge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thread/thread_internal.h"
#include "util/log.h"

enum { REQUEST_TIMEOUT_MS = 30000 };

struct weir_purge {
  rd_kafka_queue_t *answers;
  int64_t next_ms;
  int in_flight; /* one request at a time */
  int off;       /* the broker cannot delete records: never again */
  int warned;    /* a failure is logged once until a purge succeeds */
};

void weir_purge_free(weir_purge_t *p) {
  if (!p)
    return;
  rd_kafka_queue_destroy(p->answers);
  free(p);
}

static int is_repartition(const weir_topology_t *topo, const char *topic) {
  for (size_t j = 0; j < topo->internal_topic_count; j++)
    if (!topo->internal_topics[j].changelog && strcmp(topo->internal_topics[j].name, topic) == 0)
      return 1;
  return 0;
}

static int is_any_repartition(const weir_stream_thread_t *t) {
  for (size_t i = 0; i < t->topic_count; i++)
    if (is_repartition(t->shared.topo, t->topics[i]))
      return 1;
  return 0;
}

/* The repartition partitions of this thread's active tasks. */
static rd_kafka_topic_partition_list_t *owned(weir_stream_thread_t *t) {
  rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(8);
  for (size_t k = 0; k < t->task_cap; k++) {
    weir_task_t *task = t->tasks[k];
    for (size_t i = 0; task && task->active && i < task->tracker_count; i++)
      if (t->env.topic_subtopology[i] == task->subtopology &&
          is_repartition(t->shared.topo, t->topics[i]))
        rd_kafka_topic_partition_list_add(list, t->topics[i], task->partition);
  }
  return list;
}

static rd_kafka_AdminOptions_t *options(rd_kafka_t *rk, rd_kafka_admin_op_t op) {
  rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);
  rd_kafka_AdminOptions_set_request_timeout(o, REQUEST_TIMEOUT_MS, NULL, 0);
  return o;
}

/* Whether a request went out (none while the thread owns no repartition
 * partition: the interval starts with the first that does). */
static int ask_committed(weir_stream_thread_t *t, weir_purge_t *p) {
  rd_kafka_topic_partition_list_t *parts = owned(t);
  if (parts->cnt) {
    rd_kafka_ListConsumerGroupOffsets_t *req =
        rd_kafka_ListConsumerGroupOffsets_new(t->shared.topo->settings.application_id, parts);
    rd_kafka_AdminOptions_t *o = options(t->producer, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
    rd_kafka_ListConsumerGroupOffsets(t->producer, &req, 1, o, p->answers);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    p->in_flight = 1;
  }
  rd_kafka_topic_partition_list_destroy(parts);
  return p->in_flight;
}

/* A broker without DeleteRecords (older than Kafka 0.11) or without the
 * rights: nothing is lost, the topics only keep what retention.ms = -1
 * keeps. */
static void failed(weir_stream_thread_t *t, weir_purge_t *p, const char *topic, int32_t partition,
                   rd_kafka_resp_err_t err) {
  if (err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE ||
      err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION) {
    WEIR_DEBUG("thread %d: repartition topics are not purged: the broker does not support "
               "DeleteRecords (%s)",
               t->index, rd_kafka_err2str(err));
    p->off = 1;
  } else if (!p->warned) {
    char where[300] = "";
    if (topic)
      snprintf(where, sizeof where, " '%s' [%d]", topic, (int)partition);
    WEIR_WARN("thread %d: purging repartition topic%s failed: %s; committed records stay until "
              "a later purge succeeds (it needs the group's DESCRIBE and the topics' DELETE "
              "permissions)",
              t->index, where[0] ? where : "s", rd_kafka_err2str(err));
    p->warned = 1;
  }
}

static void delete_committed(weir_stream_thread_t *t, weir_purge_t *p, rd_kafka_event_t *ev) {
  const rd_kafka_ListConsumerGroupOffsets_result_t *res =
      rd_kafka_event_ListConsumerGroupOffsets_result(ev);
  size_t n = 0;
  const rd_kafka_group_result_t **groups =
      res ? rd_kafka_ListConsumerGroupOffsets_result_groups(res, &n) : NULL;
  const rd_kafka_error_t *error = n == 1 ? rd_kafka_group_result_error(groups[0]) : NULL;
  const rd_kafka_topic_partition_list_t *committed =
      n == 1 && !error ? rd_kafka_group_result_partitions(groups[0]) : NULL;
  if (error)
    failed(t, p, NULL, -1, rd_kafka_error_code(error));
  rd_kafka_topic_partition_list_t *upto = rd_kafka_topic_partition_list_new(8);
  for (int i = 0; committed && i < committed->cnt; i++)
    if (!committed->elems[i].err && committed->elems[i].offset > 0)
      rd_kafka_topic_partition_list_add(upto, committed->elems[i].topic,
                                        committed->elems[i].partition)
          ->offset = committed->elems[i].offset;
  if (upto->cnt) {
    rd_kafka_DeleteRecords_t *req = rd_kafka_DeleteRecords_new(upto);
    rd_kafka_AdminOptions_t *o = options(t->producer, RD_KAFKA_ADMIN_OP_DELETERECORDS);
    rd_kafka_DeleteRecords(t->producer, &req, 1, o, p->answers);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_DeleteRecords_destroy(req);
    p->in_flight = 1;
  } else if (!error) {
    p->next_ms = 0; /* nothing committed yet: ask again at the next commit */
  }
  rd_kafka_topic_partition_list_destroy(upto);
}

static void deleted(weir_stream_thread_t *t, weir_purge_t *p, rd_kafka_event_t *ev) {
  const rd_kafka_DeleteRecords_result_t *res = rd_kafka_event_DeleteRecords_result(ev);
  const rd_kafka_topic_partition_list_t *offsets =
      res ? rd_kafka_DeleteRecords_result_offsets(res) : NULL;
  int bad = 0;
  for (int i = 0; offsets && i < offsets->cnt && !bad; i++)
    if ((bad = offsets->elems[i].err != 0))
      failed(t, p, offsets->elems[i].topic, offsets->elems[i].partition, offsets->elems[i].err);
  if (!bad) {
    p->warned = 0;
    WEIR_DEBUG("thread %d: purged %d repartition partition(s) up to their committed offsets",
               t->index, offsets ? offsets->cnt : 0);
  }
}

/* The answer to the request in flight, if it came. */
static void serve(weir_stream_thread_t *t, weir_purge_t *p) {
  rd_kafka_event_t *ev = rd_kafka_queue_poll(p->answers, 0);
  if (!ev)
    return;
  p->in_flight = 0;
  rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
  if (err)
    failed(t, p, NULL, -1, err);
  else if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT)
    delete_committed(t, p, ev);
  else if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_DELETERECORDS_RESULT)
    deleted(t, p, ev);
  rd_kafka_event_destroy(ev);
}

/* librdkafka's mock (`weir broker`, the embedded broker) has no
 * DeleteRecords, and librdkafka 2.0.2 leaks the request it fails then (176
 * bytes under LeakSanitizer), so the mock is known by its cluster id
 * ("mockCluster...") instead of being asked. -1 while the id is not known. */
static int on_mock(weir_stream_thread_t *t) {
  char *id = rd_kafka_clusterid(t->producer, 0); /* cached: does not block */
  if (!id)
    return -1;
  int mock = strncmp(id, "mockCluster", 11) == 0;
  rd_kafka_mem_free(t->producer, id);
  return mock;
}

void weir_purge_after_commit(weir_stream_thread_t *t) {
  if (!t->purge) {
    if (!is_any_repartition(t) || !(t->purge = calloc(1, sizeof *t->purge)))
      return;
    t->purge->answers = rd_kafka_queue_new(t->producer);
  }
  weir_purge_t *p = t->purge;
  if (p->off)
    return;
  int mock = on_mock(t);
  if (mock) {
    if (mock > 0)
      WEIR_DEBUG("thread %d: repartition topics are not purged: the broker is librdkafka's mock "
                 "(`weir broker`), which does not support DeleteRecords",
                 t->index);
    p->off = mock > 0;
    return;
  }
  if (p->in_flight)
    serve(t, p);
  int64_t now = weir_now_ms();
  if (p->in_flight || p->off || now < p->next_ms)
    return;
  if (ask_committed(t, p))
    p->next_ms = now + WEIR_PURGE_INTERVAL_MS;
}
