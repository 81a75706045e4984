/* A stream thread's Kafka clients and its tables, made and destroyed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/fetch_wake.h"
#include "kafka/kafka_conf.h"
#include "task/delivery.h"
#include "thread/thread_internal.h"
#include "util/log.h"

static weir_client_errors_t *errors_of(weir_stream_thread_t *t, rd_kafka_t *rk, const char **role) {
  *role = rk == t->producer ? "producer" : rk == t->restorer ? "restore consumer" : "consumer";
  return rk == t->producer   ? &t->producer_errors
         : rk == t->restorer ? &t->restorer_errors
                             : &t->consumer_errors;
}

/* A client that failed before works again: its episodes end, and the user
 * who saw the warning learns it cleared. */
static void client_works(weir_stream_thread_t *t, rd_kafka_t *rk) {
  const char *role;
  weir_client_errors_t *e = errors_of(t, rk, &role);
  if (e->count && weir_client_errors_clear(e))
    WEIR_INFO("thread %d: Kafka %s %s works again", t->index, role, rd_kafka_name(rk));
}

/* A fatal error stops the app. Any other is retried by librdkafka for as
 * long as it lasts, and weir makes no progress meanwhile (a broker down, a
 * refused login or TLS handshake, a missing ACL): warn once per episode
 * (kafka/client_errors.h), naming the client and what to do. */
void weir_thread_on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
  weir_stream_thread_t *t = opaque;
  char fatal[512];
  const char *role;
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    if (rk == t->producer && weir_txn_broken(t))
      return; /* exactly_once: the producer is replaced (transaction.c) */
    rd_kafka_fatal_error(rk, fatal, sizeof fatal);
    t->shared.fail(t->shared.app, fatal);
    return;
  }
  weir_client_errors_t *e = errors_of(t, rk, &role);
  if (weir_client_errors_note(e, err, weir_now_ms()))
    WEIR_WARN("thread %d: Kafka %s %s: %s (%s); librdkafka keeps retrying and weir may make "
              "no progress until it clears: %s (logged once until it clears)",
              t->index, role, rd_kafka_name(rk), reason, rd_kafka_err2str(err),
              weir_client_error_hint(err));
  else
    WEIR_DEBUG("thread %d: Kafka %s %s: %s again (%u repeat(s) not logged)", t->index, role,
               rd_kafka_name(rk), rd_kafka_err2name(err), weir_client_errors_repeats(e, err));
}

/* A delivery report that says delivered but carries no offset (resend.h). */
static const char *const UNCONFIRMED =
    "reported delivered without an offset (a failed request's batch acknowledged by a later "
    "one): the broker may not have it";

static void on_delivery_failed(weir_stream_thread_t *t, const rd_kafka_message_t *msg,
                               const char *consequence) {
  char why[512];
  snprintf(why, sizeof why, "produce to topic '%s' [%d] failed: %s; %s",
           rd_kafka_topic_name(msg->rkt), (int)msg->partition,
           msg->err ? rd_kafka_err2str(msg->err) : UNCONFIRMED, consequence);
  t->shared.fail(t->shared.app, why);
}

/* Testing only: WEIR_FAULT_UNCONFIRMED_FIRST=N makes thread 0 take its
 * first N successful delivery reports for reports without an offset, as
 * librdkafka gives for a batch it only believes delivered (resend.h): the
 * tests prove the resend so, without a broker that loses one. */
static int fault_unconfirmed(weir_stream_thread_t *t) {
  if (t->fault_unconfirmed <= 0)
    return 0;
  t->fault_unconfirmed--;
  return 1;
}

/* Exactly-once: the transaction cannot commit: the next commit aborts it and
 * the tasks go back to the last committed one (commit.c), as Kafka Streams
 * does on a send that fails under exactly-once. */
static void on_delivery_txn_failed(weir_stream_thread_t *t, const rd_kafka_message_t *msg,
                                   weir_delivery_t d) {
  char what[256];
  snprintf(what, sizeof what, "topic '%s' [%d]: %s", rd_kafka_topic_name(msg->rkt),
           (int)msg->partition, msg->err ? rd_kafka_err2str(msg->err) : UNCONFIRMED);
  weir_txn_delivery_failed(t, what);
  if (d.kind == WEIR_DELIVERY_CHANGELOG)
    weir_task_store_acked(d.store, msg, 1);
}

