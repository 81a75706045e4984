/* End to end, on the real Kafka broker: weir's std `window` operator against
 * Kafka Streams itself. One input (several keys on several partitions,
 * record timestamps set by the producer: out of order within grace, late
 * past it, some exactly on a window's close) goes through weir
 * (tests/kstreams/weir-windows.ini) and through tests/kstreams/WindowCounts.java,
 * each computing a tumbling, a hopping, a sliding and a session count with
 * final results only; the two outputs of each must be equal window for
 * window (window_diff.h, itself tested in tests/unit/test_window_diff.c).
 *
 * Skipped, with exit code 77 (CTest: SKIP_RETURN_CODE) and a banner, when
 * the std plugin has no `window` operator yet, or when the broker is
 * `weir broker` (Kafka Streams needs the Admin API, which the mock lacks).
 * WEIR_TEST_WINDOW_FORCE=1 runs it without the operator: the Kafka Streams
 * half runs, weir's fails (to work on the test itself); so does
 * WEIR_TEST_WINDOW_SELFCHECK (below). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "e2e.h"
#include "kstreams_support.h"
#include "window_diff.h"

/* The input: small, so the test costs seconds; the windows: seconds wide, so
 * that a few thousand records at ~150 ms of event time apart cross
 * hundreds of them. */
enum {
  PARTITIONS = 3,
  KEYS = 9,          /* k0..k8; key i on partition i % PARTITIONS */
  RECORDS = 3000,    /* besides one flush record a partition */
  SIZE_MS = 5000,    /* tumbling, hopping, and the sliding time difference */
  ADVANCE_MS = 2000, /* hopping */
  GAP_MS = 1000,     /* session inactivity gap */
  GRACE_MS = 2000,
  KINDS = 4,
};
static const char *const kinds[KINDS] = {"tumbling", "hopping", "sliding", "session"};
/* Event time starts an hour ago, on a minute (windows are aligned to the
 * epoch, as in production): the broker deletes records older than its
 * retention (7 days) by their timestamps, and refuses those too far ahead of
 * its clock (log.message.timestamp.after.max.ms). */
static const long long START_AGO_MS = 3600000LL;
/* Past every window's close (the input spans a few minutes of event time):
 * the last record of each partition closes them all. */
static const long long FLUSH_AHEAD_MS = 600000LL;
/* Both have processed the input: 30-60 s seen here with the machine loaded
 * (JVM start, group join, 12 RocksDB stores); the bound is five times that,
 * so that only a hang reaches it. */
static const int KSTREAMS_WAIT_MS = 300000;
static const int BUILD_WAIT_MS = 600000;

static char in[64], weir_prefix[64], ks_prefix[64], weir_app[64], ks_app[64];
static char ini_path[256], weir_log[256], ks_log[256], build_log[256], state_dir[256];
static char ks_out[512];

/* ------------------------------------------------------------ skip checks */

/* Whether `weir plugin info` lists an operator `window` in the std plugin. */
static int std_has_window(void) {
  char cmd[1024], line[512];
  int found = 0;
  snprintf(cmd, sizeof cmd, "'%s' plugin info '%s/std.so' 2>&1", WEIR_TEST_BINARY,
           WEIR_TEST_PLUGIN_DIR);
  FILE *p = popen(cmd, "r");
  while (p && fgets(line, sizeof line, p))
    found |= strcmp(line, "operator window\n") == 0;
  if (p)
    pclose(p);
  return found;
}

/* ------------------------------------------------------------ the input */

/* xorshift64: the same input every run. */
static uint64_t rnd_state = 0x2545f4914f6cdd1dULL;
static uint64_t rnd(uint64_t below) {
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 7;
  rnd_state ^= rnd_state << 17;
  return rnd_state % below;
}

typedef struct input_stats {
  int in_order, out_of_order, late, on_close, flush;
} input_stats_t;

