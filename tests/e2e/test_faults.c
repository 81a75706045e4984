/* End to end, the faults of issue 12's proof on a stateful topology (the
 * word count of state_support.h, with the repartition topic and a changelog):
 * after each, every input is counted in the latest count per word of the
 * output, the instances exit 0 and everything is committed; the output
 * stream may repeat a count (counted and printed). The counts are asserted
 * exact in c, and in a and b with WEIR_TEST_FAULTS_STRICT=1 only: there the
 * fault leaves input lines processed but not committed, and their words
 * are counted twice (finish_lenient explains; printed as KNOWN DEFECT).
 *
 *   a. the broker goes down and comes back (same port, same data) while the
 *      count runs mid-stream: the real Kafka broker only, through kafka.sh
 *      stop/restart (WEIR_TEST_KAFKA_DIR); `weir broker` keeps its topics in
 *      memory and cannot come back with them, so it skips;
 *   b. SIGTERM while records wait for room in a full producer queue
 *      (queue.buffering.max.messages = 5, the broker frozen with SIGSTOP: an
 *      absent broker whose connections stay open): weir exits 0 with the
 *      waiting record unfinished and uncommitted; with the broker back a
 *      restart counts every input. Both brokers;
 *   c. a rebalance during a restore: A's state directory wiped, A restarted
 *      (a full restore from the changelog), B started as soon as A logs its
 *      restore began, then more input. Both brokers.
 *   d, e. kill -9 and a zombie under exactly_once (below);
 *   f. under exactly_once, the broker down until weir's session expires (the
 *      assignment lost and its transaction's abort begun), then back: weir
 *      aborts or replaces its producer, rejoins and counts exactly;
 *   g. under exactly_once, a fatal producer error mid-transaction
 *      (WEIR_FAULT_TXN_FATAL_AFTER): the producer is replaced, the tasks go
 *      back to the last committed transaction, the counts are exact;
 *   h. under exactly_once, an idle instance sends no transaction;
 *   i. under exactly_once, records that fail delivery (the broker down past
 *      message.timeout.ms): the transaction is aborted and the tasks go back
 *      to the last committed one; weir goes on and the counts are exact;
 *   j. under exactly_once, records reported delivered without an offset
 *      (WEIR_FAULT_UNCONFIRMED_FIRST, thread/resend.h): as i.
 *
 * A leaderless changelog partition is not here: on the single-node real
 * broker a partition loses its leader only with the broker itself (scenario
 * a), and `weir broker` cannot take a leader away from outside its process;
 * integration/test_commit_fault does it on the in-process mock.
 *
 * A slow operator before the split (tests/fixtures/slow_ops.c) makes
 * "mid-stream" certain on any machine: the rest of the input takes at least
 * its lines times MICROS after the first output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "state_support.h"

#define PARTITIONS 4
#define TASKS (2 * PARTITIONS) /* sub-topologies 0 (split) and 1 (count) */
#define MICROS 10000           /* per input line, in scenarios a and b */
#define BROKER_MS 180000       /* a real broker's stop or restart, bounded */
#define MAX_COUNT 4096         /* above any word's count here */
/* (b), at-least-once: commits far apart, so that the queue fills and the
 * wait for room begins before a commit's drain (10 s with the broker
 * frozen) comes. */
#define QUEUE_COMMIT_MS 20000
/* (f) and (i): commits far enough apart that a stop begun just after one
 * has closed the broker's connections (~0.3 s here) before the next, and
 * close enough that input is left to process between them (MICROS a line). */
#define STOP_COMMIT_MS 2000
/* weir's debug line for each transaction it commits. */
#define TXN_COMMITTED "in a transaction"

typedef struct scenario {
  char in[64], out[64], app[64], repartition[128], changelog[128];
  char ini_a[256], ini_b[256], log_a[256], log_a2[256], log_b[256], broker_log[256];
  char dir_a[256], dir_b[256];
  e2e_broker_t b;
  long long lines;
} scenario_t;

static scenario_t down, queue, restore, eos, down_eos, queue_eos, zombie, lost_eos, fatal_eos,
    idle_eos, timeout_eos, unconfirmed_eos;

/* -------------------------------------------------------------- the INI */

static int write_ini_as(const scenario_t *s, const char *path, const char *dir, int micros,
                        const char *kafka_extra, int exactly_once, int commit_ms) {
  FILE *f = fopen(path, "w");
  if (!f)
    return -1;
  fprintf(f,
          "[weir]\napplication.id = %s\nbootstrap.servers = embedded\n"
          "commit.interval.ms = %d\nstate.dir = %s\nlog.level = debug\n%s"
          "[source:lines]\ntopic = %s\nvalue.serde = string\n",
          s->app, commit_ms, dir, exactly_once ? "processing.guarantee = exactly_once\n" : "",
          s->in);
  if (micros > 0)
    fprintf(f,
            "[operator:slow]\nplugin = %s/slow_ops.so\ntype = sleep\ninput = lines\n"
            "micros = %d\n",
            WEIR_TEST_FIXTURE_DIR, micros);
  fprintf(f,
          "[operator:words]\nplugin = std\ntype = split\ninput = %s\n"
          "[operator:count]\nplugin = std\ntype = count\ninput = words\ngroup.by = value\n%s"
          "store = " SS_STORE "\n[store:" SS_STORE "]\ntype = kv\n"
          "[sink:counts]\ninput = count\ntopic = %s\nkey.serde = string\nvalue.serde = int64\n"
          "[kafka]\n%s%s",
          micros > 0 ? "slow" : "lines", exactly_once ? "emit = update\n" : "", s->out,
          /* A stopped member must leave the group soon (the mock needs > 3000). */
          kafka_extra && strstr(kafka_extra, "session.timeout.ms") ? ""
                                                                   : "session.timeout.ms = 6000\n",
          kafka_extra ? kafka_extra : "");
  return fclose(f);
}

static int write_ini(const scenario_t *s, const char *path, const char *dir, int micros,
                     const char *kafka_extra) {
  return write_ini_as(s, path, dir, micros, kafka_extra, 0, SS_COMMIT_MS);
}

static void start_broker(scenario_t *s) {
  const char *topics[5];
  ss_topics(topics, s->in, s->out, s->repartition, s->changelog);
  assert_int_equal(e2e_broker_start(&s->b, topics, PARTITIONS, s->broker_log), 0);
  assert_int_equal(ss_wait_topics(&s->b, topics, PARTITIONS, E2E_WAIT_MS), 0);
}

/* ------------------------------------------------------- the broker's fate */