/* Served on the stream thread (rd_kafka_poll / rd_kafka_flush of its
 * producer). A failed delivery of any kind also blocks every later commit
 * and RocksDB write of this thread (delivery_failed): which inputs a
 * changelog record or a flush() output came from is not known. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque) {
  weir_stream_thread_t *t = opaque;
  weir_delivery_t d = weir_delivery_decode(msg->_private);
  int unconfirmed = !msg->err && (weir_resend_unconfirmed(msg) || fault_unconfirmed(t));
  if (unconfirmed && !weir_txn_enabled(t) && weir_resend_record(t, msg) == 0)
    return; /* the record's next report settles it */
  int failed = msg->err || unconfirmed;
  /* Under exactly_once only an abort purges, and librdkafka may serve the
   * purged records' reports after the abort returned. */
  int purged =
      msg->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || msg->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT;
  if (msg->err && (t->txn_aborting || (purged && weir_txn_enabled(t)) || weir_txn_broken(t)))
    return; /* purged by the abort of its transaction, or the producer failed
             * and is replaced (exactly_once): none of its records counts, and
             * its inputs are read again */
  if (failed && weir_txn_enabled(t)) {
    on_delivery_txn_failed(t, msg, d);
    return;
  }
  if (failed)
    t->delivery_failed++;
  else
    client_works(t, rk);
  if (d.kind == WEIR_DELIVERY_CHANGELOG) {
    weir_task_store_acked(d.store, msg, failed);
    if (failed)
      on_delivery_failed(t, msg,
                         "nothing more is committed and the stores are not written; "
                         "what is not committed is processed again after a restart");
    return;
  }
  if (failed)
    on_delivery_failed(t, msg,
                       "its input is not committed and will be processed again after a "
                       "restart");
  if (d.kind == WEIR_DELIVERY_TRACKED && d.slot < t->slot_count) {
    weir_offset_tracker_t *tr = t->slots[d.slot];
    weir_offset_tracker_ack(tr, weir_delivery_seq_expand(tr, d.seq40), failed);
  }
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque) {
  weir_stream_thread_t *t = opaque;
  if (!err)
    client_works(t, rk);
  if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    WEIR_WARN("thread %d: offset commit failed: %s; retrying at the next commit", t->index,
              rd_kafka_err2str(err));
    /* Forget what we believed committed so the next commit sends it again. */
    for (size_t i = 0; i < t->slot_count; i++)
      t->slots[i]->committed = -1;
  }
}

/* Static membership: every stream thread is its own group member, so one
 * configured group.instance.id becomes "<id>-<thread number>" per thread, the
 * same on every restart of this instance. */
static void per_thread_instance_id(weir_stream_thread_t *t, rd_kafka_conf_t *conf) {
  char id[256], mine[300];
  size_t size = sizeof id;
  if (rd_kafka_conf_get(conf, "group.instance.id", id, &size) != RD_KAFKA_CONF_OK || !id[0])
    return;
  snprintf(mine, sizeof mine, "%s-%d", id, t->index + 1);
  rd_kafka_conf_set(conf, "group.instance.id", mine, NULL, 0);
}

/* Exactly-once: the producer's transactional.id is stable per instance and
 * thread ("<application.id>-<instance>-<thread number>"), so a restarted
 * instance fences its predecessor's producer; consumers read only committed
 * records (repartition topics, and sources another weir writes). */
static int exactly_once_conf(weir_stream_thread_t *t, weir_client_role_t role,
                             rd_kafka_conf_t *conf, char *errstr, size_t errstr_size) {
  char id[512];
  if (role != WEIR_CLIENT_PRODUCER)
    return weir_kafka_conf_set(conf, "isolation.level", "read_committed", errstr, errstr_size);
  snprintf(id, sizeof id, "%s-%s-%d", t->shared.topo->settings.application_id,
           t->shared.instance_id ? t->shared.instance_id : "0", t->index + 1);
  return weir_kafka_conf_set(conf, "transactional.id", id, errstr, errstr_size);
}

/* Whether a task of this thread may wait for an empty input: some
 * sub-topology reads several topics and max.task.idle.ms >= 0. */
