/* Exactly-once (processing.guarantee = exactly_once), as Kafka Streams' EOS
 * v2 (KIP-447): one transactional producer per stream thread; each commit
 * is one transaction holding the thread's sink, repartition and changelog
 * records and its input offsets, sent with the consumer's group metadata so
 * that a member the group has moved on from (a zombie) is fenced by the
 * broker. RocksDB is written only after the transaction commits
 * (commit.c, apply_tasks), so local state never holds an aborted write. */
#include <stdio.h>
#include <stdlib.h>

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

/* The producer cannot go on: fenced (another producer took this
 * transactional.id, or the coordinator bumped its epoch after a timeout),
 * or its transaction state is gone (a broker back from an outage longer
 * than the session answers the abort of a lost assignment's transaction
 * with INVALID_TXN_STATE). As Kafka Streams, the thread goes on: its tasks
 * close dirty, a new producer with the same transactional.id ends whatever
 * the old one left open, and the tasks start again from the last committed
 * transaction (weir_txn_recover, at the thread's next turn). Nothing of the
 * broken producer's transaction becomes visible. */
static void broken(weir_stream_thread_t *t, const char *why) {
  if (!t->txn_broken)
    WEIR_WARN("thread %d: %s; the producer is replaced and the thread's tasks start again from "
              "the last committed transaction (nothing of the open one is visible)",
              t->index, why);
  t->txn_broken = 1;
  t->txn_open = 0;
}

int weir_txn_broken(weir_stream_thread_t *t) {
  char why[512], reason[400];
  if (t->txn_broken || !weir_txn_enabled(t))
    return t->txn_broken;
  rd_kafka_resp_err_t err = rd_kafka_fatal_error(t->producer, reason, sizeof reason);
  if (err) {
    snprintf(why, sizeof why, "the transactional producer failed: %s (%s)", reason,
             rd_kafka_err2name(err));
    broken(t, why);
  }
  return t->txn_broken;
}

int weir_txn_absorbs(weir_stream_thread_t *t, weir_task_t *task) {
  if (weir_txn_broken(t))
    return 1;
  if (!weir_txn_enabled(t) || task->produce_err != RD_KAFKA_RESP_ERR__STATE)
    return 0;
  /* librdkafka takes no record into a transaction that must abort (one of
   * its records failed): abort it at the commit and go back (commit.c). */
  char what[256];
  snprintf(what, sizeof what, "task %s: a record was refused: %s", task->id,
           rd_kafka_err2str(task->produce_err));
  weir_txn_delivery_failed(t, what);
  task->produce_err = RD_KAFKA_RESP_ERR_NO_ERROR;
  return 1;
}