/* What a test did to the broker and has not undone: a failed assertion
 * leaves the broker so, and broker_back (every test's teardown) undoes it;
 * else every later test on that broker fails too (a CI run had one
 * failure here and 19 after it). */
static int broker_stopped;
static pid_t broker_frozen;

/* `kafka.sh CMD DIR` on the real broker's directory; its exit status. */
static int kafka_sh(const char *cmd) {
  char line[1400];
  if (e2e_broker_shared(cmd))
    return -1;
  snprintf(line, sizeof line, "bash '%s/tests/kafka/kafka.sh' %s '%s' >>'%s/kafka-sh.log' 2>&1",
           WEIR_TEST_SOURCE_DIR, cmd, getenv("WEIR_TEST_KAFKA_DIR"), e2e_dir);
  long long t0 = e2e_now_ms();
  int rc = system(line);
  fprintf(stderr, "e2e: kafka.sh %s: status %d in %lld ms\n", cmd, rc, e2e_now_ms() - t0);
  if (strcmp(cmd, "stop") == 0)
    broker_stopped = 1;
  else if (strcmp(cmd, "restart") == 0 && rc == 0)
    broker_stopped = 0;
  return rc;
}

/* e2e_broker_signal, remembering a frozen broker for broker_back. */
static int signal_broker(const e2e_broker_t *b, int sig) {
  pid_t pid = e2e_broker_signal(b, sig);
  if (pid < 0)
    return -1;
  broker_frozen = sig == SIGSTOP ? pid : 0;
  return 0;
}

static int broker_back(void **state) {
  (void)state;
  if (broker_frozen > 0 && kill(broker_frozen, SIGCONT) == 0)
    broker_frozen = 0;
  if (broker_stopped)
    kafka_sh("restart");
  return 0;
}

/* -------------------------------------------------------------- checks */

static int alive(const proc_t *p) {
  return p->pid > 0 && waitpid(p->pid, NULL, WNOHANG) == 0;
}

/* The output's records and how many repeat a (word, count) already seen:
 * what was processed again after a fault. */