static int waits_for_inputs(const weir_stream_thread_t *t) {
  if (t->shared.topo->settings.max_task_idle_ms < 0)
    return 0;
  for (size_t i = 0; i < t->topic_count; i++)
    for (size_t j = i + 1; j < t->topic_count; j++)
      if (t->env.topic_subtopology[i] == t->env.topic_subtopology[j])
        return 1;
  return 0;
}

/* The consumer's end-of-partition events tell a waiting task where an
 * empty partition is when no record of it came since the assignment, and
 * step over transaction markers, which no record shows (task/task_idle.h):
 * without them a task could wait for ever. */
static int idle_conf(weir_stream_thread_t *t, rd_kafka_conf_t *conf, char *errstr,
                     size_t errstr_size) {
  if (!waits_for_inputs(t))
    return 0;
  t->env.high_watermark = weir_idle_high_watermark;
  t->env.watermark_opaque = t;
  t->env.topic_names = t->topics;
  return weir_kafka_conf_set(conf, "enable.partition.eof", "true", errstr, errstr_size);
}

static rd_kafka_t *new_client(weir_stream_thread_t *t, weir_client_role_t role, char *errstr,
                              size_t errstr_size) {
  char why[512];
  rd_kafka_conf_t *conf = weir_kafka_conf_new(&t->shared.topo->kafka_settings, t->shared.bootstrap,
                                              role, t->client_id, errstr, errstr_size);
  if (!conf)
    return NULL;
  rd_kafka_conf_set_opaque(conf, t);
  rd_kafka_conf_set_error_cb(conf, weir_thread_on_error);
  if ((weir_txn_enabled(t) && exactly_once_conf(t, role, conf, errstr, errstr_size)) ||
      (role == WEIR_CLIENT_CONSUMER && idle_conf(t, conf, errstr, errstr_size))) {
    rd_kafka_conf_destroy(conf);
    return NULL;
  }
  if (role == WEIR_CLIENT_PRODUCER) {
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  } else {
    per_thread_instance_id(t, conf);
    rd_kafka_conf_set_rebalance_cb(conf, weir_thread_on_rebalance);
    rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
  }
  rd_kafka_t *rk = rd_kafka_new(
      role == WEIR_CLIENT_PRODUCER ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER, conf, why, sizeof why);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    snprintf(errstr, errstr_size, "cannot create Kafka %s: %s",
             role == WEIR_CLIENT_PRODUCER ? "producer" : "consumer", why);
  }
  return rk;
}