void weir_txn_delivery_failed(weir_stream_thread_t *t, const char *what) {
  if (!t->delivery_failed)
    snprintf(t->delivery_error, sizeof t->delivery_error, "%s", what);
  t->delivery_failed++;
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

/* Testing only: WEIR_FAULT_TXN_FATAL_AFTER=N makes thread 0's producer fail
 * fatally (librdkafka's rd_kafka_test_fatal_error) once, as its N-th commit
 * of input offsets begins, with the transaction's records sent and its
 * offsets not yet: the e2e tests prove the recovery so, without a broker
 * outage of the right length. */
static void read_fault(weir_stream_thread_t *t) {
  const char *v = getenv("WEIR_FAULT_TXN_FATAL_AFTER");
  t->txn_fault_after = v && *v && t->index == 0 ? strtoll(v, NULL, 10) : 0;
}

static void maybe_inject_fault(weir_stream_thread_t *t,
                               const rd_kafka_topic_partition_list_t *offsets) {
  if (t->txn_fault_after <= 0 || !offsets || !offsets->cnt || ++t->txn_commits < t->txn_fault_after)
    return;
  t->txn_fault_after = 0;
  WEIR_WARN("thread %d: WEIR_FAULT_TXN_FATAL_AFTER: making the producer fail (testing)", t->index);
  rd_kafka_test_fatal_error(t->producer, RD_KAFKA_RESP_ERR_INVALID_TXN_STATE,
                            "injected by WEIR_FAULT_TXN_FATAL_AFTER");
}

static rd_kafka_error_t *init_transactions(weir_stream_thread_t *t, int timeout_ms) {
  return rd_kafka_init_transactions(t->producer, timeout_ms);
}

int weir_txn_start(weir_stream_thread_t *t, char *errstr, size_t errstr_size) {
  rd_kafka_error_t *error = init_transactions(t, 60000);
  if (error) {
    snprintf(errstr, errstr_size,
             "thread %d: cannot start transactions (processing.guarantee = exactly_once): %s; "
             "the broker must support transactions (Kafka 2.5 or later, "
             "transaction.state.log.replication.factor no larger than the brokers)",
             t->index, rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    return -1;
  }
  read_fault(t);
  return begin(t, errstr, errstr_size);
}

/* A producer recovering after a broken one: init_transactions tried until
 * it works (a broker still away) or the app stops; each try is bounded so a
 * stop is not held up. */
static int restart_transactions(weir_stream_thread_t *t) {
  char why[512];
  for (int tries = 1; !atomic_load(t->shared.stopping); tries++) {
    rd_kafka_error_t *error = init_transactions(t, txn_timeout_ms(t));
    if (!error) {
      if (begin(t, why, sizeof why) == 0)
        return 0;
      t->shared.fail(t->shared.app, why);
      return -1;
    }
    int retry = rd_kafka_error_is_retriable(error) ||
                rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__TIMED_OUT;
    snprintf(why, sizeof why,
             "thread %d: the new transactional producer cannot start: %s; stopping (a restart "
             "processes the inputs since the last commit again)",
             t->index, rd_kafka_error_string(error));
    if (retry)
      WEIR_DEBUG("thread %d: starting transactions, try %d: %s: trying again", t->index, tries,
                 rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    if (!retry) {
      t->shared.fail(t->shared.app, why);
      return -1;
    }
  }
  return -1;
}

/* Recoveries in a row with no transaction committed between them: past this,
 * the producer is fenced as soon as it starts (another process uses this
 * transactional.id), and going on would only fence that one in turn. */
enum { MAX_RECOVERIES_WITHOUT_COMMIT = 5 };

int weir_txn_recover(weir_stream_thread_t *t) {
  char why[768];
  if (++t->txn_recoveries > MAX_RECOVERIES_WITHOUT_COMMIT) {
    snprintf(why, sizeof why,
             "thread %d: the transactional producer failed %d times in a row without a "
             "committed transaction; stopping: another process may use this instance's "
             "transactional.id (its state.dir's instance.id, or group.instance.id, must be "
             "unique per instance)",
             t->index, MAX_RECOVERIES_WITHOUT_COMMIT);
    t->shared.fail(t->shared.app, why);
    return -1;
  }
  if (weir_thread_renew_producer(t, why, sizeof why)) {
    t->shared.fail(t->shared.app, why);
    return -1;
  }
  t->txn_broken = 0;
  t->delivery_failed = 0;
  t->delivery_failure_logged = 0;
  if (restart_transactions(t))
    return -1;
  WEIR_INFO("thread %d: a new transactional producer started (recovery %d)", t->index,
            t->txn_recoveries);
  return 0;
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
    snprintf(err, sizeof err, "aborting the transaction failed: %s", rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    if (atomic_load(t->shared.stopping)) /* stopping anyway: the stop itself is no failure */
      WEIR_WARN("thread %d: %s; the broker aborts it after transaction.timeout.ms, and nothing "
                "of it is visible; a restart processes its inputs again",
                t->index, err);
    else
      broken(t, err); /* a new producer's init ends the transaction */
    return -1;
  }
  /* What failed belonged to the aborted transaction: nothing of it stays. */
  t->delivery_failed = 0;
  t->delivery_failure_logged = 0;
  if (begin(t, err, sizeof err)) {
    broken(t, err);
    return -1;
  }
  return 0;
}

/* A transactional error. Abortable (the broker refused the offsets or the
 * commit, e.g. a coordinator still loading after a restart): the
 * transaction is aborted and every task of the thread goes back to the last
 * committed one and processes again, as Kafka Streams does. Fatal (fenced,
 * or a producer that cannot go on): the producer is replaced (broken());
 * nothing of the transaction is visible. */
static int failed(weir_stream_thread_t *t, const char *step, rd_kafka_error_t *error) {
  char why[768];
  int fatal = rd_kafka_error_is_fatal(error) || !rd_kafka_error_txn_requires_abort(error);
  snprintf(why, sizeof why, "%s failed: %s", step, rd_kafka_error_string(error));
  rd_kafka_error_destroy(error);
  if (fatal) {
    broken(t, why);
    return -1;
  }
  WEIR_WARN("thread %d: %s", t->index, why);
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
  maybe_inject_fault(t, offsets);
  rd_kafka_error_t *error = offsets && offsets->cnt ? with_retries(t, 1, offsets) : NULL;
  if (error)
    return failed(t, "sending the input offsets to the transaction", error);
  error = with_retries(t, 0, NULL);
  if (error)
    return failed(t, "committing the transaction", error);
  t->txn_open = 0;
  if (offsets && offsets->cnt) /* an empty commit never reached a broker */
    t->txn_recoveries = t->txn_delivery_aborts = 0;
  if (begin(t, why, sizeof why)) {
    broken(t, why);
    return -1;
  }
  return 0;
}
