/* Exactly-once (processing.guarantee = exactly_once), as Kafka Streams' EOS
 * v2 (KIP-447): one transactional producer per stream thread; each commit
 * is one transaction holding the thread's sink, repartition and changelog
 * records and its input offsets, sent with the consumer's group metadata so
 * that a member the group has moved on from (a zombie) is fenced by the
 * broker. RocksDB is written only after the transaction commits
 * (commit.c, apply_tasks), so local state never holds an aborted write. */
#include <stdio.h>

#include "thread/thread_internal.h"
#include "util/log.h"

int weir_txn_enabled(const weir_stream_thread_t *t) {
  return t->shared.topo->settings.guarantee == WEIR_EXACTLY_ONCE;
}

/* librdkafka's transactional calls block up to this; a commit's retries
 * stay under transaction.timeout.ms, so the broker never aborts one the
 * thread still waits on, and well under max.poll.interval.ms. */
static int txn_timeout_ms(const weir_stream_thread_t *t) {
  return t->shared.shutdown_timeout_ms;
}

static int begin(weir_stream_thread_t *t, char *errstr, size_t errstr_size) {
  rd_kafka_error_t *error = rd_kafka_begin_transaction(t->producer);
  if (!error) {
    t->txn_open = 1;
    return 0;
  }
  snprintf(errstr, errstr_size, "thread %d: cannot begin a transaction: %s", t->index,
           rd_kafka_error_string(error));
  rd_kafka_error_destroy(error);
  return -1;
}

int weir_txn_start(weir_stream_thread_t *t, char *errstr, size_t errstr_size) {
  rd_kafka_error_t *error = rd_kafka_init_transactions(t->producer, 60000);
  if (error) {
    snprintf(errstr, errstr_size,
             "thread %d: cannot start transactions (processing.guarantee = exactly_once): %s; "
             "the broker must support transactions (Kafka 2.5 or later, "
             "transaction.state.log.replication.factor no larger than the brokers)",
             t->index, rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    return -1;
  }
  return begin(t, errstr, errstr_size);
}

/* Abort the open transaction: none of its records becomes visible to a
 * read_committed reader, and its offsets are not committed. The next one is
 * opened, so the thread can go on with the tasks it still has only after
 * their inputs are read again (the caller's business). A broker that is
 * down (the usual reason for a lost assignment) makes the abort time out:
 * it is called again, as librdkafka asks, for up to wait_ms (one try at
 * least). */
int weir_txn_abort(weir_stream_thread_t *t, const char *why, int wait_ms) {
  char err[512];
  if (!t->txn_open)
    return 0;
  WEIR_WARN("thread %d: aborting the transaction: %s", t->index, why);
  t->txn_aborting = 1; /* its purged records are no delivery failure (on_delivery) */
  int64_t deadline = weir_now_ms() + wait_ms;
  rd_kafka_error_t *error;
  while ((error = rd_kafka_abort_transaction(t->producer, txn_timeout_ms(t))) &&
         rd_kafka_error_is_retriable(error) && weir_now_ms() < deadline) {
    WEIR_DEBUG("thread %d: aborting: %s: trying again", t->index, rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
  }
  t->txn_aborting = 0;
  t->txn_open = 0;
  if (error) {
    snprintf(err, sizeof err,
             "thread %d: aborting the transaction failed: %s; the broker aborts it after "
             "transaction.timeout.ms, and nothing of it is visible; a restart processes its "
             "inputs again",
             t->index, rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    if (atomic_load(t->shared.stopping))
      WEIR_WARN("%s", err); /* stopping anyway: the stop itself is no failure */
    else
      t->shared.fail(t->shared.app, err);
    return -1;
  }
  /* What failed belonged to the aborted transaction: nothing of it stays. */
  t->delivery_failed = 0;
  t->delivery_failure_logged = 0;
  if (begin(t, err, sizeof err)) {
    t->shared.fail(t->shared.app, err);
    return -1;
  }
  return 0;
}

/* A transactional error. Abortable (the broker refused the offsets or the
 * commit, e.g. a coordinator still loading after a restart): the
 * transaction is aborted and every task of the thread goes back to the last
 * committed one and processes again, as Kafka Streams does. Fatal (fenced:
 * another instance with this transactional.id, or the group moved on):
 * the app stops; nothing of the transaction is visible. */
static int failed(weir_stream_thread_t *t, const char *step, rd_kafka_error_t *error) {
  char why[768];
  int fatal = rd_kafka_error_is_fatal(error) || !rd_kafka_error_txn_requires_abort(error);
  snprintf(why, sizeof why, "thread %d: %s failed: %s%s", t->index, step,
           rd_kafka_error_string(error),
           fatal ? "; stopping: this instance was fenced by a newer one, or its producer cannot "
                   "go on; nothing of the transaction is visible and a restart processes its "
                   "inputs again"
                 : "");
  rd_kafka_error_destroy(error);
  if (fatal) {
    t->txn_open = 0;
    t->shared.fail(t->shared.app, why);
    return -1;
  }
  WEIR_WARN("%s", why);
  if (weir_txn_abort(t, "the broker refused it", WEIR_TXN_ABORT_WAIT_MS) == 0)
    weir_thread_rewind(t);
  return -1;
}

/* Retriable errors (a broker down or moving its coordinator) are tried
 * again, as librdkafka asks (it resumes where it was), for up to
 * COMMIT_WAIT_MS: under librdkafka's default transaction.timeout.ms
 * (60 s), past which the broker aborts the transaction itself, and far under
 * max.poll.interval.ms (the group's heartbeats go on meanwhile). */
enum { COMMIT_WAIT_MS = 50000 };

static rd_kafka_error_t *with_retries(weir_stream_thread_t *t, int offsets,
                                      const rd_kafka_topic_partition_list_t *list) {
  int64_t deadline = weir_now_ms() + COMMIT_WAIT_MS;
  for (;;) {
    rd_kafka_error_t *error;
    if (offsets) {
      rd_kafka_consumer_group_metadata_t *meta = rd_kafka_consumer_group_metadata(t->consumer);
      error = rd_kafka_send_offsets_to_transaction(t->producer, list, meta, txn_timeout_ms(t));
      rd_kafka_consumer_group_metadata_destroy(meta);
    } else {
      error = rd_kafka_commit_transaction(t->producer, txn_timeout_ms(t));
    }
    if (!error || !rd_kafka_error_is_retriable(error) || weir_now_ms() >= deadline)
      return error;
    WEIR_DEBUG("thread %d: %s: %s: trying again", t->index,
               offsets ? "sending offsets" : "committing", rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
  }
}

int weir_txn_commit(weir_stream_thread_t *t, const rd_kafka_topic_partition_list_t *offsets) {
  char why[512];
  if (!t->txn_open)
    return -1;
  rd_kafka_error_t *error = offsets && offsets->cnt ? with_retries(t, 1, offsets) : NULL;
  if (error)
    return failed(t, "sending the input offsets to the transaction", error);
  error = with_retries(t, 0, NULL);
  if (error)
    return failed(t, "committing the transaction", error);
  t->txn_open = 0;
  if (begin(t, why, sizeof why)) {
    t->shared.fail(t->shared.app, why);
    return -1;
  }
  return 0;
}