static int subscribe(weir_stream_thread_t *t, char *errstr, size_t errstr_size) {
  rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new((int)t->topic_count);
  for (size_t i = 0; i < t->topic_count; i++)
    rd_kafka_topic_partition_list_add(subs, t->topics[i], RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t err = rd_kafka_subscribe(t->consumer, subs);
  rd_kafka_topic_partition_list_destroy(subs);
  if (err) {
    snprintf(errstr, errstr_size, "cannot subscribe to the source topics: %s",
             rd_kafka_err2str(err));
    return -1;
  }
  return 0;
}

static int open_dead_letter(weir_stream_thread_t *t, char *errstr, size_t errstr_size) {
  const weir_settings_t *s = &t->shared.topo->settings;
  if (!s->dead_letter_topic)
    return 0;
  t->env.dead_letter = rd_kafka_topic_new(t->producer, s->dead_letter_topic, NULL);
  if (!t->env.dead_letter) {
    snprintf(errstr, errstr_size, "cannot open dead-letter topic '%s'", s->dead_letter_topic);
    return -1;
  }
  return 0;
}

int weir_thread_renew_producer(weir_stream_thread_t *t, char *errstr, size_t errstr_size) {
  if (t->env.dead_letter)
    rd_kafka_topic_destroy(t->env.dead_letter);
  t->env.dead_letter = NULL;
  weir_purge_free(t->purge); /* its answer queue is on the old producer */
  t->purge = NULL;
  if (t->producer) {
    rd_kafka_purge(t->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_destroy(t->producer);
  }
  t->env.producer = t->producer = new_client(t, WEIR_CLIENT_PRODUCER, errstr, errstr_size);
  return t->producer ? open_dead_letter(t, errstr, errstr_size) : -1;
}

weir_stream_thread_t *weir_stream_thread_new(const weir_thread_shared_t *shared, int index,
                                             char *errstr, size_t errstr_size) {
  weir_stream_thread_t *t = calloc(1, sizeof *t);
  if (!t) {
    snprintf(errstr, errstr_size, "out of memory");
    return NULL;
  }
  t->shared = *shared;
  t->index = index;
  const char *fault = getenv("WEIR_FAULT_UNCONFIRMED_FIRST");
  t->fault_unconfirmed = fault && *fault && index == 0 ? strtoll(fault, NULL, 10) : 0;
  t->subtopologies = shared->topo->subtopology_count > 0 ? shared->topo->subtopology_count : 1;
  t->buffer_bound = shared->topo->settings.buffered_records_per_partition > 0
                        ? shared->topo->settings.buffered_records_per_partition
                        : 1000;
  /* "@<http.advertise>": the group's description then says where each
   * partition's queries go (http/directory.h). */
  const char *advertise = shared->topo->settings.http_advertise;
  snprintf(t->client_id, sizeof t->client_id, "%s-StreamThread-%d%s%s",
           shared->topo->settings.application_id, index + 1, advertise ? "@" : "",
           advertise ? advertise : "");
  t->topics = weir_topology_source_topics(shared->topo, &t->topic_count);
  t->topic_handles = calloc(t->topic_count ? t->topic_count : 1, sizeof *t->topic_handles);
  t->env.node_stats = calloc(shared->topo->node_count + 1, sizeof *t->env.node_stats);
  t->env.policy_stats = calloc(1, sizeof *t->env.policy_stats);
  if (!t->topics || !t->topic_handles || !t->env.node_stats || !t->env.policy_stats ||
      weir_task_env_map_topics(&t->env, shared->topo, t->topics, t->topic_count)) {
    snprintf(errstr, errstr_size, "out of memory");
    weir_stream_thread_free(t);
    return NULL;
  }
  t->producer = new_client(t, WEIR_CLIENT_PRODUCER, errstr, errstr_size);
  t->consumer = t->producer ? new_client(t, WEIR_CLIENT_CONSUMER, errstr, errstr_size) : NULL;
  if (!t->consumer || open_dead_letter(t, errstr, errstr_size) ||
      (weir_txn_enabled(t) && weir_txn_start(t, errstr, errstr_size))) {
    weir_stream_thread_free(t);
    return NULL;
  }
  rd_kafka_poll_set_consumer(t->consumer);
  t->queue = rd_kafka_queue_get_consumer(t->consumer);
  t->fetch_wake = weir_fetch_wake_new(t->consumer, shared->topo->kafka_settings.embedded);
  t->env.producer = t->producer;
  t->env.topo = shared->topo;
  t->env.stopping = shared->stopping;
  t->env.state_db = shared->state_db;
  t->env.cache_budget = shared->cache_budget;
  t->env.versions = shared->swap ? &shared->swap->versions : NULL;
  t->env.commit_wanted = &t->commit_wanted;
  t->env.spent = &t->spent;
  if (subscribe(t, errstr, errstr_size)) {
    weir_stream_thread_free(t);
    return NULL;
  }
  return t;
}

void weir_stream_thread_free(weir_stream_thread_t *t) {
  if (!t)
    return;
  weir_stream_thread_join(t);
  weir_restore_stop(t);
  for (size_t k = 0; k < t->task_cap; k++)
    weir_task_free(t->tasks[k]);
  free(t->tasks);
  free(t->slots);
  if (t->env.dead_letter)
    rd_kafka_topic_destroy(t->env.dead_letter);
  if (t->queue)
    rd_kafka_queue_destroy(t->queue);
  weir_fetch_wake_free(t->fetch_wake);
  weir_purge_free(t->purge);
  weir_resend_free(t->resend);
  /* Closing already happened, bounded, in weir_thread_shutdown: destroying
   * must not try again (it would block forever on a broker that is gone). */
  if (t->consumer)
    rd_kafka_destroy_flags(t->consumer, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  if (t->producer) {
    rd_kafka_purge(t->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_destroy(t->producer);
  }
  weir_task_env_unmap_topics(&t->env, t->topic_count);
  free(t->env.node_stats);
  free(t->env.policy_stats);
  free(t->topic_handles);
  free(t->topics);
  free(t);
}