static void count_duplicates(const scenario_t *s, const char *what) {
  static unsigned char seen[SS_WORDS][MAX_COUNT];
  rd_kafka_t *rk = e2e_client(&s->b, RD_KAFKA_CONSUMER, NULL);
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(PARTITIONS);
  long long total = e2e_end_offsets(rk, s->out, PARTITIONS), got = 0, dups = 0;
  memset(seen, 0, sizeof seen);
  for (int p = 0; p < PARTITIONS; p++)
    rd_kafka_topic_partition_list_add(parts, s->out, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  long long deadline = e2e_now_ms() + E2E_WAIT_MS;
  while (got < total && e2e_now_ms() < deadline) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (!m)
      continue;
    if (!m->err) {
      ss_counts_t c;
      memset(&c, 0, sizeof c);
      for (int w = 0; w < SS_WORDS; w++)
        c.count[w] = -1;
      ss_apply(&c, m);
      for (int w = 0; w < SS_WORDS; w++)
        if (c.count[w] >= 0 && c.count[w] < MAX_COUNT)
          dups += seen[w][c.count[w]]++ > 0;
      got++;
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  fprintf(stderr, "e2e: %s: %lld output records, %lld duplicates (a word's count again)\n", what,
          got, dups);
  assert_int_equal(got, total);
}

/* Phases first..last counted exactly in the output (in timeout_ms). */
static void expect_output(const scenario_t *s, int last, int timeout_ms, const char *what) {
  int64_t want[SS_WORDS];
  ss_expect(1, last, want);
  ss_expect_counts(&s->b, s->out, PARTITIONS, want, timeout_ms, what);
}

/* Wait until every word's latest output count reaches phases 1..last: no
 * input lost. Returns how many words are counted past it (printed). */
static int expect_none_lost(const scenario_t *s, int last, int timeout_ms, const char *what) {
  int64_t want[SS_WORDS];
  ss_counts_t c;
  long long deadline = e2e_now_ms() + timeout_ms;
  int short_of = 0, over = 0;
  ss_expect(1, last, want);
  do {
    short_of = ss_read_latest(&s->b, s->out, PARTITIONS, &c) != 0 || c.unknown > 0;
    over = 0;
    for (int w = 0; w < SS_WORDS; w++) {
      short_of += c.count[w] < want[w];
      over += c.count[w] > want[w];
    }
    if (!short_of)
      break;
    usleep(200000);
  } while (e2e_now_ms() < deadline);
  if (short_of || over)
    ss_print_diff(what, &c, want);
  if (short_of)
    fail_msg("%s: %d word(s) short of their count: input lost", what, short_of);
  return over;
}

/* Everything committed, the instances stopped with exit 0, and the output
 * and the changelog exact for phases 1..last. */
static void finish(scenario_t *s, proc_t *a, proc_t *b2, int last, const char *what) {
  int64_t want[SS_WORDS];
  char label[128];
  assert_int_equal(
      ss_wait_committed(&s->b, s->app, s->in, s->lines, s->repartition, PARTITIONS, E2E_WAIT_MS),
      0);
  if (b2)
    assert_int_equal(proc_stop(b2, SIGTERM, 60000), 0);
  assert_int_equal(proc_stop(a, SIGTERM, 60000), 0);
  ss_expect(1, last, want);
  snprintf(label, sizeof label, "%s: final output", what);
  ss_expect_counts(&s->b, s->out, PARTITIONS, want, 0, label);
  snprintf(label, sizeof label, "%s: final changelog", what);
  ss_expect_counts(&s->b, s->changelog, PARTITIONS, want, 0, label);
  count_duplicates(s, what);
}

/* Read the output with a read_committed reader up to its end: each word's
 * counts 1..want[w] exactly once (emit = update forwards every count), no
 * count repeated, none missing, nothing else. */
static void expect_each_count_once(const scenario_t *s, const int64_t *want, const char *what) {
  static unsigned char seen[SS_WORDS][MAX_COUNT];
  long long dups = 0, missing = 0, extra = 0, got = 0;
  int64_t high[PARTITIONS];
  rd_kafka_t *rk = e2e_client(&s->b, RD_KAFKA_CONSUMER, NULL);
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(PARTITIONS);
  memset(seen, 0, sizeof seen);
  for (int p = 0; p < PARTITIONS; p++) {
    int64_t low = 0;
    assert_int_equal(rd_kafka_query_watermark_offsets(rk, s->out, p, &low, &high[p], 30000), 0);
    rd_kafka_topic_partition_list_add(parts, s->out, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  assert_int_equal(rd_kafka_assign(rk, parts), 0);
  long long deadline = e2e_now_ms() + E2E_WAIT_MS;
  for (int done = 0; !done && e2e_now_ms() < deadline;) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (m && !m->err) {
      ss_counts_t c;
      memset(&c, 0, sizeof c);
      for (int w = 0; w < SS_WORDS; w++)
        c.count[w] = -1;
      ss_apply(&c, m);
      for (int w = 0; w < SS_WORDS; w++)
        if (c.count[w] >= 0)
          c.count[w]<MAX_COUNT && c.count[w]> 0 ? (void)(dups += seen[w][c.count[w]]++ > 0)
                                                : (void)extra++;
      got++;
    }
    if (m)
      rd_kafka_message_destroy(m);
    assert_int_equal(rd_kafka_position(rk, parts), 0);
    done = 1; /* past the last record: the position reached the high watermark */
    for (int p = 0; p < PARTITIONS; p++)
      done &= parts->elems[p].offset >= high[p];
  }
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  for (int w = 0; w < SS_WORDS; w++)
    for (int64_t c = 1; c < MAX_COUNT; c++) {
      if (c <= want[w] && !seen[w][c] && missing++ < 10)
        fprintf(stderr, "e2e: %s: %s never got count %lld\n", what, ss_words[w], (long long)c);
      if (c > want[w] && seen[w][c] && extra++ < 10)
        fprintf(stderr, "e2e: %s: %s got count %lld, past its %lld\n", what, ss_words[w],
                (long long)c, (long long)want[w]);
    }
  fprintf(stderr,
          "e2e: %s: %lld committed output records, %lld counts repeated, %lld missing, %lld "
          "extra\n",
          what, got, dups, missing, extra);
  assert_int_equal(dups, 0);
  assert_int_equal(missing, 0);
  assert_int_equal(extra, 0);
}

/* The same faults under exactly_once (real Kafka): every count exactly
 * once in a read_committed reader, the final counts exact, everything
 * committed, exit 0. Not ss_wait_committed: under transactions a
 * partition's end offset counts the commit markers too; exact counts in a
 * read_committed reader mean every repartition record was processed in a
 * committed transaction. */
static int finish_exact(scenario_t *s, proc_t *a, int last, const char *what) {
  int64_t want[SS_WORDS];
  char label[128];
  ss_expect(1, last, want);
  snprintf(label, sizeof label, "%s: output", what);
  ss_expect_counts(&s->b, s->out, PARTITIONS, want, BROKER_MS, label);
  long long deadline = e2e_now_ms() + E2E_WAIT_MS;
  while (e2e_committed(&s->b, s->app, s->in, PARTITIONS) < s->lines && e2e_now_ms() < deadline)
    usleep(100000);
  assert_int_equal(e2e_committed(&s->b, s->app, s->in, PARTITIONS), s->lines);
  assert_int_equal(proc_stop(a, SIGTERM, 60000), 0);
  snprintf(label, sizeof label, "%s: final changelog", what);
  ss_expect_counts(&s->b, s->changelog, PARTITIONS, want, 0, label);
  expect_each_count_once(s, want, what);
  return 0;
}

/* After a fault that interrupts a commit (a and b): every input counted,
 * then everything committed and the instance stopped with exit 0. Not
 * asserted exact unless WEIR_TEST_FAULTS_STRICT=1, because the lines
 * processed since the last commit are processed again and at-least-once
 * does not make that idempotent across the repartition topic: their words
 * were already written to it (acknowledged before the fault, or delivered
 * by the producer's retries after it) and are written again, and the count
 * sub-topology counts both copies. A commit cut short can also leave
 * changelog records of uncommitted inputs that a restore applies. The words
 * counted past their inputs are printed and returned. */
static int finish_lenient(scenario_t *s, proc_t *a, int last, const char *what) {
  const char *strict = getenv("WEIR_TEST_FAULTS_STRICT");
  int over = expect_none_lost(s, last, BROKER_MS, what);
  if (over)
    fprintf(stderr,
            "e2e: KNOWN DEFECT: %s: %d word(s) counted past their inputs (lines processed "
            "again after the fault: their repartition records written twice)\n",
            what, over);
  if (strict && strcmp(strict, "1") == 0)
    assert_int_equal(over, 0);
  assert_int_equal(
      ss_wait_committed(&s->b, s->app, s->in, s->lines, s->repartition, PARTITIONS, E2E_WAIT_MS),
      0);
  assert_int_equal(proc_stop(a, SIGTERM, 60000), 0);
  count_duplicates(s, what);
  return over;
}

/* Produce phases first..last at once (flushed). */
static void produce(scenario_t *s, int first, int last) {
  rd_kafka_t *prod = e2e_client(&s->b, RD_KAFKA_PRODUCER, NULL);
  for (int p = first; p <= last; p++)
    s->lines += ss_produce_phase(prod, s->in, PARTITIONS, p, 0);
  assert_int_equal(rd_kafka_flush(prod, 30000), 0);
  rd_kafka_destroy(prod);
}

/* Wait until the output has a record: weir is mid-stream (the slow operator
 * leaves seconds of input to go). */
static void wait_first_in(const scenario_t *s, const char *topic) {
  rd_kafka_t *rk = e2e_client(&s->b, RD_KAFKA_PRODUCER, NULL);
  assert_true(e2e_wait_end_offsets(rk, topic, PARTITIONS, 1, E2E_WAIT_MS) >= 1);
  long long committed = e2e_committed(&s->b, s->app, s->in, PARTITIONS);
  fprintf(stderr, "e2e: mid-stream: %lld of %lld lines committed\n", committed, s->lines);
  assert_true(committed < s->lines);
  rd_kafka_destroy(rk);
}

static void wait_first_output(const scenario_t *s) {
  wait_first_in(s, s->out);
}

/* ------------------------------------------------ a. broker down and up */

/* A running the slow count with every task, phases 1-3 in, mid-stream;
 * `kafka_extra`: more [kafka] lines, or NULL; commits every commit_ms. */
static proc_t start_mid_stream(scenario_t *s, int eos, const char *kafka_extra, int commit_ms) {
  assert_int_equal(write_ini_as(s, s->ini_a, s->dir_a, MICROS, kafka_extra, eos, commit_ms), 0);
  proc_t a = e2e_weir_run(&s->b, s->ini_a, s->log_a);
  ss_expect_all_tasks(s->log_a, TASKS, E2E_WAIT_MS);
  produce(s, 1, 3);
  wait_first_output(s);
  return a;
}

/* Stops the real broker just after A's next commit (exactly_once, commits
 * STOP_COMMIT_MS apart): the commit after it then begins with the broker
 * gone, and records sent since then undelivered. A stop at any moment may
 * land in a commit past its flush, with every record delivered and the
 * offsets not: that commit waits 50 s, then the producer is replaced, and
 * the thread neither sees a delivery fail nor polls its consumer until the
 * broker is back; a test waiting for either with the broker down waits in
 * vain (a CI run waited 180 s in (i)). */
static void stop_after_commit(const scenario_t *s) {
  int n = e2e_log_count(s->log_a, TXN_COMMITTED);
  assert_int_equal(e2e_wait_log(s->log_a, TXN_COMMITTED, n + 1, E2E_WAIT_MS), 0);
  assert_int_equal(kafka_sh("stop"), 0);
}

/* Scenarios that stop and restart the broker: the real one, through
 * kafka.sh run (WEIR_TEST_KAFKA_DIR); `weir broker` cannot come back with
 * its topics. */
static void skip_unless_restartable(const char *what) {
  const char *real = getenv("WEIR_TEST_KAFKA_BOOTSTRAP"), *dir = getenv("WEIR_TEST_KAFKA_DIR");
  if (!real || !*real || !dir || !*dir) {
    fprintf(stderr,
            "e2e: SKIPPED %s: runs on the real broker through kafka.sh run (stop/restart)\n", what);
    skip();
  }
}

/* Under exactly_once on the real broker (state: &EXACTLY_ONCE), or
 * at-least-once (&AT_LEAST_ONCE). */
static const int AT_LEAST_ONCE = 0, EXACTLY_ONCE = 1;

static int eos_of(void **state) {
  return state && *state && *(const int *)*state == EXACTLY_ONCE;
}

/* exactly_once is refused on `weir broker`: test d checks that. */
static void skip_eos_on_mock(int eos, const e2e_broker_t *b, const char *what) {
  if (eos && !b->real) {
    fprintf(stderr, "e2e: SKIPPED %s under exactly_once: refused on `weir broker` (test d)\n",
            what);
    skip();
  }
}

static void test_broker_down_and_up(void **state) {
  int eos = eos_of(state);
  scenario_t *s = eos ? &down_eos : &down;
  const char *real = getenv("WEIR_TEST_KAFKA_BOOTSTRAP"), *dir = getenv("WEIR_TEST_KAFKA_DIR");
  if (!real || !*real) {
    fprintf(stderr, "e2e: SKIPPED broker down and up: `weir broker` keeps its topics in memory "
                    "and cannot come back with them; runs on the real broker (kafka.sh run)\n");
    skip();
  }
  if (!dir || !*dir) {
    fprintf(stderr, "e2e: SKIPPED broker down and up: WEIR_TEST_KAFKA_DIR is not set (run the "
                    "suite through tests/kafka/kafka.sh run)\n");
    skip();
  }
  long long t0 = e2e_now_ms();
  start_broker(s);
  skip_eos_on_mock(eos, &s->b, "broker down and up");
  proc_t a = start_mid_stream(s, eos, NULL, SS_COMMIT_MS);
  assert_int_equal(kafka_sh("stop"), 0);
  long long t_down = e2e_now_ms();
  assert_true(alive(&a));
  assert_int_equal(kafka_sh("restart"), 0);
  long long t_up = e2e_now_ms();
  assert_true(alive(&a));

  produce(s, 4, 4);
  int over = eos ? finish_exact(s, &a, 4, "broker down and up (exactly_once)")
                 : finish_lenient(s, &a, 4, "broker down and up");
  long long t_exact = e2e_now_ms();
  fprintf(stderr,
          "e2e: summary (a): %lld lines; broker down for %lld ms; all counted and stopped %lld ms "
          "after it came back (%d word(s) over); total %lld ms\n",
          s->lines, t_up - t_down, t_exact - t_up, over, e2e_now_ms() - t0);
  assert_int_equal(e2e_broker_stop(&s->b), 0);
}

/* ------------------------------------ b. a full producer queue at SIGTERM */

static void test_full_queue_at_sigterm(void **state) {
  int eos = eos_of(state);
  scenario_t *s = eos ? &queue_eos : &queue;
  long long t0 = e2e_now_ms();
  start_broker(s);
  skip_eos_on_mock(eos, &s->b, "full queue at SIGTERM");
  assert_int_equal(write_ini_as(s, s->ini_a, s->dir_a, MICROS, "queue.buffering.max.messages = 5\n",
                                eos, eos ? SS_COMMIT_MS : QUEUE_COMMIT_MS),
                   0);
  proc_t a = e2e_weir_run(&s->b, s->ini_a, s->log_a);
  ss_expect_all_tasks(s->log_a, TASKS, E2E_WAIT_MS);
  produce(s, 1, 3);
  /* At-least-once: no count before the first (20 s) commit, but the
   * repartition topic fills at once. Exactly-once: a topic's end offset
   * moves at commits only (read_committed), and those come every 300 ms. */
  wait_first_in(s, eos ? s->out : s->repartition);

  /* The broker stops answering: the lines weir fetched already go on
   * through the split until the queue is full. A wait for room logged
   * before the freeze does not count: on a loaded machine the 5-record
   * queue fills while the broker is merely slow, and a SIGTERM sent on that
   * warning found the thread in a commit instead (a CI run). weir warns
   * after 1 s of a wait and every 10 s while it lasts, so a wait begun
   * before the freeze that goes on is logged again. */
  const char *full = "the producer queue has been full for ";
  int full_before = e2e_log_count(s->log_a, full);
  assert_int_equal(signal_broker(&s->b, SIGSTOP), 0);
  int waited = e2e_wait_log(s->log_a, full, full_before + 1, E2E_WAIT_MS);
  long long t_term = e2e_now_ms();
  int rc = waited ? -2 : proc_stop(&a, SIGTERM, 90000);
  long long t_exit = e2e_now_ms();
  assert_int_equal(signal_broker(&s->b, SIGCONT), 0);
  assert_int_equal(waited, 0);
  fprintf(stderr, "e2e: SIGTERM with a full producer queue: exit %d in %lld ms\n", rc,
          t_exit - t_term);
  assert_int_equal(rc, 0);
  assert_true(e2e_log_count(s->log_a, "stopping while the producer queue is full") >= 1);

  /* The broker is back: a restart counts every input. */
  a = e2e_weir_run(&s->b, s->ini_a, s->log_a2);
  produce(s, 4, 4);
  int over = eos ? finish_exact(s, &a, 4, "full queue at SIGTERM (exactly_once)")
                 : finish_lenient(s, &a, 4, "full queue at SIGTERM");
  long long t_exact = e2e_now_ms();
  fprintf(stderr,
          "e2e: summary (b): %lld lines; exit %lld ms after SIGTERM; all counted and stopped "
          "%lld ms after the restart began (%d word(s) over); total %lld ms\n",
          s->lines, t_exit - t_term, t_exact - t_exit, over, e2e_now_ms() - t0);
  assert_int_equal(e2e_broker_stop(&s->b), 0);
}

/* --------------------------------------- c. a rebalance during a restore */

static int settled(const ss_owned_t *a, const ss_owned_t *b) {
  if (a->n == 0 || b->n == 0 || a->n + b->n != TASKS)
    return 0;
  for (int k = 0; k < a->n; k++)
    if (ss_owns(b, a->task[k]))
      return 0;
  return 1;
}

static void wait_settled(const scenario_t *s) {
  ss_owned_t a, b;
  long long deadline = e2e_now_ms() + E2E_WAIT_MS;
  do {
    ss_parse_owned(s->log_a2, 0, &a);
    ss_parse_owned(s->log_b, 0, &b);
    if (settled(&a, &b)) {
      fprintf(stderr, "e2e: settled: A owns %d tasks, B %d\n", a.n, b.n);
      return;
    }
    usleep(100000);
  } while (e2e_now_ms() < deadline);
  fail_msg("the tasks did not settle: A owns %d, B owns %d of %d", a.n, b.n, TASKS);
}

static void test_rebalance_during_restore(void **state) {
  (void)state;
  scenario_t *s = &restore;
  ss_restore_t ra, rb;
  long long t0 = e2e_now_ms();
  start_broker(s);
  assert_int_equal(write_ini(s, s->ini_a, s->dir_a, 0, NULL), 0);
  assert_int_equal(write_ini(s, s->ini_b, s->dir_b, 0, NULL), 0);

  /* A alone builds a changelog of phases 1..6, all committed. */
  proc_t a = e2e_weir_run(&s->b, s->ini_a, s->log_a);
  ss_expect_all_tasks(s->log_a, TASKS, E2E_WAIT_MS);
  produce(s, 1, 6);
  expect_output(s, 6, E2E_WAIT_MS, "phases 1-6 (A alone)");
  assert_int_equal(
      ss_wait_committed(&s->b, s->app, s->in, s->lines, s->repartition, PARTITIONS, E2E_WAIT_MS),
      0);
  assert_int_equal(proc_stop(&a, SIGTERM, 60000), 0);

  /* A without its state: a full restore, and B joins as it begins. */
  assert_int_equal(weir_rm_rf(s->dir_a), 0);
  a = e2e_weir_run(&s->b, s->ini_a, s->log_a2);
  assert_int_equal(e2e_wait_log(s->log_a2, "has no checkpoint", 1, E2E_WAIT_MS), 0);
  ss_parse_restores(s->log_a2, 0, &ra);
  fprintf(stderr, "e2e: B starts as A restores: %d partition(s) restored, %d task(s) ready\n",
          ra.lines, ra.ready);
  proc_t b = e2e_weir_run(&s->b, s->ini_b, s->log_b);
  wait_settled(s);

  produce(s, 7, 7);
  expect_output(s, 7, 120000, "phase 7 (A and B)");
  ss_parse_restores(s->log_a2, 0, &ra);
  ss_parse_restores(s->log_b, 0, &rb);
  fprintf(stderr,
          "e2e: A restored %lld records in %d partition restore(s) (%d without checkpoint), B "
          "%lld in %d (%d without checkpoint)\n",
          ra.records, ra.lines, ra.no_checkpoint, rb.records, rb.lines, rb.no_checkpoint);
  assert_true(ra.no_checkpoint >= 1);
  finish(s, &a, &b, 7, "rebalance during a restore");
  fprintf(stderr, "e2e: summary (c): %lld lines; total %lld ms\n", s->lines, e2e_now_ms() - t0);
  assert_int_equal(e2e_broker_stop(&s->b), 0);
}

/* ------------------------------------------ d. kill -9 under exactly_once */

#define KILLS 5
#define EOS_MICROS 10000 /* per line: the input takes ~9 s, the kills land mid-stream */

/* Kill -9 KILLS times at seeded random points while the count runs, then
 * let it finish: under exactly_once a read_committed reader sees every
 * count exactly once, the final counts are exact, and each restart restores
 * from the store's checkpoint: a store-partition that finished a restore
 * (its checkpoint then written and flushed) is never restored from the
 * changelog's start again. Each kill comes after a commit that wrote the
 * stores, so the next start has a checkpoint past the start to restore from.
 * On `weir broker` (a mock cluster, whose transactions are not faithful) the
 * run is refused at start. */
static void test_kill9_exactly_once(void **state) {
  (void)state;
  scenario_t *s = &eos;
  unsigned seed = (unsigned)getpid();
  long long t0 = e2e_now_ms(), restored = 0;
  int had_checkpoint[SS_MAX_PARTS] = {0}, from_checkpoint = 0;
  start_broker(s);
  assert_int_equal(write_ini_as(s, s->ini_a, s->dir_a, EOS_MICROS, NULL, 1, SS_COMMIT_MS), 0);
  if (!s->b.real) {
    proc_t a = e2e_weir_run(&s->b, s->ini_a, s->log_a);
    assert_int_equal(proc_wait(&a, 60000), 1);
    assert_true(e2e_log_count(s->log_a, "exactly_once is refused on the embedded broker") >= 1);
    fprintf(stderr, "e2e: exactly_once refused on `weir broker`, as it must be\n");
    assert_int_equal(e2e_broker_stop(&s->b), 0);
    return;
  }
  produce(s, 1, 3);
  fprintf(stderr, "e2e: exactly_once: %lld lines, kill -9 %d times (seed %u)\n", s->lines, KILLS,
          seed);
  for (int k = 0; k < KILLS; k++) {
    /* Runs after the first append to one log: each reads its own part. */
    const char *log = k ? s->log_a2 : s->log_a;
    long offset = ss_file_size(log);
    int applied = e2e_log_count(log, "stores checkpointed");
    long long before = e2e_committed(&s->b, s->app, s->in, PARTITIONS);
    proc_t a = e2e_weir_run(&s->b, s->ini_a, log);
    long long deadline = e2e_now_ms() + E2E_WAIT_MS;
    while ((e2e_committed(&s->b, s->app, s->in, PARTITIONS) <= before ||
            e2e_log_count(log, "stores checkpointed") <= applied) &&
           alive(&a) && e2e_now_ms() < deadline)
      usleep(20000);
    usleep((useconds_t)(rand_r(&seed) % 400) * 1000); /* a random point inside a transaction */
    assert_true(alive(&a));
    assert_int_equal(proc_stop(&a, SIGKILL, 10000), 128 + SIGKILL);
    ss_restore_t r;
    ss_parse_restores(log, offset, &r);
    int at_checkpoint = 0;
    for (int p = 0; p < SS_MAX_PARTS; p++) {
      if (had_checkpoint[p] && r.no_cp[p])
        fail_msg("kill %d: partition %d was restored from the changelog's start, though an "
                 "earlier run finished its restore (%s)",
                 k + 1, p, log);
      /* A restore's end is a checkpoint, flushed before the task is ready. */
      had_checkpoint[p] |= r.first[p] && (r.ready_p[p] || !r.no_cp[p]);
      at_checkpoint += r.first[p] && r.from[p] > 0;
    }
    from_checkpoint += at_checkpoint;
    restored += r.records;
    fprintf(stderr,
            "e2e: kill %d: %lld of %lld lines committed; this run restored %lld records in %d "
            "partition(s), %d of them from a checkpoint past the start\n",
            k + 1, e2e_committed(&s->b, s->app, s->in, PARTITIONS), s->lines, r.records, r.lines,
            at_checkpoint);
  }
  /* Every kill followed a commit that wrote the stores: the later starts
   * had checkpoints to begin at. */
  assert_true(from_checkpoint > 0);
  proc_t a = e2e_weir_run(&s->b, s->ini_a, s->log_b);
  produce(s, 4, 4);
  finish_exact(s, &a, 4, "exactly_once after kill -9");
  fprintf(stderr,
          "e2e: summary (d): %lld lines; %d kills; %lld records restored in all; total "
          "%lld ms\n",
          s->lines, KILLS, restored, e2e_now_ms() - t0);
  assert_int_equal(e2e_broker_stop(&s->b), 0);
}

/* --------------------- e. two instances, a rebalance and a zombie (exactly_once) */

/* Until B's log owns `b_n` tasks and A's the rest (or B all of them). */
static void wait_owned(const scenario_t *s, int b_n, const char *what) {
  ss_owned_t a, b;
  long long deadline = e2e_now_ms() + E2E_WAIT_MS;
  do {
    ss_parse_owned(s->log_a, 0, &a);
    ss_parse_owned(s->log_b, 0, &b);
    /* A frozen A's log still names the tasks it had: only B's counts then. */
    if (b.n == b_n && (b_n == TASKS || (a.n > 0 && a.n + b.n == TASKS)))
      return;
    usleep(100000);
  } while (e2e_now_ms() < deadline);
  fail_msg("%s: A owns %d tasks, B %d", what, a.n, b.n);
}

/* A runs mid-stream, B joins (a rebalance in the middle), then A is frozen
 * (SIGSTOP) until the group gives B every task, more input comes, and A is
 * let go (SIGCONT): a zombie with an open transaction. Whatever A writes
 * after that must not become visible — its transaction is fenced or
 * aborted — and A stops (exit 1, saying why) or rejoins; B's counts, read
 * read_committed, are exact with each count once. Real Kafka only. */
static void test_zombie_fenced(void **state) {
  (void)state;
  scenario_t *s = &zombie;
  long long t0 = e2e_now_ms();
  start_broker(s);
  if (!s->b.real) {
    fprintf(stderr, "e2e: SKIPPED zombie: exactly_once is refused on `weir broker` (test d)\n");
    assert_int_equal(e2e_broker_stop(&s->b), 0);
    skip();
  }
  assert_int_equal(write_ini_as(s, s->ini_a, s->dir_a, MICROS, NULL, 1, SS_COMMIT_MS), 0);
  assert_int_equal(write_ini_as(s, s->ini_b, s->dir_b, MICROS, NULL, 1, SS_COMMIT_MS), 0);
  proc_t a = e2e_weir_run(&s->b, s->ini_a, s->log_a);
  ss_expect_all_tasks(s->log_a, TASKS, E2E_WAIT_MS);
  produce(s, 1, 3);
  wait_first_output(s);
  proc_t b = e2e_weir_run(&s->b, s->ini_b, s->log_b);
  wait_owned(s, TASKS / 2, "B joined mid-stream");
  fprintf(stderr, "e2e: zombie: B joined; %lld of %lld lines committed\n",
          e2e_committed(&s->b, s->app, s->in, PARTITIONS), s->lines);
  assert_int_equal(kill(a.pid, SIGSTOP), 0);
  long long t_stop = e2e_now_ms();
  wait_owned(s, TASKS, "B took A's tasks");
  fprintf(stderr, "e2e: zombie: B owns every task %lld ms after A froze\n", e2e_now_ms() - t_stop);
  produce(s, 4, 4);
  assert_int_equal(kill(a.pid, SIGCONT), 0);
  int64_t want[SS_WORDS];
  ss_expect(1, 4, want);
  ss_expect_counts(&s->b, s->out, PARTITIONS, want, BROKER_MS, "zombie: output");
  int rc_a = alive(&a) ? proc_stop(&a, SIGTERM, 60000) : proc_wait(&a, 1000);
  fprintf(stderr, "e2e: zombie: A exited %d (%d line(s) on its fencing or abort)\n", rc_a,
          e2e_log_count(s->log_a, "fenced") + e2e_log_count(s->log_a, "aborting the transaction"));
  assert_true(rc_a == 0 || rc_a == 1);
  if (rc_a == 1)
    assert_true(e2e_log_count(s->log_a, "fenced") + e2e_log_count(s->log_a, "aborting") > 0);
  assert_int_equal(proc_stop(&b, SIGTERM, 60000), 0);
  ss_expect_counts(&s->b, s->changelog, PARTITIONS, want, 0, "zombie: final changelog");
  expect_each_count_once(s, want, "zombie fenced");
  fprintf(stderr, "e2e: summary (e): %lld lines; total %lld ms\n", s->lines, e2e_now_ms() - t0);
  assert_int_equal(e2e_broker_stop(&s->b), 0);
}

/* ------------------- f. the broker away past the session (exactly_once) */

/* Kafka only (kafka.sh stop/restart). The broker stays down until A's log
 * shows the lost assignment's abort begin: its session expired, so its
 * transaction can no longer commit. When the broker returns, the abort
 * either works or meets a transaction the coordinator no longer knows
 * (INVALID_TXN_STATE, fatal: the producer is replaced); either way A
 * rejoins, and every count is exact and once. */
static void test_broker_away_past_session(void **state) {
  (void)state;
  scenario_t *s = &lost_eos;
  skip_unless_restartable("broker away past the session");
  long long t0 = e2e_now_ms();
  start_broker(s);
  proc_t a = start_mid_stream(s, 1, NULL, STOP_COMMIT_MS);
  stop_after_commit(s);
  long long t_down = e2e_now_ms();
  assert_int_equal(
      e2e_wait_log(s->log_a, "aborting the transaction: the assignment was lost", 1, BROKER_MS), 0);
  assert_int_equal(kafka_sh("restart"), 0);
  long long t_up = e2e_now_ms();
  assert_true(alive(&a));
  produce(s, 4, 4);
  finish_exact(s, &a, 4, "broker away past the session (exactly_once)");
  fprintf(stderr,
          "e2e: summary (f): %lld lines; broker down for %lld ms; %d producer(s) replaced; all "
          "counted and stopped %lld ms after it came back; total %lld ms\n",
          s->lines, t_up - t_down, e2e_log_count(s->log_a, "a new transactional producer started"),
          e2e_now_ms() - t_up, e2e_now_ms() - t0);
  assert_int_equal(e2e_broker_stop(&s->b), 0);
}

/* --------------------------- g, j. a testing hook's fault (exactly_once, Kafka) */

/* A runs the word count with the testing hook `env` = `value` set, more
 * input comes once it has `sign` in its log and has gone back to the last
 * committed transaction, and every count must be exact and once, exit 0.
 * `what` names the scenario in the messages, `tag` in the summary. */
static void hook_scenario(scenario_t *s, const char *env, const char *value, const char *sign,
                          const char *what, char tag) {
  long long t0 = e2e_now_ms();
  start_broker(s);
  if (!s->b.real) {
    fprintf(stderr, "e2e: SKIPPED %s: exactly_once is refused on `weir broker` (test d)\n", what);
    assert_int_equal(e2e_broker_stop(&s->b), 0);
    skip();
  }
  assert_int_equal(write_ini_as(s, s->ini_a, s->dir_a, MICROS, NULL, 1, SS_COMMIT_MS), 0);
  setenv(env, value, 1);
  proc_t a = e2e_weir_run(&s->b, s->ini_a, s->log_a);
  unsetenv(env);
  ss_expect_all_tasks(s->log_a, TASKS, E2E_WAIT_MS);
  produce(s, 1, 3);
  assert_int_equal(e2e_wait_log(s->log_a, sign, 1, E2E_WAIT_MS), 0);
  assert_int_equal(e2e_wait_log(s->log_a, "back to the last committed transaction", 1, E2E_WAIT_MS),
                   0);
  produce(s, 4, 4);
  finish_exact(s, &a, 4, what);
  fprintf(stderr, "e2e: summary (%c): %lld lines; %d rewind(s); total %lld ms\n", tag, s->lines,
          e2e_log_count(s->log_a, "back to the last committed transaction"), e2e_now_ms() - t0);
  assert_int_equal(e2e_broker_stop(&s->b), 0);
}

/* g. The third commit of input offsets of thread 0 finds its producer failed
 * (librdkafka's rd_kafka_test_fatal_error, through
 * WEIR_FAULT_TXN_FATAL_AFTER): the transaction holds repartition, changelog
 * and output records that must never become visible. A replaces the
 * producer and goes on from the last committed transaction. */
static void test_fatal_producer_error(void **state) {
  (void)state;
  hook_scenario(&fatal_eos, "WEIR_FAULT_TXN_FATAL_AFTER", "3",
                "a new transactional producer started", "fatal producer error (exactly_once)", 'g');
}

/* ---------------------------------- h. idle under exactly_once: no transaction */

/* The __consumer_offsets partition that holds `group`'s offsets: Java's
 * String.hashCode, as the broker computes it, modulo the topic's
 * partitions (kafka.sh sets 8; asked, not assumed). */
static int32_t offsets_partition(rd_kafka_t *rk, const char *group) {
  const rd_kafka_metadata_t *md = NULL;
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "__consumer_offsets", NULL);
  assert_int_equal(rd_kafka_metadata(rk, 0, rkt, &md, 10000), 0);
  assert_true(md->topic_cnt == 1 && md->topics[0].partition_cnt > 0);
  int32_t n = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  int32_t h = 0;
  for (const unsigned char *c = (const unsigned char *)group; *c; c++)
    h = (int32_t)((uint32_t)h * 31u + *c);
  return (h == INT32_MIN ? 0 : h < 0 ? -h : h) % n;
}

static int64_t offsets_end(rd_kafka_t *rk, int32_t partition) {
  int64_t lo = -1, hi = -1;
  assert_int_equal(
      rd_kafka_query_watermark_offsets(rk, "__consumer_offsets", partition, &lo, &hi, 10000), 0);
  return hi;
}

/* Once everything is counted and committed, an idle instance commits
 * nothing: no "committed ... in a transaction" line and no record (offset
 * commit or transaction marker) in its group's __consumer_offsets
 * partition, over 30 commit intervals. An absence needs a window; the
 * window only bounds how long it is looked for: before the fix every
 * interval sent a transaction (two records each), so any machine shows it.
 * More input then commits again. */
static void test_idle_sends_no_transaction(void **state) {
  (void)state;
  scenario_t *s = &idle_eos;
  start_broker(s);
  if (!s->b.real) {
    fprintf(stderr, "e2e: SKIPPED idle under exactly_once: refused on `weir broker` (test d)\n");
    assert_int_equal(e2e_broker_stop(&s->b), 0);
    skip();
  }
  assert_int_equal(write_ini_as(s, s->ini_a, s->dir_a, 0, NULL, 1, SS_COMMIT_MS), 0);
  proc_t a = e2e_weir_run(&s->b, s->ini_a, s->log_a);
  ss_expect_all_tasks(s->log_a, TASKS, E2E_WAIT_MS);
  produce(s, 1, 1);
  int64_t want[SS_WORDS];
  ss_expect(1, 1, want);
  ss_expect_counts(&s->b, s->out, PARTITIONS, want, E2E_WAIT_MS, "idle: phase 1");
  long long deadline = e2e_now_ms() + E2E_WAIT_MS;
  while (e2e_committed(&s->b, s->app, s->in, PARTITIONS) < s->lines && e2e_now_ms() < deadline)
    usleep(100000);
  assert_int_equal(e2e_committed(&s->b, s->app, s->in, PARTITIONS), s->lines);
  const char *line = TXN_COMMITTED;
  assert_true(e2e_wait_log(s->log_a, line, 1, E2E_WAIT_MS) == 0);
  rd_kafka_t *rk = e2e_client(&s->b, RD_KAFKA_PRODUCER, NULL);
  int32_t part = offsets_partition(rk, s->app);
  int n1 = e2e_log_count(s->log_a, line);
  int64_t o1 = offsets_end(rk, part);
  usleep(30 * SS_COMMIT_MS * 1000);
  int n2 = e2e_log_count(s->log_a, line);
  int64_t o2 = offsets_end(rk, part);
  fprintf(stderr, "e2e: idle: %d -> %d transaction lines, __consumer_offsets [%d] %lld -> %lld\n",
          n1, n2, (int)part, (long long)o1, (long long)o2);
  assert_int_equal(n2, n1);
  assert_int_equal(o2, o1);
  produce(s, 2, 2);
  finish_exact(s, &a, 2, "idle under exactly_once, then more input");
  assert_true(e2e_log_count(s->log_a, line) > n2);
  rd_kafka_destroy(rk);
  assert_int_equal(e2e_broker_stop(&s->b), 0);
}

/* ------------------- i. records that fail delivery (exactly_once, Kafka) */

/* message.timeout.ms = 5 s and the broker down until A's log says a record
 * failed delivery: its transaction cannot commit. A aborts it and sends its
 * tasks back to the last committed one, then goes on when the broker is
 * back; every count exact and once, exit 0. Before, a failed delivery
 * stopped weir (exit 1). The session outlives the outage: with the 6 s of
 * the other scenarios, a CI run lost its assignment first (librdkafka timed
 * out no record in the 12 s after the stop, where 8 s was usual), aborted
 * for that, and an abort drops the failed deliveries it purges, so the line
 * awaited never came. */
static void test_failed_delivery_aborts(void **state) {
  (void)state;
  scenario_t *s = &timeout_eos;
  skip_unless_restartable("failed delivery");
  long long t0 = e2e_now_ms();
  start_broker(s);
  proc_t a = start_mid_stream(s, 1, "message.timeout.ms = 5000\nsession.timeout.ms = 120000\n",
                              STOP_COMMIT_MS);
  stop_after_commit(s);
  assert_int_equal(e2e_wait_log(s->log_a, "failed delivery (the first:", 1, BROKER_MS), 0);
  assert_int_equal(kafka_sh("restart"), 0);
  assert_true(alive(&a));
  produce(s, 4, 4);
  finish_exact(s, &a, 4, "failed delivery (exactly_once)");
  fprintf(stderr,
          "e2e: summary (i): %lld lines; %d rewind(s), %d producer(s) replaced; total %lld ms\n",
          s->lines, e2e_log_count(s->log_a, "back to the last committed transaction"),
          e2e_log_count(s->log_a, "a new transactional producer started"), e2e_now_ms() - t0);
  assert_int_equal(e2e_broker_stop(&s->b), 0);
}

/* ------- j. reports without an offset (exactly_once, testing hook) */

/* Thread 0's first five delivery reports are taken for reports without an
 * offset (WEIR_FAULT_UNCONFIRMED_FIRST), as librdkafka 2.0.2 gives for a
 * batch it only believes delivered (thread/resend.h): no such record counts
 * as delivered under exactly_once. The transaction is aborted and the tasks
 * go back to the last committed one (hook_scenario, with g). */
static void test_unconfirmed_delivery_aborts(void **state) {
  (void)state;
  hook_scenario(&unconfirmed_eos, "WEIR_FAULT_UNCONFIRMED_FIRST", "5",
                "delivered without an offset", "reports without an offset (exactly_once)", 'j');
}

/* ------------------------------------------------------------------ main */

static void name(scenario_t *s, const char *tag, int pid) {
  char f[64];
  snprintf(s->in, sizeof s->in, "faults-%s-in-%d", tag, pid);
  snprintf(s->out, sizeof s->out, "faults-%s-out-%d", tag, pid);
  snprintf(s->app, sizeof s->app, "e2e-faults-%s-%d", tag, pid);
  snprintf(s->repartition, sizeof s->repartition, "%s-count-repartition", s->app);
  snprintf(s->changelog, sizeof s->changelog, "%s-" SS_STORE "-changelog", s->app);
#define NAME(field, what)                                                                          \
  snprintf(f, sizeof f, "%s-" what, tag);                                                          \
  e2e_file(s->field, sizeof s->field, f)
  NAME(ini_a, "a.ini");
  NAME(ini_b, "b.ini");
  NAME(log_a, "a.log");
  NAME(log_a2, "a2.log");
  NAME(log_b, "b.log");
  NAME(broker_log, "broker.log");
  NAME(dir_a, "state-a");
  NAME(dir_b, "state-b");
#undef NAME
}

static void setup(int pid) {
  name(&down, "down", pid);
  name(&queue, "queue", pid);
  name(&restore, "restore", pid);
  name(&eos, "eos", pid);
  name(&down_eos, "down-eos", pid);
  name(&queue_eos, "queue-eos", pid);
  name(&zombie, "zombie", pid);
  name(&lost_eos, "lost-eos", pid);
  name(&fatal_eos, "fatal-eos", pid);
  name(&idle_eos, "idle-eos", pid);
  name(&timeout_eos, "timeout-eos", pid);
  name(&unconfirmed_eos, "unconfirmed-eos", pid);
}

E2E_MAIN("faults", setup, cmocka_unit_test_teardown(test_kill9_exactly_once, broker_back),
         cmocka_unit_test_teardown(test_zombie_fenced, broker_back),
         cmocka_unit_test_teardown(test_rebalance_during_restore, broker_back),
         cmocka_unit_test_prestate_setup_teardown(test_full_queue_at_sigterm, NULL, broker_back,
                                                  (void *)&AT_LEAST_ONCE),
         cmocka_unit_test_prestate_setup_teardown(test_broker_down_and_up, NULL, broker_back,
                                                  (void *)&AT_LEAST_ONCE),
         cmocka_unit_test_prestate_setup_teardown(test_full_queue_at_sigterm, NULL, broker_back,
                                                  (void *)&EXACTLY_ONCE),
         cmocka_unit_test_prestate_setup_teardown(test_broker_down_and_up, NULL, broker_back,
                                                  (void *)&EXACTLY_ONCE),
         cmocka_unit_test_teardown(test_fatal_producer_error, broker_back),
         cmocka_unit_test_teardown(test_broker_away_past_session, broker_back),
         cmocka_unit_test_teardown(test_idle_sends_no_transaction, broker_back),
         cmocka_unit_test_teardown(test_failed_delivery_aborts, broker_back),
         cmocka_unit_test_teardown(test_unconfirmed_delivery_aborts, broker_back))