static void produce(rd_kafka_t *p, int partition, const char *key, long long ts) {
  while (rd_kafka_producev(p, RD_KAFKA_V_TOPIC(in), RD_KAFKA_V_PARTITION(partition),
                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                           RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE("v", 1),
                           RD_KAFKA_V_TIMESTAMP(ts),
                           RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
    rd_kafka_poll(p, 10);
  rd_kafka_poll(p, 0);
}

/* A record's timestamp, from its partition's stream time `clock` (the
 * largest timestamp produced there so far): mostly ahead of it; 20% behind
 * it, up to a window and a grace and a second (so some are past grace). */
static long long next_ts(long long *clock, input_stats_t *st) {
  uint64_t dice = rnd(100);
  if (dice < 20) {
    long long ts = *clock - 1 - (long long)rnd(SIZE_MS + GRACE_MS + 1000);
    if (ts + SIZE_MS + GRACE_MS < *clock)
      st->late++;
    else
      st->out_of_order++;
    return ts;
  }
  /* A pause now and then, so sessions end and bridging records can merge them. */
  *clock += dice < 22 ? 1000 + (long long)rnd(2500) : (long long)rnd(300);
  st->in_order++;
  return *clock;
}

/* Exactly on a window's close: stream time moves to a tumbling window's end
 * plus grace (one record), then a record in that window (its last
 * millisecond: closed, so dropped) or in the next (its first: on time).
 * Kafka Streams drops a record whose window end + grace <= stream time; a
 * grace or a bound off by one millisecond decides these differently. */
static void produce_on_close(rd_kafka_t *p, int part, const char *key, long long *clock,
                             input_stats_t *st) {
  long long end = (*clock - GRACE_MS + SIZE_MS) / SIZE_MS * SIZE_MS;
  *clock = end + GRACE_MS;
  produce(p, part, key, *clock);
  produce(p, part, key, end - 1 + (long long)rnd(2));
  st->in_order++;
  st->on_close++;
}

static void produce_input(const e2e_broker_t *b, input_stats_t *st) {
  long long clock[PARTITIONS];
  char key[16];
  rd_kafka_t *p = e2e_client(b, RD_KAFKA_PRODUCER, NULL);
  memset(st, 0, sizeof *st);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  long long t0 = ((long long)now.tv_sec * 1000 - START_AGO_MS) / 60000 * 60000;
  for (int i = 0; i < PARTITIONS; i++)
    clock[i] = t0 + (long long)rnd(SIZE_MS);
  for (int i = 0; i < RECORDS; i++) {
    int k = (int)rnd(KEYS), part = k % PARTITIONS;
    snprintf(key, sizeof key, "k%d", k);
    if (i + 1 < RECORDS && rnd(100) < 3)
      produce_on_close(p, part, key, &clock[part], st), i++;
    else
      produce(p, part, key, next_ts(&clock[part], st));
  }
  for (int i = 0; i < PARTITIONS; i++, st->flush++)
    produce(p, i, "flush", clock[i] + FLUSH_AHEAD_MS);
  assert_int_equal(rd_kafka_flush(p, 30000), 0);
  rd_kafka_destroy(p);
}

/* ------------------------------------------------------------ the contenders */

/* `@NAME@` of the template -> value. */

static proc_t start_weir(const e2e_broker_t *b) {
  char size[16], advance[16], gap[16], grace[16], retention[16];
  snprintf(size, sizeof size, "%d", SIZE_MS);
  snprintf(advance, sizeof advance, "%d", ADVANCE_MS);
  snprintf(gap, sizeof gap, "%d", GAP_MS);
  snprintf(grace, sizeof grace, "%d", GRACE_MS);
  /* A day, as tests/kstreams' stores keep: the flush record moves stream time
   * ten minutes ahead, and a store that dropped the last windows on that jump
   * before emitting them (a shorter retention did, in weir and could in Kafka
   * Streams) would test retention, not windows. */
  snprintf(retention, sizeof retention, "%d", 86400000);
  const ks_subst_t subs[] = {{"APP_ID", weir_app},
                             {"STATE_DIR", state_dir},
                             {"INPUT", in},
                             {"OUTPUT_PREFIX", weir_prefix},
                             {"SIZE_MS", size},
                             {"ADVANCE_MS", advance},
                             {"GAP_MS", gap},
                             {"GRACE_MS", grace},
                             {"RETENTION_MS", retention}};
  ks_write_ini(WEIR_TEST_SOURCE_DIR "/tests/kstreams/weir-windows.ini", ini_path, subs,
               sizeof subs / sizeof subs[0]);
  return e2e_weir_run(b, ini_path, weir_log);
}

/* Maven builds the app once (offline from ~/.m2 when it can), into the
 * build directory; later runs find it up to date. */

/* Kafka Streams on application.id `app`, writing to `prefix`-KIND, its grace
 * `grace_delta` ms off the test's (0 but for the self-check). */
static proc_t start_kstreams(const e2e_broker_t *b, char *app, char *prefix, int grace_delta,
                             const char *log) {
  char size[16], advance[16], gap[16], grace[16];
  snprintf(size, sizeof size, "%d", SIZE_MS);
  snprintf(advance, sizeof advance, "%d", ADVANCE_MS);
  snprintf(gap, sizeof gap, "%d", GAP_MS);
  snprintf(grace, sizeof grace, "%d", GRACE_MS + grace_delta);
  char *argv[] = {(char *)ks_script,
                  "run",
                  "--bootstrap",
                  (char *)b->bootstrap,
                  "--app-id",
                  app,
                  "--input",
                  in,
                  "--output-prefix",
                  prefix,
                  "--size-ms",
                  size,
                  "--advance-ms",
                  advance,
                  "--gap-ms",
                  gap,
                  "--grace-ms",
                  grace,
                  "--commit-interval-ms",
                  "100",
                  NULL};
  return proc_start(argv, 0, log);
}

/* WEIR_TEST_WINDOW_SELFCHECK=N: a second Kafka Streams, its grace N - 1 ms
 * longer, stands in for weir: 1 shows the test passes on equal outputs (and
 * that Kafka Streams' results do not depend on timing), 2 that a grace one
 * millisecond off fails it. -1: off. */
static int selfcheck(void) {
  const char *v = getenv("WEIR_TEST_WINDOW_SELFCHECK");
  return v && *v ? atoi(v) - 1 : -1;
}

/* A child that has exited is reaped (pid -1) and named. */

/* Done = the group committed the whole input: at least once, each commits
 * only after its outputs are acknowledged, so its final results are all in
 * its output topics by then. Waits until each is done or has exited; which
 * are done goes into *weir_done and *ks_done. */
static void wait_committed(const e2e_broker_t *b, proc_t *weir, proc_t *ks, long long total,
                           int *weir_done, int *ks_done) {
  long long deadline = e2e_now_ms() + KSTREAMS_WAIT_MS, t0 = e2e_now_ms();
  long long w = 0, k = 0, w_at = 0, k_at = 0;
  int w_up = 1, k_up = 1;
  while (e2e_now_ms() < deadline && ((w < total && w_up) || (k < total && k_up))) {
    if (w < total && (w = e2e_committed(b, weir_app, in, PARTITIONS)) >= total)
      w_at = e2e_now_ms() - t0;
    if (k < total && (k = e2e_committed(b, ks_app, in, PARTITIONS)) >= total)
      k_at = e2e_now_ms() - t0;
    w_up = w_up && (w >= total || ks_still_running(weir, "window-kstreams", "weir"));
    k_up = k_up && (k >= total || ks_still_running(ks, "window-kstreams", "Kafka Streams"));
    usleep(100000);
  }
  fprintf(stderr,
          "window-kstreams: committed %lld/%lld by weir (%lld ms), %lld/%lld by Kafka Streams "
          "(%lld ms)\n",
          w, total, w_at, k, total, k_at);
  *weir_done = w >= total;
  *ks_done = k >= total;
}

/* ------------------------------------------------------------ the outputs */

/* All of `topic` into `s`. Returns the records read. */
static long long read_topic(const e2e_broker_t *b, const char *topic, wdiff_set_t *s) {
  rd_kafka_t *rk = e2e_client(b, RD_KAFKA_CONSUMER, NULL);
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(PARTITIONS);
  long long total = 0, got = 0;
  for (int p = 0; p < PARTITIONS; p++) {
    int64_t lo = 0, hi = 0;
    if (rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 5000) == 0)
      total += hi - lo;
    rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  long long deadline = e2e_now_ms() + E2E_WAIT_MS;
  while (got < total && e2e_now_ms() < deadline) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (!m)
      continue;
    if (!m->err) {
      assert_int_equal(wdiff_add(s, m->key, m->key_len, m->payload, m->len), 0);
      got++;
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  assert_int_equal(got, total);
  return got;
}

/* Each kind: weir's windows against Kafka Streams'; the differences
 * printed. Returns the number of differences over all kinds. */
static size_t compare_outputs(const e2e_broker_t *b) {
  size_t all = 0;
  for (int i = 0; i < KINDS; i++) {
    char wt[128], kt[128];
    wdiff_set_t w = {0}, k = {0};
    snprintf(wt, sizeof wt, "%s-%s", weir_prefix, kinds[i]);
    snprintf(kt, sizeof kt, "%s-%s", ks_prefix, kinds[i]);
    read_topic(b, wt, &w);
    read_topic(b, kt, &k);
    fprintf(stderr, "window-kstreams: %-8s weir %zu windows, Kafka Streams %zu\n", kinds[i], w.n,
            k.n);
    size_t d = wdiff_compare(&w, "weir", &k, "Kafka Streams", NULL, 0);
    if (d) {
      fprintf(stderr, "window-kstreams: %s: %zu differences (- weir only, + Kafka Streams only):\n",
              kinds[i], d);
      wdiff_compare(&w, "weir", &k, "Kafka Streams", stderr, 40);
    }
    /* Equal and empty would prove nothing: Kafka Streams must have closed windows. */
    assert_true(k.n >= 50);
    all += d;
    wdiff_free(&w);
    wdiff_free(&k);
  }
  return all;
}

/* ------------------------------------------------------------ the test */

static void test_window_counts_equal_kafka_streams(void **state) {
  const char *topics[2 + 2 * KINDS] = {in};
  char names[2 * KINDS][128];
  input_stats_t st;
  e2e_broker_t b;
  (void)state;
  for (int i = 0; i < KINDS; i++) {
    snprintf(names[2 * i], sizeof names[0], "%s-%s", weir_prefix, kinds[i]);
    snprintf(names[2 * i + 1], sizeof names[0], "%s-%s", ks_prefix, kinds[i]);
    topics[1 + 2 * i] = names[2 * i];
    topics[2 + 2 * i] = names[2 * i + 1];
  }
  ks_build(ks_out, build_log, BUILD_WAIT_MS, "window-kstreams");
  assert_int_equal(e2e_broker_start(&b, topics, PARTITIONS, NULL), 0);
  produce_input(&b, &st);
  fprintf(stderr,
          "window-kstreams: input: %d in order, %d out of order within grace, %d past grace, "
          "%d exactly on a window's close, %d flush\n",
          st.in_order, st.out_of_order, st.late, st.on_close, st.flush);
  /* The cases the test is for are in the input. */
  assert_true(st.out_of_order >= 100 && st.late >= 20 && st.on_close >= 20);

  long long t0 = e2e_now_ms();
  proc_t ks = start_kstreams(&b, ks_app, ks_prefix, 0, ks_log);
  proc_t weir = selfcheck() < 0 ? start_weir(&b)
                                : start_kstreams(&b, weir_app, weir_prefix, selfcheck(), weir_log);
  int weir_done, ks_done;
  wait_committed(&b, &weir, &ks, RECORDS + PARTITIONS, &weir_done, &ks_done);
  int weir_rc = weir.pid > 0 ? proc_stop(&weir, SIGTERM, E2E_WAIT_MS) : 0;
  if (ks.pid > 0)
    proc_stop(&ks, SIGTERM, E2E_WAIT_MS);
  assert_true(ks_done);
  /* Compared even when weir did not finish: the diff shows what it missed. */
  size_t diffs = compare_outputs(&b);
  assert_true(weir_done);
  assert_int_equal(weir_rc, 0);
  fprintf(stderr, "window-kstreams: %zu differences; both ran and were compared in %lld ms\n",
          diffs, e2e_now_ms() - t0);
  assert_int_equal(diffs, 0);
  assert_int_equal(e2e_broker_stop(&b), 0);
}

static void setup(int pid) {
  snprintf(in, sizeof in, "kswin-in-%d", pid);
  snprintf(weir_prefix, sizeof weir_prefix, "kswin-weir-%d", pid);
  snprintf(ks_prefix, sizeof ks_prefix, "kswin-ks-%d", pid);
  snprintf(weir_app, sizeof weir_app, "kswin-weir-app-%d", pid);
  snprintf(ks_app, sizeof ks_app, "kswin-ks-app-%d", pid);
  e2e_file(ini_path, sizeof ini_path, "weir.ini");
  e2e_file(weir_log, sizeof weir_log, "weir.log");
  e2e_file(ks_log, sizeof ks_log, "kstreams.log");
  e2e_file(build_log, sizeof build_log, "kstreams-build.log");
  e2e_file(state_dir, sizeof state_dir, "state");
  /* Beside the build's fixtures: one Maven build per build directory. */
  snprintf(ks_out, sizeof ks_out, "%s/../kstreams", WEIR_TEST_FIXTURE_DIR);
}

int main(void) {
  const char *real = getenv("WEIR_TEST_KAFKA_BOOTSTRAP");
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_window_counts_equal_kafka_streams)};
  const char *force = getenv("WEIR_TEST_WINDOW_FORCE");
  if (!(force && strcmp(force, "1") == 0) && selfcheck() < 0 && !std_has_window())
    return ks_skipped("weir's window operator",
                      "the std plugin has no `window` operator yet (weir plugin info)");
  if (!real || !*real)
    return ks_skipped("weir's window operator",
                      "needs the real Kafka broker (make test's stage 3): Kafka Streams needs the "
                      "Admin API, which `weir broker` lacks");
  return e2e_main("window-kstreams", setup, tests, 1);
}
